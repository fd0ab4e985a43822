"""One way from the page to the server (docs: the page's requests): the scripts' fetches in
requests.js, the document's keys in keys.js, and errors the page reads as fields."""
from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "static" / "js"


def _uses(pattern: str) -> list[str]:
    return sorted(path.name for path in SCRIPTS.glob("*.js") if re.search(pattern, path.read_text()))


def test_one_file_asks_the_server_and_one_listens_to_keys():
    """Mutations: a `fetch(` back in plot.js; a document keydown listener back in
    guard_boxes.js. (embed-listener.js runs in the host page and listens to neither.)"""
    assert _uses(r"\bfetch\(|XMLHttpRequest") == ["requests.js"]
    assert _uses(r"""addEventListener\(\s*["']key(down|up|press)""") == ["keys.js"]


@pytest.mark.parametrize("value", [
    "abc",            # web/query.py: not JSON
    "nan",            # web/query.py: not finite
    "[1e39]",         # sandbox/values.py: past float32
    "[[1, 2], [3]]",  # engine/evaluation.make_input, in the worker: not rectangular
])
def test_a_refused_value_names_its_input_in_an_attribute(client, value):
    """The page reads which input to check from data-input, never from the English message
    (page.js matched "The value of X" before). Mutations: `input_name=name` dropped from
    make_input's rectangular refusal (the worker's case fails); the attribute dropped from
    templates/_error.html (every case fails)."""
    html = client.get("/?" + urllib.parse.urlencode({"f": "x * 2", "x": value})).get_data(as_text=True)
    error = re.search(r'<div class="error"[^>]*>', html).group(0)
    assert 'data-kind="input"' in error and 'data-input="x"' in error


def test_code_that_fails_names_no_input(client):
    html = client.get("/?" + urllib.parse.urlencode({"f": "x +* 2", "x": "1"})).get_data(as_text=True)
    error = re.search(r'<div class="error"[^>]*>', html).group(0)
    assert "data-input" not in error


def test_the_api_error_names_the_input_too(client):
    """The field crosses the worker's pipe (ChainruleError.to_dict/from_dict). Mutation:
    from_dict dropping `input`."""
    answer = client.post("/api/trace", json={"source": "x * 2", "inputs": {"x": [[1, 2], [3]]}})
    assert answer.status_code == 400
    assert answer.get_json()["error"]["input"] == "x"
