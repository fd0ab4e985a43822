"""/graph.svg, /graph.png and /graph.dot: real graphviz, ids in the SVG, caching headers."""
from __future__ import annotations

import re
import struct
import urllib.parse
import xml.etree.ElementTree as ET


from . import seeds

SVG = "{http://www.w3.org/2000/svg}"


def url(path, source, **inputs):
    return f"{path}?" + urllib.parse.urlencode({"f": source, **inputs})


def svg_node_ids(data: bytes) -> set[str]:
    root = ET.fromstring(data)
    return {g.get("id") for g in root.iter(f"{SVG}g") if "node" in (g.get("class") or "")}


def test_seed001_svg_carries_every_trace_node_id(client):
    response = client.get(url("/graph.svg", seeds.SEED001_QUADRATIC))
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    trace = client.post("/api/trace", json={"source": seeds.SEED001_QUADRATIC}).get_json()
    ids = svg_node_ids(response.data)
    assert {n["id"] for n in trace["nodes"]} <= ids
    text = response.get_data(as_text=True)
    for label in ("x1", "x7", "−3.4", "grad 0.8", "grad 0.2", "legend"):
        assert label in text


def test_same_query_same_bytes_and_etag(client):
    first = client.get(url("/graph.svg", "sin(x) * x", x=2))
    second = client.get(url("/graph.svg", "sin(x) * x", x=2))
    assert first.data == second.data
    assert first.headers["ETag"] == second.headers["ETag"]
    assert "max-age" in first.headers["Cache-Control"]
    again = client.get(url("/graph.svg", "sin(x) * x", x=2),
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_png_is_a_real_png(client):
    response = client.get(url("/graph.png", seeds.SEED001_EXPRESSION, x1=2, x2=2))
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", response.data[16:24])
    assert width > 300 and height > 100


def test_dot_source_for_restyling(client):
    response = client.get(url("/graph.dot", seeds.SEED001_EXPRESSION, x1=2, x2=2))
    assert response.status_code == 200 and response.mimetype == "text/vnd.graphviz"
    text = response.get_data(as_text=True)
    assert text.startswith("digraph") and "rankdir=LR" in text and 'id=n1' in text


def test_autograd_view_shows_pytorchs_nodes(client):
    response = client.get(url("/graph.svg", seeds.SEED001_QUADRATIC, view="autograd"))
    text = response.get_data(as_text=True)
    for name in ("AccumulateGrad", "PowBackward0", "MulBackward0", "AddBackward0", "SubBackward0"):
        assert name in text


def test_seed002_network_and_200_iteration_loop_render(client):
    assert client.get(url("/graph.svg", seeds.SEED002_NETWORK)).status_code == 200
    loop = "y = x\nfor i in range(200):\n    y = y * 0.99 + 0.01\ny"
    response = client.get(url("/graph.svg", loop, x=1, fold=0))  # every node (folding.py)
    assert response.status_code == 200
    assert len(svg_node_ids(response.data)) > 400
    folded = client.get(url("/graph.svg", loop, x=1))  # by default the loop body is folded
    assert folded.status_code == 200 and len(svg_node_ids(folded.data)) < 40


def test_refusal_is_a_small_image_saying_why(client):
    response = client.get(url("/graph.svg", "import os"))
    assert response.status_code == 400 and response.mimetype == "image/svg+xml"
    assert "import os" in response.get_data(as_text=True)
    png = client.get(url("/graph.png", "1 +"))
    assert png.status_code == 400 and png.data[:4] == b"\x89PNG"


def _loop(k: int) -> str:
    return f"y = x\nfor i in range({k}):\n    y = y * 0.99 + 0.01\ny"


def _drawn_nodes(client, k: int) -> int:
    root = ET.fromstring(client.get(url("/graph.svg", _loop(k), x=1, fold=0)).data)
    return sum(1 for g in root.iter(f"{SVG}g") if "node" in (g.get("class") or "").split())


def _refusal(client, k: int) -> tuple[int, int]:
    """(nodes, cap) from the refusal of a loop of k turns, as the user reads it."""
    response = client.get(url("/graph.dot", _loop(k), x=1, fold=0))  # unfolded (folding.py)
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    found = re.fullmatch(r"This graph has ([\d,]+) nodes, more than the ([\d,]+) chainrule draws; "
                         r"the JSON trace still has every node\.", message)
    assert found, message
    return tuple(int(g.replace(",", "")) for g in found.groups())


def test_graph_past_the_node_cap_is_refused_clearly(client):
    """The count in the refusal grows as the drawing does (each loop turn adds the nodes two
    small SVGs differ by), and the cap it names holds exactly: the most turns under it are
    drawn (as DOT, no layout), one more is refused. Nothing is copied from the code.

    Mutations: `drawn = len(trace["nodes"])` in render._check_size (the count grows by 4
    a turn, not 6); `if drawn > MAX_DRAWN_NODES - 6` (the largest fitting graph is refused)
    or `drawn > MAX_DRAWN_NODES + 6` (one turn too many is drawn)."""
    per_turn = _drawn_nodes(client, 2) - _drawn_nodes(client, 1)
    (at_1000, cap), (at_500, same_cap) = _refusal(client, 1000), _refusal(client, 500)
    assert at_1000 - at_500 == per_turn * 500 and cap == same_cap
    base = at_1000 - per_turn * 1000
    largest = (cap - base) // per_turn  # the most loop turns whose drawing fits the cap
    assert client.get(url("/graph.dot", _loop(largest), x=1, fold=0)).status_code == 200
    _refusal(client, largest + 1)


def test_missing_f_is_explained(client):
    response = client.get("/graph.svg")
    assert response.status_code == 400
    assert "f parameter" in response.get_data(as_text=True)


def test_point_change_reuses_the_layout_without_running_dot(client):
    first = client.get(url("/graph.svg", seeds.SEED001_EXPRESSION, x1=2, x2=2))
    def layouts():
        return int(client.get("/healthz").headers["X-Chainrule-Layouts"])

    runs = layouts()
    moved = client.get(url("/graph.svg", seeds.SEED001_EXPRESSION, x1=3, x2=2))
    assert layouts() == runs  # same structure: the cached layout is refilled
    assert moved.status_code == 200 and moved.data != first.data
    text = moved.get_data(as_text=True)
    assert ">3</text>" in text and "grad 1.2" in text and "grad 0.8" in text  # x1 = 3: grad 0.4·3
    assert "0000" not in text
    changed = client.get(url("/graph.svg", "sin(x1) * x2", x1=3, x2=2))
    assert changed.status_code == 200 and layouts() == runs + 1  # new structure


def test_an_image_names_its_nodes_as_the_lesson_does(client):
    """Images ask the worker for names only (no tape, explanations or guards): the names
    must still be the lesson's. Mutation: `return trace` at the top of annotate.add_names
    (the image titles its boxes by op label: `sin`, `×`, not v1, v2)."""
    source = "a = x*x\nb = a + torch.sin(x)\nb*2"
    trace = client.post("/api/trace", json={"source": source, "inputs": {"x": 1.5}}).get_json()
    svg = client.get("/graph.svg?" + urllib.parse.urlencode({"f": source, "x": "1.5"})).get_data(as_text=True)
    shown = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    computed = [n["name"] for n in trace["nodes"] if n["kind"] in ("op", "output")]
    assert "v1" in computed and all(name in shown for name in computed)
