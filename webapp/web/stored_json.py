"""A GET route's JSON answer kept as the bytes sent, by its URL.

Why: the gate keeps each answer as JSON text and parses it on every hit; the route then
serialises the dict again (`jsonify`). For a plot's 16 KB of samples that was 0.6-1.0 ms
of the web process's one core per request (bench/cache_hit_cpu.py), and a class opening
the gallery asks for each plot 200 times. The same URL always gives the same answer (the
query is read from the URL alone and every job is deterministic), so the bytes `jsonify`
made the first time are the bytes of every later answer. Only answers are kept: a refusal
goes through the gate (which keeps those that are the same every time) and the error
handler, as before.
"""
from __future__ import annotations

from flask import Response, current_app, jsonify, request

from ..cache import note
from ..services import services


def answer_by_url(compute) -> Response:
    """`jsonify(compute())`, or the bytes it gave before for this URL."""
    key = ("json", request.full_path)
    stored = services().images  # responses by URL (images.py keeps its bodies there too)
    body = stored.get(key)
    if body is not None:
        note(True)  # a miss says nothing: the gate's own cache may still answer
        return current_app.response_class(body, mimetype=current_app.json.mimetype)
    response = jsonify(compute())
    body = response.get_data()
    stored.put(key, body, len(body) + len(key[1]))
    return response
