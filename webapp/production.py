"""Serve the app with waitress: one process, an async I/O loop, a few threads for the app.

Why waitress: a class is sixty browsers, and some of them are slow or idle (or hostile:
a request sent one header at a time, then nothing). A thread-per-connection server
(gunicorn's gthread, werkzeug) ties a thread to each such client until it finishes, so
32 half-sent requests stop it. Waitress reads and buffers every request completely in
its asynchronous loop and only then hands it to a thread, so threads only ever run the
app, and slow clients cost a socket each, not a thread. It is pure Python (no compiler,
no C extension), so `pip install .` works wherever torch does.

A live class's event streams (GET /class/CODE/events) do not hold a thread either: an app
thread answers the request, then the open socket is handed to the class's hub, which
appends each change to its output buffer for waitress's loop to send
(web/class_stream.py). So one process holds thousands of streams with 32 threads.

The CPU work happens in the evaluator pool; the web threads only wait on it (and on the
layout service's running `dot` processes). The app keeps no state between requests that
matters for correctness; for several processes or machines behind a load balancer, a
shared Redis (CHAINRULE_CACHE_URL, shared_state.py) shares caches and fairness, and a
shared CHAINRULE_SECRET lets every process accept the others' cookies.
"""
from __future__ import annotations

import json
import os
import threading

from waitress import create_server
from waitress.task import ErrorTask

from .web.class_stream import StreamingChannel
from .errors import ChainruleError

SETTINGS = {
    "threads": 32,               # app threads: each waits on a worker, it rarely computes
    # Open sockets: students' keep-alive connections, slow ones, and a live class's event
    # streams (each a socket in the loop, no thread: web/class_stream.py), 1,000 and more.
    "connection_limit": 4000,
    "channel_timeout": 30,       # a connection silent this long is closed
    "cleanup_interval": 10,
    "max_request_header_size": 32 * 1024,
    "max_request_body_size": 1024 * 1024,  # the app refuses above 64 KiB with its own 413
    "asyncore_use_poll": True,   # poll(), not select(): no 1024-socket ceiling
    "ident": "chainrule",
}


class JsonErrorTask(ErrorTask):
    """waitress's own refusals (431 headers too large, 400 malformed) in the API's JSON shape."""

    def execute(self):
        error = self.request.error
        body = json.dumps(ChainruleError("input", f"{error.reason}: {error.body}.",
                                         status=error.code).to_dict()).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(StreamingChannel):
    error_task_class = JsonErrorTask


def _boot_workers(app) -> None:
    """Start the evaluator pool now, so the first student does not wait ~5 s for workers
    to import torch (it started on first use), then compute the example gallery
    (warm_gallery.py); /healthz answers meanwhile."""
    from .sandbox import gate
    with app.app_context():
        gate.pool()
    # CHAINRULE_WARM_GALLERY=0: benchmarks that time cold requests from the first second
    if os.environ.get("CHAINRULE_WARM_GALLERY", "1") != "0":
        from .warm_gallery import warm_gallery
        try:
            answered, seconds = warm_gallery(app)
        except Exception as error:  # a warm-up that fails costs speed, never the server
            print(f"chainrule: the example gallery was not computed ahead ({error})", flush=True)
            return
        print(f"chainrule: the example gallery is computed ({answered} answers, {seconds:.1f} s)",
              flush=True)


def run_production(app, host: str, port: int, threads: int = 32) -> None:
    server = create_server(app, host=host, port=port, **dict(SETTINGS, threads=threads))
    server.channel_class = JsonErrorChannel
    threading.Thread(target=_boot_workers, args=(app,), daemon=True).start()
    print(f"chainrule: waitress serving on http://{host}:{port}", flush=True)
    server.run()
