"""Box each named module's part of the graph, as torchview draws a model.

A node carries `module` when PyTorch recorded it inside that module's forward (the
innermost named one: cpython/modules.py); a parameter belongs to the module its name
starts with (`model.hidden.weight` to `model.hidden`). Boxes nest by path: `model`
holds `model.hidden`. They are graphviz clusters, drawn after every node, so a
drawing without modules is byte for byte what it was.
"""
from __future__ import annotations

from . import dot_statements

BOX = {"style": "rounded,dashed", "color": "#777777", "fontcolor": "#555555",  # themes.DARK swaps both
       "fontsize": "10", "labeljust": "l"}


def members(trace: dict, dot_ids) -> dict[str, list[str]]:
    """Module path -> the DOT ids drawn inside it (`dot_ids(node)` gives a node's ids)."""
    boxes: dict[str, list[str]] = {}
    kinds = trace.get("modules") or {}
    for node in trace["nodes"]:
        path = node.get("module")
        if path is None and node["kind"] in ("leaf", "input"):
            owner = (node.get("name") or node["label"]).rpartition(".")[0]
            path = owner if owner in kinds else None
        if path is not None:
            boxes.setdefault(path, []).extend(dot_ids(node))
    return boxes


def cluster_lines(boxes: dict[str, list[str]], kinds: dict) -> list[str]:
    """Nested `subgraph cluster_…` blocks for `boxes` (and every module path above them)."""
    if not boxes:
        return []
    paths = set(boxes)
    for path in list(paths):
        while "." in path:
            path = path.rpartition(".")[0]
            paths.add(path)
    ordered = sorted(paths)
    number = {path: index for index, path in enumerate(ordered)}

    def block(path: str, depth: int) -> list[str]:
        pad = "\t" * depth
        kind = kinds.get(path)
        label = f"{path} ({kind})" if kind else path
        lines = [f"{pad}subgraph cluster_m{number[path]} {{\n",
                 f"{pad}\tlabel={dot_statements.quote(label)}\n",
                 f"{pad}\tid={dot_statements.quote(f'module-{number[path]}')}\n",
                 f"{pad}\tclass=\"cr-module\"\n"]
        lines += [f"{pad}\t{key}={dot_statements.quote(value)}\n" for key, value in BOX.items()]
        for child in ordered:
            if child.rpartition(".")[0] == path:
                lines += block(child, depth + 1)
        lines += [f"{pad}\t{dot_statements.quote(node_id)}\n" for node_id in boxes.get(path, [])]
        lines.append(f"{pad}}}\n")
        return lines

    return [line for path in ordered if "." not in path for line in block(path, 1)]
