"""chainrule from Python, without the server: `trace`, `graph`, `graph_of`, `recording`.

This module does not import torch (own_tensors.py, behind `graph_of`, does).

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

from .drawing import render
from .errors import ChainruleError, unwrap  # noqa: F401 (ChainruleError: what a refusal raises)
from .bounded import run_job


def __getattr__(name: str):
    """`recording` and `graph_of` trace your own tensors in this process: they import torch,
    so they load on first use (the CLI and `graph`/`trace` start a second faster without it)."""
    if name in ("recording", "graph_of"):
        from . import own_tensors
        return getattr(own_tensors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
PLAYER_SCRIPTS = ("format", "keys", "player", "panel", "page")
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


# The frame grows and shrinks with its content (the panel's text changes at every step). It
# measures the player, not the document: a document is never shorter than its frame, so
# the frame could only grow (review3 saw 830 px frames with empty space below).
FIT_FRAME = ("(function(){var f=window.frameElement;if(!f)return;"
             "var p=document.querySelector('.chainrule-player');function fit(){"
             "f.style.height=Math.ceil(p.getBoundingClientRect().bottom+window.scrollY+4)+'px';}"
             "new ResizeObserver(fit).observe(p);fit();})();")
