"""Files for slides and papers (issue 18): the GIF, the step SVGs, the tape tables, oEmbed."""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from urllib.parse import quote

import pytest
import torch
from PIL import Image

from webapp import cli
from webapp.lesson.steps import animation_steps

from .seeds import SEED001_QUADRATIC

SEED001 = "f=" + quote(SEED001_QUADRATIC)
BAYDIN = "f=" + quote("log(x1) + x1*x2 - sin(x2)") + "&x1=2&x2=5"


def _x1_grad_oracle() -> float:
    x1 = torch.tensor(2.0, requires_grad=True)
    x2 = torch.tensor(2.0, requires_grad=True)
    (x1.square() * 0.2 + x2.square() * 0.2 - 5).backward()
    return float(x1.grad)


def test_gif_has_one_frame_per_step_and_ends_with_x1_grad(client):
    """Mutation: `range(1, len(steps))` in animated_gif drops the last frame and fails this."""
    response = client.get("/graph.gif?" + SEED001)
    assert response.status_code == 200 and response.mimetype == "image/gif"
    trace = client.post("/api/trace", json={"source": SEED001_QUADRATIC, "inputs": {}}).json
    steps = animation_steps(trace)
    image = Image.open(io.BytesIO(response.data))
    assert image.n_frames == len(steps) == 16  # 8 computed nodes forward, 8 backward
    captions = json.loads(response.headers["X-Chainrule-Captions"])
    assert json.loads(image.info["comment"]) == captions and len(captions) == image.n_frames
    assert captions[-1].endswith(f"x1.grad = {_x1_grad_oracle():.1f}")
    image.seek(image.n_frames - 1)  # every frame decodes
    assert image.size[0] <= 1600


def test_gif_frames_share_one_palette_and_keep_the_steps_order(client, monkeypatch):
    """A wide loop's GIF: frames drawn two at a time still come in step order (frame k shows
    exactly the values known after k steps), all frames draw from one 64-colour palette (no
    colour flicker between frames), and each fits MAX_FRAME_PIXELS. Mutations seen failing: each frame
    quantized with its own palette (`sheet.quantize(colors=64)`); `frames` reversed."""
    from webapp.limits import MAX_FRAME_PIXELS
    source = "y = x\nfor i in range(8):\n    y = sin(y) * 0.999 + x * 0.001\ny"
    response = client.get(f"/graph.gif?f={quote(source)}&x=1")
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.data))
    colours, sizes = set(), []
    for index in range(image.n_frames):
        image.seek(index)
        colours |= {colour for _, colour in image.convert("RGB").getcolors(1 << 16)}
        sizes.append(image.size[0] * image.size[1])
    assert len(colours) <= 64  # all frames draw from one palette of 64 colours
    assert max(sizes) <= MAX_FRAME_PIXELS
    # Order: the forward pass writes numbers where "?" stood, so the frames gain ink; drawn
    # two at a time, they must still come in step order.
    ink = []
    for index in range(image.n_frames // 2):
        image.seek(index)
        ink.append(sum(image.convert("L").histogram()[:128]))  # dark pixels
    assert ink[0] < ink[len(ink) // 2] < ink[-1]
    # The same GIF drawn one frame at a time is byte for byte the same.
    from webapp.drawing import handouts
    monkeypatch.setattr(handouts, "FRAME_THREADS", 1)
    trace = client.post("/api/trace", json={"source": source, "inputs": {"x": 1.0}, "fold": "auto"}).json
    with client.application.test_request_context():
        assert handouts.animated_gif(trace)[0] == response.data


def test_steps_zip_holds_one_parseable_svg_per_step_with_node_ids(client):
    """Mutation: dropping `id=node["id"]` from values_dot's nodes fails the id check."""
    response = client.get("/steps.zip?" + SEED001)
    trace = client.post("/api/trace", json={"source": SEED001_QUADRATIC, "inputs": {}}).json
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".svg"))
        manifest = json.loads(archive.read("steps.json"))
        assert names == [f"{i:03d}.svg" for i in range(1, len(animation_steps(trace)) + 1)]
        for name, step in zip(names, manifest):
            root = ET.fromstring(archive.read(name))
            ids = {g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g")}
            assert {n["id"] for n in trace["nodes"]} <= ids
            text = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
            assert step["file"] == name and step["node"] in ids
            assert step["caption"].split()[0] in text  # the caption is drawn in the image
    first = ET.fromstring(zipfile.ZipFile(io.BytesIO(response.data)).read("001.svg"))
    assert "?" in [t.text for t in first.iter("{http://www.w3.org/2000/svg}text")]


def test_tape_markdown_rows_follow_the_forward_order(client):
    """Mutation: iterating trace["backward"] in tape_rows reorders the rows and fails this."""
    text = client.get("/tape.md?" + BAYDIN).data.decode()
    lines = text.strip().splitlines()
    assert lines[0].startswith("| name | operation |") and len(lines) == 2 + 7
    assert [line.split("|")[1].strip() for line in lines[2:]] == ["x1", "x2", "v1", "v2", "v3", "v4", "v5"]
    assert "| 11.65 |" in lines[-1]


def test_tape_tex_is_a_booktabs_fragment_that_compiles(client, tmp_path):
    """Mutation: leaving `·` unconverted in _tex puts a non-ASCII byte in the fragment."""
    fragment = client.get("/tape.tex?" + BAYDIN).data.decode()
    assert fragment.isascii()
    assert fragment.count(r"\toprule") == fragment.count(r"\bottomrule") == 1
    columns = len(re.search(r"\\begin\{tabular\}\{(l+)\}", fragment).group(1))
    rows = [line for line in fragment.splitlines() if line.endswith(r"\\")]
    assert len(rows) == 8 and all(row.count("&") == columns - 1 for row in rows)
    assert all(row.count("$") % 2 == 0 and row.count("{") == row.count("}") for row in rows)
    assert r"\ln(x_{1})" in fragment and r"x_{1} \cdot  x_{2}" in fragment
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed here; the fragment was checked structurally only")
    document = tmp_path / "tape.tex"
    document.write_text("\\documentclass{article}\\usepackage{booktabs}\\begin{document}\n"
                        + fragment + "\\end{document}\n")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", document.name],
                          cwd=tmp_path, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize("path", ["/embed", "/graph.svg"])
def test_oembed_answers_for_this_servers_embed_and_image(client, path):
    """Mutation: `parts.path not in OEMBED_PATHS` → `parts.path != "/embed"` fails /graph.svg."""
    url = f"http://localhost{path}?{BAYDIN}&view=autograd"
    answer = client.get("/oembed?url=" + quote(url) + "&maxwidth=500&maxheight=300")
    assert answer.status_code == 200
    data = answer.json
    assert data["type"] == "rich" and data["version"] == "1.0"
    assert (data["width"], data["height"]) == (500, 300)
    iframe = re.search(r'<iframe src="([^"]+)" title="([^"]+)"', data["html"])
    src = iframe.group(1).replace("&amp;", "&")
    assert src.startswith("http://localhost/embed?") and "view=" not in src
    assert client.get(src.removeprefix("http://localhost")).status_code == 200


@pytest.mark.parametrize("url", [
    "http://elsewhere.example/embed?f=x", "http://localhost/api/trace?f=x",
    "javascript:alert(1)", "", "http://localhost/embed"])
def test_oembed_refuses_other_urls(client, url):
    """Mutation: dropping the netloc comparison lets elsewhere.example through."""
    answer = client.get("/oembed?url=" + quote(url))
    assert answer.status_code == 400
    assert answer.json["error"]["kind"] == "input" and answer.json["error"]["message"]


def test_pages_advertise_oembed(client):
    """Mutation: removing the <link rel="alternate"> from base.html fails this."""
    html = client.get("/embed?" + BAYDIN).data.decode()
    link = re.search(r'<link rel="alternate" type="application/json\+oembed"[^>]*href="([^"]+)"', html)
    href = link.group(1).replace("&amp;", "&")
    assert client.get(href.removeprefix("http://localhost")).json["type"] == "rich"


def test_cli_writes_a_gif_and_step_files(tmp_path):
    """Mutation: writing only steps[:-1] in steps_zip fails the count."""
    gif, folder = tmp_path / "lesson.gif", tmp_path / "slides"
    assert cli.main(["render", "x * x + x", "--at", "x=3", "-o", str(gif)]) == 0
    assert Image.open(gif).n_frames == 3 + 3  # x, x·x, +; then backward through the same three
    assert cli.main(["steps", "x * x + x", "--at", "x=3", "-o", str(folder)]) == 0
    assert len(list(folder.glob("*.svg"))) == 6


@pytest.mark.parametrize("route", ["/graph.gif", "/steps.zip", "/steps.json"])
def test_too_many_steps_is_a_clear_limit(client, route):
    """Mutation: `len(steps) > MAX_STEPS` → `> 10**6` renders 200+ frames instead of refusing."""
    source = "y = x\nfor i in range(70):\n    y = y * 1.01\ny"
    answer = client.get(f"{route}?f={quote(source)}&x=1&fold=0")  # unfolded: 140 steps (auto folds it)
    assert answer.status_code == 400
    assert answer.json["error"]["kind"] == "limit" and "at most 120" in answer.json["error"]["message"]


def test_an_input_given_its_gradient_by_autograd_grad_gets_the_last_step(limits):
    """torch.autograd.grad runs no AccumulateGrad node, so x is not in the engine's order;
    it still received d²(x³)/dx² = 6x = 12 (by hand), and the animation must end there.
    Mutation: drop the `reached` clause of steps.trace_steps (x never gets a step)."""
    from webapp.engine.evaluation import trace_values
    from webapp.web.examples import BY_SLUG
    from webapp.lesson.steps import animation_steps
    example = BY_SLUG["second-derivative"]
    trace = trace_values(example.source, example.inputs, None, limits)
    x = next(n for n in trace["nodes"] if n["label"] == "x")
    assert x["grad"] == 12.0 and x["id"] not in trace["backward"]
    assert animation_steps(trace)[-1] == {**animation_steps(trace)[-1], "phase": "backward", "node": x["id"]}


LONG_LOOP = "y = x\nfor i in range(800):\n    y = torch.sin(y) * 0.999 + x * 0.001\ny"  # 3,200 operations


def _long_loop_oracle() -> tuple[float, float]:
    """Plain PyTorch: the loop's output and x.grad."""
    x = torch.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(800):
        y = torch.sin(y) * 0.999 + x * 0.001
    y.backward()
    return y.item(), x.grad.item()


def _svg_texts(svg: bytes) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]


def test_a_loop_past_the_trace_cap_exports_folded_one_frame_per_box(client):
    """3,200 operations: unfolded, the worker refuses them (3,000); the exports fold as the page
    does, one frame per box and phase, each frame saying so, the numbers PyTorch's own.
    Mutations: no `fold=` in exports._trace (refused: 400); export_steps returning every step
    (6,400 frames: refused); folded_caption left out of step_dot's title."""
    query = f"f={quote(LONG_LOOP)}&x=0.5"
    assert client.get(f"/graph.svg?{query}&fold=0").status_code == 400  # the cap still holds
    response = client.get(f"/steps.zip?{query}")
    assert response.status_code == 200
    y, x_grad = _long_loop_oracle()
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        manifest = json.loads(archive.read("steps.json"))
        frames = [archive.read(step["file"]) for step in manifest]
    phases = [step["phase"] for step in manifest]
    forward, backward = phases.count("forward"), phases.count("backward")
    # The shown graph: x, 4 boxes for the 799 folded iterations' ops (sin, ×, ×, +) and the last
    # iteration's 4 ops: 9 nodes computed forward and reached backward, constants excepted.
    assert (forward, backward) == (9, 9) and phases == ["forward"] * 9 + ["backward"] * 9
    for frame in frames:
        assert "Folded: line 3 repeats 799 times" in " ".join(_svg_texts(frame))
    last = _svg_texts(frames[-1])  # each box: its name, then its value and gradient rows
    assert float(last[last.index("x") + 2].removeprefix("grad ")) == pytest.approx(x_grad, rel=1e-3)
    assert float(last[last.index("y₈₀₀") + 1]) == pytest.approx(y, rel=1e-3)
    tape = client.get(f"/tape.md?{query}").get_data(as_text=True)
    assert tape.startswith("Folded: line 3 repeats 799 times")


def test_no_frame_shows_a_gradient_before_its_step(client):
    """Each step SVG shows a gradient only for the nodes the backward pass has reached (the
    review saw leaves read `grad not yet (.grad 2.223)` from the first frame). The oracle:
    x1's gradient from plain PyTorch. Mutation: trace_at keeping `accumulated`."""
    response = client.get("/steps.zip?" + SEED001)
    x1_grad = f"{_x1_grad_oracle():.4g}"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        manifest = json.loads(archive.read("steps.json"))
        reached = False
        for step in manifest:
            svg = ET.fromstring(archive.read(step["file"]))
            boxes = [[t.text or "" for t in g.iter("{http://www.w3.org/2000/svg}text")]
                     for g in svg.iter("{http://www.w3.org/2000/svg}g") if "node" in (g.get("class") or "")]
            x1 = next(texts for texts in boxes if texts and texts[0] == "x1")
            shown = any(x1_grad in t for t in x1[1:])
            reached = reached or step["phase"] == "backward" and "x1.grad" in step["caption"]
            assert shown == reached, (step["file"], step["caption"], x1)


def test_the_page_offers_an_animation_only_when_it_can_be_made(client):
    """9 iterations of 7 operations (sin, ×, ×, +, cos, ×, +) are not folded (fewer than 10
    repeats) and take 64 forward and 64 backward steps (x, then 9 × 7), past the 120 an
    animation holds: the page says so instead of linking to a refusal; 3 iterations link to
    a GIF that works. Mutation: `animation_refused` always None (the link leads to a 400)."""
    body = "y = x\nfor i in range({n}):\n    y = torch.sin(y) * 0.999 + x * 0.001 + torch.cos(y) * 0.5\ny"
    for n, possible in ((3, True), (9, False)):
        page = client.get(f"/?f={quote(body.format(n=n))}&x=1").get_data(as_text=True)
        link = re.search(r'href="(/graph\.gif\?[^"]*)"', page)
        assert (link is not None) == possible, n
        if possible:
            assert client.get(link.group(1).replace("&amp;", "&")).status_code == 200
        else:
            assert "no animated GIF or step SVGs (128 steps, more than the 120" in page


def test_each_step_file_outlines_the_node_its_step_is_about(client):
    """A slide or GIF frame marks its step's box (heavy outline), as the page's player does;
    review3 saw frames where nothing said which box the caption meant. The step's node is
    the only one drawn with stroke-width 4. Mutation seen failing: step_dot returning the
    DOT without the outline statement."""
    response = client.get("/steps.zip?" + SEED001)
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        manifest = json.loads(archive.read("steps.json"))
        for step in manifest:
            root = ET.fromstring(archive.read(step["file"]))
            heavy = {g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g")
                     if g.get("class", "").startswith("node")
                     and any(shape.get("stroke-width") == "4" for shape in g.iter())}
            assert heavy == {step["node"]}, (step["file"], heavy)


def test_tape_tex_keeps_the_words_of_a_constant_upright_and_names_its_package(client):
    """Math mode drops spaces: "2 (a constant)" was set as 2(aconstant) (review3). Mutation
    seen failing: the \\mbox substitution removed from _tex."""
    fragment = client.get("/tape.tex?" + SEED001).data.decode()
    assert r"$2\mbox{ (a constant)}$" in fragment and "(a constant)$" not in fragment
    assert fragment.splitlines()[0] == r"% needs \usepackage{booktabs} in the preamble"
