"""One number formatter per language, checked against each other: static/js/format.js run in
Chromium over a table of scalars and tensors must print exactly what render.format_number
and render.format_value print (the server writes the node texts; the page's panel and hover
card write theirs with format.js).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from webapp.formatting import format_number, format_value

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).parent.parent / "static" / "js" / "format.js"

# Floats only where JSON keeps them floats; whole floats from 1e4 on are the one known
# difference (JSON cannot tell 10000 from 10000.0; format.js takes the float rule).
SCALARS = [0.0, -0.0, 1.0, -1.0, 2.5, 0.1, 1 / 3, -2 / 3, math.pi, 12.125, 12.135, 0.00012345,
           0.0001, 0.00009999, 1e-5, -1.5e-7, 9999.0, 9999.5, 99995.0, 10000.0, 12345.678, 1e10,
           -3.14159e21, 5e-324, 1.7976931348623157e308, 0.5, 1.0005, 2.00049, 123.45, 7, 42, -3,
           "NaN", "Infinity", "-Infinity", None, True, False]
VALUES = [
    (2.0, [], None),
    ([1.0, 2.0, 3.0], [3], None),
    ([0.0, 4.0, 8.0, 12.0, 16.0, 20.0, 24.0, 28.0], [8], None),
    ([float(i) / 7 for i in range(9)], [9], None),
    ([[1.0, -2.0], [3.5, 4.25]], [2, 2], None),
    (None, [64, 100], {"min": -0.25, "max": 3.0}),
    (None, [3], None),
    ([1.5, -2.5], [], None),  # a node whose shape is unknown
]


@pytest.fixture()
def formatter(page):
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=SCRIPT.read_text())
    return page


def test_js_numbers_equal_the_python_formatter(formatter):
    """Mutation: in format.js g4, use `x.toExponential(4)` (5 digits): most rows differ;
    or drop the ties-to-even line: 12.125 prints 12.13 where Python prints 12.12."""
    shown = formatter.evaluate("table => table.map(window.chainruleFormat.number)",
                               json.loads(json.dumps(SCALARS, allow_nan=False)))
    expected = [format_number(v) for v in SCALARS]
    assert [(v, s) for v, s, e in zip(SCALARS, shown, expected) if s != e] == []


def test_js_vectors_equal_the_python_formatter(formatter):
    """Mutation: set WHOLE = 3 in format.js: the 8-entry vector is cut."""
    rows = [[value, shape, summary] for value, shape, summary in VALUES]
    shown = formatter.evaluate("rows => rows.map(r => window.chainruleFormat.value(r[0], r[1], r[2]))", rows)
    assert shown == [format_value(value, shape, summary) for value, shape, summary in VALUES]
