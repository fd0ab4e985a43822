"""The web process's CPU per cached request, route by route (the opening burst's cost).

    .venv/bin/python bench/cache_hit_cpu.py [--repeat 200] [--each] [--profile] [--bodies FILE]
    .venv/bin/python bench/cache_hit_cpu.py --server 20 [--repeat 200]

Why CPU and not wall time: on a machine other sessions also load, the wall clock of a
request measures the others; `time.process_time` of this process does not. The app is
called as waitress calls it (a WSGI environ, the body read to its end, one thread). The
gallery is computed first (webapp/warm_gallery.py, as the production server does at
start-up), so every request timed is a cache hit. `--bodies FILE` writes each URL's status
and body digest, and FILE.d/ each response's headers and body, to compare the bytes before
and after a change; `--profile` prints cProfile's top functions. `--server N` asks the
production server instead (waitress, N clients at once) and reads its CPU from /proc.
"""
from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from werkzeug.test import EnvironBuilder  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.warm_gallery import gallery_urls, warm_gallery  # noqa: E402
from webapp.web.examples import EXAMPLES  # noqa: E402

STUDENT = "127.0.0.9"


def requests_to_time() -> list[tuple[str, str, str, dict | None]]:
    """(route, method, url, form): every gallery page and plot, and for a few examples the
    other cached routes a page leads to."""
    asked = []
    for example in EXAMPLES:
        for kind, url in gallery_urls(example):
            asked.append(("/" if kind == "page" else "/api/plot", "GET", url, None))
    for example in EXAMPLES[:4]:
        asked.append(("/graph.svg", "GET", f"/graph.svg?{example.query}", None))
        form = dict(urllib.parse.parse_qsl(example.query))
        asked.append(("/partials/graph", "POST", "/partials/graph", form))
    return asked


def _start_response(status, headers, exc_info=None):
    assert status.startswith("200"), status  # every request timed is an answer
    return lambda data: None


def through_the_server(repeat: int, clients: int) -> None:
    """The same hits through the production server (waitress, its HTTP and threads): the web
    process's own CPU (/proc, children excluded) per request, `clients` keep-alive
    connections at once, each from its own loopback address with its cookie."""
    import http.client
    import threading

    from bench.benchmark import free_port, start_server
    from bench.cpu_share import cpu_snapshot

    port = free_port()
    server = start_server(port)
    try:
        teacher = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        asked = [(route, url) for route, method, url, _ in requests_to_time() if method == "GET"]
        for _, url in asked:  # the gallery, computed first (as warm_gallery.py does at start-up)
            teacher.request("GET", url)
            teacher.getresponse().read()

        def browse(number: int, urls: list[str]) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120,
                                                    source_address=(f"127.0.1.{number + 1}", 0))
            cookie = None
            for url in urls:
                connection.request("GET", url, headers={"Cookie": cookie} if cookie else {})
                response = connection.getresponse()
                response.read()
                assert response.status == 200, (response.status, url)
                cookie = (response.getheader("Set-Cookie") or cookie or "").split(";", 1)[0] or None

        for route in dict.fromkeys(route for route, _ in asked):
            urls = [url for r, url in asked if r == route]
            browse(0, urls)  # this client's cookie, and every answer a hit
            before = cpu_snapshot(server.pid)["web"]
            threads = [threading.Thread(target=browse, args=(n, urls * (repeat // len(urls))))
                       for n in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            spent = cpu_snapshot(server.pid)["web"] - before
            count = clients * len(urls) * (repeat // len(urls))
            print(f"{route:16} {1000 * spent / count:.3f} ms of the server's CPU per cached request "
                  f"through waitress ({count} requests, {clients} clients at once)")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--each", action="store_true", help="print every URL's CPU too")
    parser.add_argument("--bodies", help="write each URL's status and body digest here")
    parser.add_argument("--server", type=int, metavar="CLIENTS",
                        help="through the production server instead, CLIENTS at once")
    args = parser.parse_args()
    if args.server:
        through_the_server(args.repeat, args.server)
        return 0
    app = create_app()
    answered, seconds = warm_gallery(app)
    print(f"gallery: {answered} answers in {seconds:.1f} s")
    client = app.test_client()
    env = {"REMOTE_ADDR": STUDENT}
    asked = requests_to_time()
    digests = []
    for route, method, url, form in asked:  # warm: every later request is a hit
        response = client.open(url, method=method, data=form, environ_base=env)
        digests.append(f"{response.status_code} {hashlib.sha256(response.data).hexdigest()[:16]} "
                       f"{len(response.data)} {method} {url} {sorted((form or {}).items())}")
        response.close()
    if args.bodies:
        with open(args.bodies, "w") as handle:
            handle.write("\n".join(digests) + "\n")
        os.makedirs(args.bodies + ".d", exist_ok=True)
        for number, (route, method, url, form) in enumerate(asked):
            response = client.open(url, method=method, data=form, environ_base=env)
            with open(f"{args.bodies}.d/{number:02d}", "wb") as handle:
                handle.write(b"".join(f"{k}: {v}\n".encode() for k, v in sorted(response.headers.items()))
                             + b"\n" + response.data)
    cookie = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
    profiler = cProfile.Profile() if args.profile else None
    spent: dict[str, list[float]] = {}
    for route, method, url, form in asked:
        # The app alone, as waitress calls it: a WSGI environ, the body read to its end.
        builder = EnvironBuilder(path=url.split("?")[0], method=method, data=form,
                                 query_string=url.partition("?")[2],
                                 environ_base={**env, "HTTP_COOKIE": cookie})
        environ = builder.get_environ()
        body = environ["wsgi.input"].read()
        started = time.process_time()
        if profiler:
            profiler.enable()
        for _ in range(args.repeat):
            answer = app({**environ, "wsgi.input": io.BytesIO(body)}, _start_response)
            b"".join(answer)
            getattr(answer, "close", lambda: None)()
        if profiler:
            profiler.disable()
        spent.setdefault(route, []).append((time.process_time() - started) / args.repeat)
        if args.each:
            print(f"  {1000 * spent[route][-1]:7.3f} ms  {method} {url[:90]}")
    for route, times in spent.items():
        print(f"{route:16} {1000 * sum(times) / len(times):.3f} ms CPU per cached request "
              f"(mean of {len(times)} URLs, {args.repeat} each; range "
              f"{1000 * min(times):.3f}-{1000 * max(times):.3f})")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
