"""The notebook player widget (issue 18): a real kernel, the widget's state, the static fallback."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "log(x1) + x1*x2 - sin(x2)"


def test_widget_state_holds_the_trace_in_a_real_kernel():
    """Mutation: `trace = traitlets.Dict()` without `.tag(sync=True)` leaves it out of the state."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("anywidget")
    from nbclient import NotebookClient
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        f"import webapp\nw = webapp.graph({SOURCE!r}, x1=2, x2=5).player()\nw")]
    NotebookClient(notebook, timeout=120, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    output = next(o for o in notebook.cells[0].outputs if o.get("output_type") == "execute_result")
    model_id = output["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert "<svg" in output["data"]["image/svg+xml"]  # the static fallback travels along
    states = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    state = states[model_id]["state"]
    assert state["_esm"].strip().endswith("export default { render };")
    names = [row["name"] for row in state["trace"]["tape"]]
    assert names == ["x1", "x2", "v1", "v2", "v3", "v4", "v5"]
    assert round(state["trace"]["output"]["value"], 3) == 11.652
    assert len(state["steps"]) == 7 + 7 and state["step"] == 0


def test_widget_css_is_scoped():
    """Mutation: adding `body { margin: 0 }` to CSS fails this."""
    from webapp.widget import CSS
    selectors = [rule.split("{")[0].strip() for rule in CSS.split("}") if "{" in rule]
    assert selectors and all(s.strip().startswith(".chainrule-widget") for part in selectors
                             for s in part.split(","))


def test_static_fallback_opens_in_chromium(page, tmp_path):
    """Mutation: dropping the SVG from _repr_html_ leaves no g#n1 and fails this."""
    import webapp
    html = webapp.graph(SOURCE, x1=2, x2=5).player()._repr_html_()
    file = tmp_path / "exported.html"
    file.write_text(f"<!doctype html><html><body><p id=host>host text</p>{html}</body></html>")
    page.goto(file.as_uri())
    assert page.locator(".chainrule-widget svg g#n1").count() == 1
    assert page.locator(".cw-steps li").count() == 14
    assert "x1.grad = 5.5" in page.locator(".cw-steps li").last.inner_text()
    margin = page.evaluate("getComputedStyle(document.body).margin")
    assert margin == "8px"  # the browser default: the widget did not restyle its host
    assert not page.errors
