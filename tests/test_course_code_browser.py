"""A lecturer pastes a course's cell as published, and steps through it with the keys.

These programs are outside chainrule's own interpreter (f-strings, `nn.Module`, `optim`),
so they run as real CPython in the sandbox. Typed into the editor, the graph loads, every
node fills in as the server's trace says after stepping to the end (test_page_typing's
check), parameters are named by their module path, and the prints are shown.

Mutations seen failing: jobs.handle without the CPython retry (the page shows the
interpreter's refusal, no graph loads); render.values_dot without module boxes (the
training cell's boxes are missing).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .test_page_typing import loads, open_blank, step_and_check, type_source, wait_until

pytestmark = pytest.mark.browser

# pytorch/tutorials beginner_source/basics/autogradqs_tutorial.py, the whole tutorial as
# published (tests/course_corpus/, whose first line says what was changed).
AUTOGRADQS = (Path(__file__).parent / "course_corpus" / "pt_basics_autogradqs.py").read_text()

# A training cell in the shape every course teaches: a Module subclass, SGD, f-strings.
TRAINING = '''import torch
from torch import nn

torch.manual_seed(0)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 3)
        self.out = nn.Linear(3, 1)

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x)))

model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
X = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
y = torch.tensor([[1.0], [0.0]])
for epoch in range(3):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(X), y)
    loss.backward()
    optimizer.step()
    print(f"epoch {epoch}: loss {loss.item():.4f}")
loss'''


def settled(page, quiet=1.5, timeout=30.0):
    """Wait until no graph has loaded for `quiet` seconds (typing a long cell may load twice:
    the editor's input event fires for the pasted body and again for the typed end)."""
    import time
    deadline = time.monotonic() + timeout
    last, since = loads(page), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = loads(page)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


@pytest.mark.parametrize("source, names", [(AUTOGRADQS, {"inp", "out"}),
                                           (TRAINING, {"model.hidden.weight", "model.out.bias"})],
                         ids=["pytorch-tutorials-autogradqs", "module-and-sgd"])
def test_a_course_cell_typed_as_published_fills_in(page, live_server, artifacts, source, names):
    open_blank(page, live_server)
    before = loads(page)
    type_source(page, source)
    wait_until(page, f"window.chainrule.state().loads > {before}", timeout=60)
    settled(page)
    assert page.locator("#error .error").count() == 0
    page.click("#graph")  # leave the editor, as the lecturer does, to use the keys
    step_and_check(page, live_server, source)
    labels = set(page.eval_on_selector_all("#graph g.node text:first-of-type",
                                           "ts => ts.map(t => t.textContent)"))
    assert names <= labels, labels
    if source is TRAINING:  # the model boxed by module, and each optimizer.step() said
        boxes = page.eval_on_selector_all("#graph g.cr-module text",
                                          "ts => ts.map(t => t.textContent)")
        assert boxes == ["model (Net)", "model.hidden (Linear)", "model.out (Linear)"], boxes
        steps = page.locator("section[aria-label='Optimizer steps'] ol.updates > li")
        assert steps.count() == 3
        assert steps.nth(0).is_visible()
        assert "optimizer.step() (SGD) changed 4 parameters" in steps.nth(0).inner_text()
    page.screenshot(path=str(artifacts / f"course-{len(source)}.png"), full_page=True)
