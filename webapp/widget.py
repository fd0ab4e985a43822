"""The player as a notebook widget (anywidget): JupyterLab, Colab, VS Code and Notebook 7.

Its front end is the small ES module below, shipped in the package (nothing from a
CDN). Its CSS only targets `.chainrule-widget …`, so it never restyles the notebook.
Without a widget front end (nbconvert, GitHub), the static SVG and the step list show.
"""
from __future__ import annotations

import html

import anywidget
import traitlets

from .lesson.steps import animation_steps

ESM = r"""
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "chainrule-widget";
  root.tabIndex = 0;
  root.innerHTML = '<div class="cw-bar"><button data-d="-1">◀ Back</button>' +
    '<button data-d="1">Step ▶</button><span class="cw-count"></span></div>' +
    '<div class="cw-graph"></div><pre class="cw-caption" aria-live="polite"></pre>';
  el.appendChild(root);
  const graph = root.querySelector(".cw-graph");
  const count = root.querySelector(".cw-count");
  const caption = root.querySelector(".cw-caption");
  graph.innerHTML = model.get("svg");
  function show() {
    const steps = model.get("steps");
    const at = model.get("step");
    count.textContent = at + " / " + steps.length;
    graph.querySelectorAll(".cw-current").forEach(function (g) { g.classList.remove("cw-current"); });
    const step = at > 0 ? steps[at - 1] : null;
    if (step) {
      const node = graph.querySelector('[id="' + step.node + '"]');
      if (node) node.classList.add("cw-current");
    }
    // The step's whole sentence, as the page, the GIF and steps.zip show it (trace.explain).
    caption.textContent = step ? step.caption : "Step ▶ to start";
  }
  function move(delta) {
    const n = model.get("steps").length;
    model.set("step", Math.max(0, Math.min(n, model.get("step") + delta)));
    model.save_changes();
  }
  root.querySelectorAll("button").forEach(function (b) {
    b.addEventListener("click", function () { move(Number(b.dataset.d)); });
  });
  root.addEventListener("keydown", function (event) {  // only while the widget has focus
    if (event.key === "ArrowRight") { move(1); event.preventDefault(); }
    if (event.key === "ArrowLeft") { move(-1); event.preventDefault(); }
  });
  model.on("change:step", show);
  show();
}
export default { render };
"""

CSS = """
.chainrule-widget { font-family: system-ui, sans-serif; color: #111; background: #fff; padding: 4px; }
.chainrule-widget .cw-bar button { margin-right: 4px; }
.chainrule-widget .cw-graph svg { max-width: 100%; height: auto; }
.chainrule-widget .cw-current polygon, .chainrule-widget .cw-current path { stroke: #D55E00; stroke-width: 3; }
.chainrule-widget .cw-caption, .chainrule-widget .cw-steps li { white-space: pre-wrap; margin: 4px 0; }
"""


class PlayerWidget(anywidget.AnyWidget):
    """Step through the forward and backward passes of one trace."""

    _esm = ESM
    _css = CSS
    trace = traitlets.Dict().tag(sync=True)
    svg = traitlets.Unicode().tag(sync=True)
    steps = traitlets.List().tag(sync=True)
    explain = traitlets.Dict().tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)

    def __init__(self, trace: dict, svg: str, **kwargs):
        steps = animation_steps(trace)
        super().__init__(trace=trace, svg=svg[svg.index("<svg"):], steps=steps,
                         explain=trace.get("explain", {"forward": {}, "backward": {}}), **kwargs)

    def _repr_html_(self) -> str:
        """The static fallback: the graph and every step's whole explanation (each line of a
        fan-out), scoped styles only."""
        items = "".join(f"<li>{html.escape(s['caption'])}</li>" for s in self.steps)
        return (f'<div class="chainrule-widget"><style>{CSS}</style>'
                f'<div class="cw-graph">{self.svg}</div><ol class="cw-steps">{items}</ol></div>')

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data = dict(data or {})
        data["text/html"] = self._repr_html_()
        data["image/svg+xml"] = self.svg
        return (data, bundle[1]) if isinstance(bundle, tuple) else data
