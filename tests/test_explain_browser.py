"""The chain-rule panel says the server's sentences (trace.explain) at every step, typed in."""
from __future__ import annotations

import re

import pytest

from webapp.web.examples import BY_SLUG
from webapp.lesson.steps import animation_steps

from .test_page_typing import oracle, open_blank, page_inputs, type_source, wait_until

pytestmark = pytest.mark.browser

# ∂ before an operator symbol (`∂+/∂×`) is the old, unreadable explanation.
OPERATOR_AS_VARIABLE = re.compile(r"∂\s*[-+×÷−^·*/@]")


@pytest.mark.parametrize("slug", ["baydin", "quadratic"])
def test_each_step_shows_the_explanation_of_the_trace(page, live_server, slug):
    """Typed, then stepped with →: the panel is explain[phase][node] of the step the GIF and
    /steps.zip take (webapp.lesson.steps), and never uses an operator symbol as a variable.
    Mutation: in panel.js sentence(), skip `trace.explain` (the bare `∂y/∂v1 = …` shows)."""
    example = BY_SLUG[slug]
    open_blank(page, live_server)
    type_source(page, example.source)
    for name, value in example.inputs.items():
        wait_until(page, f"!!document.querySelector('#inputs input[name=\"{name}\"]')")
        page.fill(f'#inputs input[name="{name}"]', str(value))
    if example.inputs:
        page.keyboard.press("Enter")  # Enter in an input runs the function
        first, value = next(iter(example.inputs.items()))
        wait_until(page, "JSON.parse(document.getElementById('graph').dataset.trace)"
                         f".leaves['{first}'].value === {value}")
    page.evaluate("document.activeElement.blur()")
    trace = oracle(live_server, example.source, page_inputs(page))
    steps = animation_steps(trace)
    wait_until(page, f"window.chainrule.state().steps === {len(steps)} && "
                     "!document.querySelector('#graph.stale')")
    page.keyboard.press("Home")
    for step in steps:
        page.keyboard.press("ArrowRight")
        shown = page.inner_text("#chain .formula")
        assert shown == trace["explain"][step["phase"]][step["node"]], step
        assert not OPERATOR_AS_VARIABLE.search(shown), shown
