"""Issue 28 in the page's own formatter: format.js writes a 1-element tensor `4 [1]` and
never −0, exactly as formatting.py does (the panel and the hover card use format.js)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from webapp.formatting import format_number, format_value

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).parent.parent / "static" / "js" / "format.js"
VALUES = [([4.0], [1]), ([[0.8]], [1, 1]), ([-0.0], [1]), ([-0.0, 1.0], [2]), (-0.0, []), ([2.5], [])]


def test_js_writes_one_element_tensors_and_zeros_as_python_does(page):
    """Mutation: drop the `flat.length === 1` line of format.js (`[1] (4)` comes back);
    or give g4 back its `Object.is(value, -0)` sign (−0 comes back)."""
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=SCRIPT.read_text())
    shown = page.evaluate("rows => rows.map(r => window.chainruleFormat.value(r[0], r[1], null))",
                          json.loads(json.dumps(VALUES)))
    assert shown == [format_value(v, s) for v, s in VALUES]
    assert shown[:3] == ["4 [1]", "0.8 [1×1]", "0 [1]"]
    assert page.evaluate("window.chainruleFormat.number(-0)") == format_number(-0.0) == "0"
