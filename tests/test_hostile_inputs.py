"""Hostile and malformed programs over HTTP: a clear 4xx each, in time, server still up."""
from __future__ import annotations

import time

import pytest

from .hostile import ALL, ROWS


def test_table_is_large_and_covers_every_family():
    assert len(ROWS) >= 60
    assert all(len(rows) >= 5 for rows in ALL.values())


@pytest.mark.parametrize("family, source, inputs, kind, fragment", ROWS,
                         ids=[f"{row[0]}-{i}" for i, row in enumerate(ROWS)])
def test_refused_with_a_clear_message(client, app, family, source, inputs, kind, fragment):
    started = time.monotonic()
    response = client.post("/api/trace", json={"source": source, "inputs": inputs})
    elapsed = time.monotonic() - started
    # A body over 64 KiB is refused before it is read (413), everything else is a 400.
    assert response.status_code == (413 if len(source) > 65_000 else 400), \
        response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["kind"] == kind
    assert fragment in error["message"]
    assert "Traceback" not in error["message"] and len(error["message"]) < 400
    assert elapsed < app.config["DEADLINE_SECONDS"] + 2


def test_server_still_answers_after_the_table(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    response = client.post("/api/trace", json={"source": "x * 3", "inputs": {"x": 2}})
    assert response.get_json()["leaves"]["x"]["grad"] == 3.0


def test_syntax_error_has_line_and_column(client):
    response = client.post("/api/trace", json={"source": "y = x +\nz", "inputs": {"x": 1}})
    error = response.get_json()["error"]
    assert (error["kind"], error["line"], error["col"]) == ("syntax", 1, 8)


def test_import_message_names_the_import(client):
    error = client.post("/api/trace", json={"source": "x = 1\nimport os"}).get_json()["error"]
    assert error == {"kind": "unsupported", "line": 2, "col": 1, "message":
                     "`import os` is not part of the function language; torch and math are already there."}
