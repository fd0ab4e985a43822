"""The page's links to unfold a folded graph (fold=0) and to fold it again."""
from __future__ import annotations

from ..drawing.layout_cost import drawn
from ..limits import MAX_DRAWN_NODES, MAX_LAYOUT_COST


def fold_links(state, inputs: list[str], trace: dict | None = None) -> dict:
    """The page's links to unfold (fold=0) and, once unfolded, to fold again. No link to
    unfold a graph too large to draw unfolded: it would only end in a refusal."""
    boxes = drawn_unfolded(trace)
    if boxes > MAX_DRAWN_NODES:
        return {"unfold": None, "refold": None, "too_large": f"Too large to unfold here: {boxes:,} "
                f"boxes and operations, more than the {MAX_DRAWN_NODES:,} chainrule draws (the JSON "
                "trace of /api/trace has every node)."}
    if trace and trace.get("fold", {}).get("layout_cost", 0) > MAX_LAYOUT_COST:
        return {"unfold": None, "refold": None, "too_large": "Too large to unfold here: its arrows "
                "reach across too much of the graph for graphviz to lay it out in time (the JSON "
                "trace of /api/trace has every node)."}
    chosen = state.fold
    try:
        state.fold = False
        unfold = f"/?{state.query(inputs)}"
        state.fold = "auto"
        refold = f"/?{state.query(inputs)}" if chosen is False else None
    finally:
        state.fold = chosen
    return {"unfold": unfold, "refold": refold}


def drawn_unfolded(trace: dict | None) -> int:
    """What the drawing would hold unfolded (as render._check_size counts it)."""
    return drawn(trace["nodes"], unfolded=True) if trace and "fold" in trace else 0
