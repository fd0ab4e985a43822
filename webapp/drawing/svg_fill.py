"""Write a node's real value and gradient texts into an SVG laid out with placeholders.

A template is cut once into fixed bytes and slots (node id, row, centre x); filling
it is then a join, so a point change costs well under a millisecond.
"""
from __future__ import annotations

import re
from xml.sax.saxutils import escape

from ..memo import MiB, bytes_bounded

NODE = re.compile(rb'<g id="(?P<id>[^"]+)" class="node[^"]*">')
TEXT = re.compile(rb'<text text-anchor="start" x="(?P<x>[-\d.]+)"(?P<rest>[^>]*)>(?P<content>#+)</text>')
POINTS = re.compile(rb'points="([^"]+)"')
EDGE = re.compile(rb'<g id="(?P<id>[^"]+)" class="edge[^"]*">')
ROLES = ("value", "grad")  # the order of render.value_texts
ASKED = "grad ?"  # a practice page's gradient row before the student has answered it
ROW = {role: f' data-row="{role}">'.encode() for role in ROLES}


def _template_bytes(key, compiled) -> int:
    """The template (the key) and its cut copy, plus each slot's tuple."""
    parts, slots = compiled
    return 2 * len(key[0]) + 50 * len(parts) + 120 * len(slots)


@bytes_bounded(64 * MiB, size=_template_bytes)  # was 256 entries: a large graph's was ~3.8 MB
def compile_template(template: bytes) -> tuple[list[bytes], list[tuple[str, int]]]:
    """Cut the SVG at each placeholder: parts[i] + text of slots[i] + parts[i+1] + …"""
    parts, slots, position = [], [], 0
    starts = [(m.start(), m.group("id").decode().replace("&#45;", "-")) for m in NODE.finditer(template)]
    starts.append((len(template), None))
    for (start, node_id), (end, _) in zip(starts, starts[1:]):
        if node_id is None:
            continue
        body = template[start:end]
        found = POINTS.search(body)
        xs = [float(p.split(b",")[0]) for p in found.group(1).split()] if found else []
        centre = f"{(min(xs) + max(xs)) / 2:.2f}".encode() if xs else None
        for row, text in enumerate(TEXT.finditer(body)):
            begin, finish = start + text.start(), start + text.end()
            parts.append(template[position:begin])
            x = centre if centre is not None else text.group("x")
            anchor = b"middle" if centre is not None else b"start"
            parts.append(b'<text text-anchor="' + anchor + b'" x="' + x + b'"' + text.group("rest") + b">")
            slots.append((node_id, row))
            parts.append(b"</text>")
            position = finish
    parts.append(template[position:])
    return parts, slots


def fill_values(template: bytes, texts: dict, kinds: dict | None = None,
                names: dict | None = None, asked=frozenset()) -> bytes:
    """Replace each node's placeholder rows (all `#`) with its texts, centred in the box.

    With `kinds`, each node's <g> also carries data-kind, data-value and data-grad: the
    page's player reads the final texts from there, never from text it has changed.
    A node in `asked` (practice mode) shows ASKED in its gradient row and carries no
    gradient at all: the page gets it once the student has answered.
    """
    if asked:
        texts = {k: (t[0], None) if k in asked else t for k, t in texts.items()}
        shown = {k: (t[0], ASKED) if k in asked else t for k, t in texts.items()}
        svg = fill_values(template, shown)
        return annotate(svg, texts, kinds, names) if kinds is not None else svg
    parts, slots = compile_template(template)
    out = [parts[0]]
    for index, (node_id, row) in enumerate(slots):
        wanted = [(role, t) for role, t in zip(ROLES, texts.get(node_id, ())) if t is not None]
        opening = parts[1 + 3 * index]
        if row < len(wanted):  # data-row names the row, so the player never counts rows
            role, text = wanted[row]
            opening, real = opening[:-1] + ROW[role], escape(text).encode()
        else:
            real = b""
        out += [opening, real, parts[2 + 3 * index], parts[3 + 3 * index]]
    svg = b"".join(out)
    return annotate(svg, texts, kinds, names) if kinds is not None else svg


def accessible_name(name: str, value: str | None, grad: str | None) -> str:
    """What a screen reader says for a node: its name, value and gradient."""
    parts = [name]
    if value is not None:
        parts.append(f"value {value}")
    if grad is not None:
        parts.append(f"gradient {grad.removeprefix('grad ')}")
    return ", ".join(parts)


def annotate(svg: bytes, texts: dict, kinds: dict, names: dict | None = None) -> bytes:
    """Add data-kind / data-value / data-grad to each trace node's <g> (op circles have none),
    and with `names` role="img" and an aria-label (name, value, gradient)."""
    def attributes(match):
        node_id = match.group("id").decode().replace("&#45;", "-")
        if node_id not in kinds:
            return match.group(0)
        value, grad = texts.get(node_id, (None, None))
        extra = f' data-kind="{escape(kinds[node_id])}"'
        if value is not None:
            extra += f' data-value="{escape(value, QUOTE)}"'
        if grad is not None:
            extra += f' data-grad="{escape(grad, QUOTE)}"'
        if names is not None:
            label = accessible_name(names.get(node_id, node_id), value, grad)
            extra += f' role="img" aria-label="{escape(label, QUOTE)}"'
        return match.group(0)[:-1] + extra.encode() + b">"
    return NODE.sub(attributes, svg)


QUOTE = {'"': "&quot;"}


def value_edge_ends(trace: dict) -> dict:
    """{SVG edge id: (source, target, part)} of the values view (render.values_dot's ids):
    an input's edge into an operation, and (part "op") the operation's edge to its box."""
    ends = {f"e{i}-{e['source']}-{e['target']}": (e["source"], e["target"], None)
            for i, e in enumerate(trace["edges"])}
    ends.update({f"{n['id']}-op-out": (n["id"], n["id"], "op")
                 for n in trace["nodes"] if n["kind"] in ("op", "output")})
    return ends


def annotate_edges(svg: bytes, ends: dict) -> bytes:
    """Add data-source / data-target (trace node ids) and data-part to each edge's <g>, so the
    player finds an edge by its ends instead of parsing ids."""
    def attributes(match):
        edge_id = match.group("id").decode().replace("&#45;", "-")
        if edge_id not in ends:
            return match.group(0)
        source, target, part = ends[edge_id]
        extra = f' data-source="{escape(source, QUOTE)}" data-target="{escape(target, QUOTE)}"'
        extra += f' data-part="{part}"' if part else ""
        return match.group(0)[:-1] + extra.encode() + b">"
    return EDGE.sub(attributes, svg)
