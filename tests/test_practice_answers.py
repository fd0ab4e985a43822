"""Issue 26, item 10: a practice page must not carry the answers of the steps still to be
asked (a student opening the developer tools read every gradient in data-trace, in the
SVG's data-grad and its gradient rows). Not built yet: strict xfail, so the fix flips it.
"""
from __future__ import annotations

import json
import re

import pytest


@pytest.mark.xfail(strict=True, reason="issue 26 item 10 (third bullet): practice pages "
                   "still carry every gradient; see the note in the test's docstring")
def test_a_practice_page_carries_no_gradient(client):
    """sin(x)·x at 0.7: x's gradient, sin(0.7) + 0.7·cos(0.7) = 1.1797…, is the last
    question; nowhere in the page before it is asked."""
    html = client.get("/?f=sin(x)*x&x=0.7&practice=1").get_data(as_text=True)
    trace = json.loads(re.search(r"data-trace='([^']*)'", html).group(1).replace("&#39;", "'"))
    grads = [n.get("grad") for n in trace["nodes"] if n.get("grad") is not None]
    assert grads == [] and "data-grad" not in html and "1.1797" not in html and "1.18" not in html
