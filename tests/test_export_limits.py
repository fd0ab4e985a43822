"""Exports run where limits hold, and their headers stay small (issue 26, items 1 and 8).

A 116-frame GIF once took the web process from 35 MiB to 1,295 MiB (decoded frames pasted
in the web process, never returned), and its captions header was 11 KB (a 502 behind
nginx). Frames are now drawn and encoded in an export process under an address-space
cap, a CPU cap and a deadline, charged like an evaluation; the web process keeps only the
finished file. bench/export_memory.py measures the web process under three long GIFs.
"""
from __future__ import annotations

import io
import json
import os
import time
import weakref
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image

from webapp.drawing import handouts
from webapp.sandbox import exporter
from webapp.services import services

LOOP = "y = x\nfor i in range({n}):\n    y = sin(y) * 0.999 + x * {c}\ny"


def _query(n: int, c: str) -> str:
    """A distinct loop per test (c), so no test reads another's cached export."""
    return f"f={quote(LOOP.format(n=n, c=c))}&x=1"


def _gif_captions(body: bytes) -> list[str]:
    return json.loads(Image.open(io.BytesIO(body)).info["comment"])


def test_the_web_process_decodes_no_frame(client, monkeypatch):
    """Every frame is decoded in the export process: here, in the web process, opening an
    image fails the request. Before: animated_gif decoded all 116 frames here. Mutation
    seen failing: _exported calling handouts.animated_gif in-process (500)."""
    def no_decoding(*args, **kwargs):
        raise AssertionError("the web process decoded an image")
    monkeypatch.setattr(Image, "open", no_decoding)
    gif = client.get("/graph.gif?" + _query(2, "0.0011"))
    archive = client.get("/steps.zip?" + _query(2, "0.0011"))
    monkeypatch.undo()
    assert gif.status_code == 200 and archive.status_code == 200
    assert Image.open(io.BytesIO(gif.data)).n_frames == len(_gif_captions(gif.data)) == 18


def test_a_gif_holds_a_few_decoded_frames_at_once(client, monkeypatch):
    """write_gif streams: of a 34-frame GIF at most FRAME_THREADS + 3 full-size images are
    alive at once (one being written, the previous one to diff against, those prepared
    ahead, the palette's). Mutation seen failing: every frame quantized into a list before
    the first is written (34 alive)."""
    source = LOOP.format(n=4, c="0.0012")
    trace = client.post("/api/trace", json={"source": source, "inputs": {"x": 1.0}, "fold": "auto"}).json
    alive, most = set(), [0]  # ids of the images not yet freed
    new, quantize = Image.new, Image.Image.quantize

    def counted(image):
        alive.add(id(image))
        weakref.finalize(image, alive.discard, id(image))
        most[0] = max(most[0], len(alive))
        return image
    monkeypatch.setattr(Image, "new", lambda *a, **k: counted(new(*a, **k)))
    monkeypatch.setattr(Image.Image, "quantize", lambda self, *a, **k: counted(quantize(self, *a, **k)))
    with client.application.app_context():
        body, captions = handouts.animated_gif(trace)
    monkeypatch.undo()
    assert Image.open(io.BytesIO(body)).n_frames == len(captions) == 34
    assert 2 <= most[0] <= 2 * handouts.FRAME_THREADS + 3, most[0]


def test_an_export_runs_in_a_fairness_slot_and_a_limit_cools_its_sender(app, client, monkeypatch):
    """The export is charged like an evaluation: it runs inside its sender's slot, and an
    export stopped at its memory share (64 MiB here) is a 400 with a sentence and a
    cool-down. Mutations seen failing: `with gate.charged()` removed from exporter.export
    (outside a slot, no cool-down); the RLIMIT_AS line of export_process.main removed (200)."""
    clients = services(app).clients
    inside, penalised, real_slot = [0], [], clients.slot

    class Slot:
        def __init__(self, *args):
            self.slot = real_slot(*args)

        def __enter__(self):
            inside[0] += 1
            return self.slot.__enter__()

        def __exit__(self, *exc):
            inside[0] -= 1
            return self.slot.__exit__(*exc)
    seen = []
    real_run = exporter.run_export_process
    monkeypatch.setattr(clients, "slot", lambda *args: Slot(*args))
    monkeypatch.setattr(clients, "penalise", lambda who: penalised.append(who))
    monkeypatch.setattr(exporter, "run_export_process",
                        lambda *args: seen.append(inside[0]) or real_run(*args))
    monkeypatch.setitem(app.config, "EXPORT_MEMORY_BYTES", 64 * 2**20)
    answer = client.get("/graph.gif?" + _query(2, "0.0013"))
    assert seen == [1]
    assert answer.status_code == 400, answer.data[:200]
    error = answer.json["error"]
    assert error["kind"] == "limit" and "memory" in error["message"] and len(penalised) == 1


def _sessions_alive(session: int) -> list[str]:
    """Processes still in the export process's session (it and the `dot`s it started)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] not in "ZX":
            alive.append(f"{stat.parent.name} {fields[0]} {(stat.parent / 'cmdline').read_bytes()[:60]}")
    return alive


def test_an_export_past_its_deadline_is_stopped_with_its_dots(app, client, monkeypatch):
    """A deadline of 0.5 s: the export is a 400 naming it, and nothing of the export
    process's session is left running. Mutation seen failing: the deadline check in
    exporter._exchange removed (200 after the whole GIF)."""
    started = []
    real_popen = exporter.subprocess.Popen

    def popen(*args, **kwargs):
        process = real_popen(*args, **kwargs)
        if "webapp.drawing.export_process" in args[0]:  # not the workers nor the layout's `dot`s
            started.append(process.pid)
        return process
    monkeypatch.setattr(exporter.subprocess, "Popen", popen)
    monkeypatch.setitem(app.config, "EXPORT_DEADLINE_SECONDS", 0.5)
    answer = client.get("/graph.gif?" + _query(6, "0.0014"))
    assert answer.status_code == 400
    assert answer.json["error"] == {"kind": "limit", "message": (
        "Drawing this export took longer than 0.5 seconds, so it was stopped; fold the graph "
        "(fold=1) or export fewer steps.")}
    assert len(started) == 1
    give_up = time.monotonic() + 3  # SIGKILL is delivered, then the killed exit
    while _sessions_alive(started[0]) and time.monotonic() < give_up:
        time.sleep(0.05)
    assert _sessions_alive(started[0]) == []


def test_exports_wait_for_a_free_export_process_then_say_busy(app, client, monkeypatch):
    """With every export process taken, a request waits EXPORT_WAIT_SECONDS, then is a 429
    in the API's shape. Mutation seen failing: the semaphore's acquire skipped (200)."""
    monkeypatch.setitem(app.config, "EXPORT_WAIT_SECONDS", 0.2)
    slots = services(app).export_slots
    taken = 0
    while slots.acquire(blocking=False):
        taken += 1
    try:
        answer = client.get("/steps.zip?" + _query(2, "0.0015"))
    finally:
        for _ in range(taken):
            slots.release()
    assert taken == 2 and answer.status_code == 429
    assert answer.json["error"] == {"kind": "busy", "message":
                                    "The server is drawing other animations; try again in a moment."}


def test_an_export_larger_than_the_web_process_takes_is_a_limit(client, monkeypatch):
    """The web process reads at most MAX_EXPORT_BYTES of an export. Mutation seen failing:
    the size check in exporter._exchange removed (200 with a 40 KB GIF)."""
    monkeypatch.setattr(exporter, "MAX_EXPORT_BYTES", 10_000)
    answer = client.get("/graph.gif?" + _query(2, "0.0016"))
    assert answer.status_code == 400
    assert answer.json["error"]["kind"] == "limit"
    assert answer.json["error"]["message"].startswith("This export would be larger than 0.00954 MiB")


def test_a_long_gifs_headers_fit_a_proxys_buffer(client):
    """42 frames: the captions (3.5 KB of JSON) go to the body, not a header: every header is
    at most 2 KB and all of them fit nginx's default 4 KB buffer; `Link` names /steps.json,
    whose captions are the GIF's own. Before: a 19 KB X-Chainrule-Captions for 116 frames.
    Mutation seen failing: HEADER_BYTES = 10**6 in exports.py (a 4.5 KB header)."""
    query = _query(5, "0.0017")
    answer = client.get("/graph.gif?" + query)
    assert answer.status_code == 200
    headers = list(answer.headers.items())
    assert max(len(value) for _, value in headers) <= 2048
    assert sum(len(name) + len(value) + 4 for name, value in headers) <= 4096
    assert "X-Chainrule-Captions" not in answer.headers
    link = answer.headers["Link"]
    assert link == f'</steps.json?{query}>; rel="describedby"; type="application/json"'
    steps = client.get(link[1:link.index(">")]).json
    captions = _gif_captions(answer.data)
    assert [step["caption"] for step in steps] == captions and len(captions) == 42
    assert len(json.dumps(captions)) > 3000  # as a header, with the others, past 4 KB


def test_the_export_process_gets_no_secrets(monkeypatch):
    """The export process sees where programs and fonts are, never the server's secret or
    its Redis URL. Mutation seen failing: env=os.environ in run_export_process."""
    monkeypatch.setenv("CHAINRULE_SECRET", "s3cret")
    monkeypatch.setenv("CHAINRULE_CACHE_URL", "redis://10.0.0.5:6379/0")
    seen = {}
    real_popen = exporter.subprocess.Popen

    def popen(*args, **kwargs):
        if "webapp.drawing.export_process" in args[0]:
            seen.update(kwargs["env"])
        return real_popen(*args, **kwargs)
    monkeypatch.setattr(exporter.subprocess, "Popen", popen)
    empty = {"nodes": [], "edges": [], "forward": [], "backward": [], "steps": []}
    job = json.dumps({"kind": "zip", "trace": empty, "theme": "light"}).encode()
    body = exporter.run_export_process(job, 20, 2**30)
    assert body.startswith(b"PK") and seen["PATH"] == os.environ["PATH"]
    assert "CHAINRULE_SECRET" not in seen and "CHAINRULE_CACHE_URL" not in seen
