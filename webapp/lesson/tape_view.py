"""The evaluation trace as the page's table shows it: each cell's text, formatted once here
with the server's formatter, so the table says exactly what the graph and the panel say."""
from __future__ import annotations

from ..limits import MAX_TAPE_ROWS
from .naming import format_value
from .notation import bar, derivatives, relation, term


def _expr(row: dict, node: dict) -> str:
    """The operation cell; a tensor input says what it is once (its value has its own cell)."""
    if node["kind"] in ("input", "leaf") and row["shape"]:
        dims = "×".join(str(s) for s in row["shape"])
        return f"{row['name']}: {'input' if node['kind'] == 'input' else 'leaf'} [{dims}], requires_grad"
    return row["expr"]


def tape_view(trace: dict | None) -> dict | None:
    """{"rows": [...], "more": n}; each row has texts for value, tangent and adjoint."""
    if not trace or not trace.get("tape"):
        return None
    nodes = {n["id"]: n for n in trace["nodes"]}
    out = {}
    for edge in trace["edges"]:
        out.setdefault(edge["source"], []).append(edge)
    rows = []
    for row in trace["tape"][:MAX_TAPE_ROWS]:
        node = nodes[row["id"]]
        shape = row["shape"]
        contributions = [{"text": term(format_value(e["grad"], shape)), "from": nodes[e["target"]]["name"],
                          "from_id": e["target"]}
                         for e in out.get(row["id"], []) if e.get("grad") is not None]
        adjoint = row["adjoint"]
        rows.append({
            "id": row["id"], "name": row["name"], "expr": _expr(row, node), "line": row["line"],
            "kind": node["kind"], "bar": bar(row["name"]),
            "value": format_value(row["value"], shape, node.get("summary")),
            "tangent": format_value(row["tangent"], shape) if row.get("tangent") is not None else "",
            "adjoint": (format_value(adjoint, shape, node.get("grad_summary"))
                        if adjoint is not None or node.get("grad_summary") else ""),
            "contributions": contributions if len(contributions) > 1 else [],
            # `≈` where the contributions as shown do not add up to the total as shown
            "sign": relation([e["grad"] for e in out.get(row["id"], []) if e.get("grad") is not None],
                             adjoint) if len(contributions) > 1 else "=",
        })
    output = next((n["name"] for n in trace["nodes"] if n["kind"] == "output"), "y")
    # the caption's v̄ = ∂y/∂v holds only after a backward() from one scalar's 1
    plain = (trace["practice"].get("derivatives", True) if "practice" in trace else  # its seed is asked
             derivatives([(n["shape"], n.get("grad")) for n in trace["nodes"] if n["kind"] == "output"]))
    return {"rows": rows, "more": max(0, len(trace["tape"]) - MAX_TAPE_ROWS), "output": output,
            "derivatives": plain}
