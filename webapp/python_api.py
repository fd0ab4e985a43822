"""chainrule from Python, without the server: `trace`, `graph`, `graph_of`, `recording`.

`trace` and `graph` take text and run it through the same whitelisted interpreter as
the server, in a worker process under the server's limits (`trusted=True` runs it in
this process). `graph_of` is the trusted path for a notebook: it draws a
tensor you computed yourself, as torchviz does, with values and gradients.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import torch
from torch.overrides import TorchFunctionMode

from .drawing import render
from .errors import ChainruleError, unwrap  # noqa: F401 (ChainruleError: what a refusal raises)
from .bounded import run_job
from .engine.tracing import KEY, GraphTracer, build_trace, walk


def trace(source: str, grad_output=None, trusted: bool | None = None, fold=None, **inputs) -> dict:
    """The trace of a function, as `POST /api/trace` returns it.

    The text runs in a worker process under the server's limits; `trusted=True` (or
    CHAINRULE_TRUSTED=1) runs it in this process instead (see bounded.py). `fold` as in
    the API: True folds repeated structure, "auto" only large graphs (as pages do).
    """
    answer = run_job({"kind": "trace", "source": source, "inputs": inputs,
                      "grad_output": grad_output, "fold": fold}, trusted)
    return unwrap(answer)


def graph(source: str, grad_output=None, trusted: bool | None = None, fold=None, **inputs) -> "Graph":
    """A drawable graph of a function typed as text: `.svg()`, `.png()`, `.dot()`."""
    return Graph(trace(source, grad_output=grad_output, trusted=trusted, fold=fold, **inputs))


class recording(TorchFunctionMode):
    """Record every intermediate value while your own code runs, for `graph_of`.

        with webapp.recording():
            loss = model(x)
        webapp.graph_of(loss)
    """

    def __init__(self):
        super().__init__()
        self.sequence = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        outputs = result if isinstance(result, tuple) else (result,)
        for output in outputs:
            fn = getattr(output, "grad_fn", None) if isinstance(output, torch.Tensor) else None
            if fn is not None and KEY not in fn.metadata:
                self.sequence += 1
                fn.metadata[KEY] = {"seq": self.sequence, "value": output.detach(), "name": None,
                                    "origin": None, "line": None, "col": None, "constants": []}
        return result


def graph_of(tensor: torch.Tensor, params: dict | None = None) -> "Graph":
    """Draw a tensor you computed in your own PyTorch code (trusted; no interpreter).

    Leaves are named from `params` ({"w1": w1}); gradients come from a backward pass
    on a retained graph with `torch.autograd.grad`, so your tensors' `.grad` are left
    as they were. Intermediate values appear when computed under `recording()`.
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError("graph_of takes a tensor")
    params = dict(params or {})
    tracer = GraphTracer()
    fns = walk(tensor.grad_fn) if tensor.grad_fn is not None else []
    leaves = [fn.variable for fn in fns if hasattr(fn, "variable")]
    names = {id(t): name for name, t in params.items()}
    named_leaves = {}
    for index, leaf in enumerate(leaves):
        named_leaves[names.get(id(leaf), f"leaf{index + 1}")] = leaf
        tracer.leaf_order[id(leaf)] = (index, leaf)
    if tensor.requires_grad and tensor.grad_fn is not None:
        tracer.before_backward(tensor)
        gradient = torch.ones_like(tensor)
        grads = torch.autograd.grad(tensor, leaves, gradient, retain_graph=True, allow_unused=True)
        for handle_ in tracer.hooks:
            handle_.remove()
        result = build_trace(tracer, tensor, named_leaves, inputs=[])
        grad_of = {id(leaf): grad for leaf, grad in zip(leaves, grads)}
        for node in result["nodes"]:  # leaves show the gradient this pass computed
            if node["kind"] in ("leaf", "input") and node["label"] in named_leaves:
                grad = grad_of[id(named_leaves[node["label"]])]
                node["grad"] = None if grad is None else _json(grad)
    else:
        result = build_trace(tracer, tensor, named_leaves, inputs=[])
    result["output"] = {"value": _json(tensor), "shape": list(tensor.shape)}
    return Graph(result)


def _json(tensor):
    from .engine.jsonvalues import describe
    return describe(tensor.detach(), 1000)["value"]


class Graph:
    """A trace that can draw itself; Jupyter shows it as SVG."""

    def __init__(self, trace_data: dict, view: str = "values"):
        self.trace = trace_data
        self.view = view

    def autograd(self) -> "Graph":
        """The same graph in PyTorch's own view (grad_fn nodes)."""
        return Graph(self.trace, "autograd")

    def dot(self) -> str:
        return render.dot_source(self.trace, self.view)

    def svg(self) -> str:
        return render.draw(self.trace, self.view, "svg").decode()

    def png(self) -> bytes:
        return render.draw(self.trace, self.view, "png")

    def save(self, path) -> Path:
        """Write .svg, .png or .dot, chosen by the file's extension."""
        path = Path(path)
        kind = path.suffix.lstrip(".").lower()
        if kind == "svg":
            path.write_text(self.svg())
        elif kind == "png":
            path.write_bytes(self.png())
        elif kind in ("dot", "gv"):
            path.write_text(self.dot())
        else:
            raise ValueError(f"unknown format {path.suffix!r}: use .svg, .png or .dot")
        return path

    def _repr_svg_(self) -> str:
        return self.svg()

    def player(self):
        """The player as a notebook widget (anywidget); the static SVG where widgets cannot run."""
        from .widget import PlayerWidget
        return PlayerWidget(self.trace, self.svg())

    def inline_player(self) -> "Player":
        """The page's own player in one HTML fragment (classic Jupyter only)."""
        return Player(self)


# The page's scripts the notebook player needs, in load order (presenter mode stays out).
PLAYER_SCRIPTS = ("format", "player", "panel", "page")
# The page's rules the notebook player needs: those of its own parts, never `:root`, `body`
# or `*`, which would restyle the whole notebook.
PLAYER_PARTS = (".graph", ".chain", ".player", ".step-status")


def player_css(css: str) -> str:
    """The top-level rules of chainrule.css whose every selector is one of PLAYER_PARTS, the
    animation's keyframes, the reduced-motion block, and `:root`'s colours moved onto the player."""
    kept, depth, start = [], 0, 0
    for index, char in enumerate(css):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                rule = css[start:index + 1].strip()
                prelude = rule.split("{")[0].split("*/")[-1].strip()
                selectors = [part.strip() for part in prelude.split(",")]
                if prelude == ":root":  # the page's colours, on the player only
                    kept.append(".chainrule-player " + rule[rule.index("{"):])
                elif prelude.startswith(("@keyframes flow", "@media (prefers-reduced-motion")) or \
                        all(sel.startswith(PLAYER_PARTS) for sel in selectors):
                    kept.append(rule[rule.index(prelude):])
                start = index + 1
    return "\n".join(kept)


class Player:
    """The page's player in one HTML fragment: inline SVG, trace, script and style, in a frame
    of its own (srcdoc), so two players in one notebook never share element ids."""

    def __init__(self, graph_: Graph):
        self.graph = graph_

    def document(self) -> str:
        """The player as a whole HTML document (what the frame shows)."""
        static = Path(__file__).parent
        folder = static / "static" if (static / "static").is_dir() else static.parent / "static"
        script = "\n".join((folder / "js" / f"{name}.js").read_text() for name in PLAYER_SCRIPTS)
        style = player_css((folder / "css" / "chainrule.css").read_text())
        svg = self.graph.svg()
        svg = svg[svg.index("<svg"):]
        data = html.escape(json.dumps(self.graph.trace), quote=True)
        controls = ('<div class="player"><button type="button" data-action="reset">|◀ Reset</button>'
                    '<button type="button" data-action="back">◀ Back</button>'
                    '<button type="button" data-action="play">▶ Play</button>'
                    '<button type="button" data-action="forward">Step ▶</button>'
                    '<span class="step-status" id="step-status"></span></div>')
        return ('<!doctype html><html><head><meta charset="utf-8">'
                f'<style>body{{margin:0;font-family:sans-serif}}{style}</style></head><body>'
                f'<div class="chainrule-player">{controls}'
                f'<div class="graph" id="graph" data-trace="{data}">{svg}</div>'
                f'<div class="chain" id="chain"></div></div><script>{script}</script>'
                f'<script>{FIT_FRAME}</script></body></html>')

    def _repr_html_(self) -> str:
        return (f'<iframe class="chainrule-player-frame" title="chainrule player" '
                f'style="width:100%;border:0;height:{self._height()}px" '
                f'srcdoc="{html.escape(self.document(), quote=True)}"></iframe>')

    def _height(self) -> int:
        """A first height (the SVG's, in px, plus the controls and the panel) until the frame's
        script measures its content."""
        match = re.search(r'<svg[^>]*height="([\d.]+)pt"', self.graph.svg())
        return int(float(match.group(1)) * 4 / 3) + 220 if match else 480


# The frame grows and shrinks with its content (the panel's text changes at every step).
FIT_FRAME = ("(function(){var f=window.frameElement;if(!f)return;function fit(){"
             "f.style.height=(document.documentElement.scrollHeight+4)+'px';}"
             "new ResizeObserver(fit).observe(document.body);fit();})();")
