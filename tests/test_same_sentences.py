"""The same sentences everywhere (issue 28, item 4): the page's `explain` is the one text of a
step, and the GIF, steps.zip, /steps.json, the CLI and the notebook widget carry all of it.

At the three-way fan-out of `log(x**2)*sin(x) + 1/x`, x's backward step has a line for each
contribution and one for their sum; each export must hold every line the page shows (it
once kept the first and the last, `∂v7/∂x += ∂v7/∂v1 · ∂v1/∂x … x.grad = 0.0824`). Lines
are compared whole, whatever explain.py writes in them.
Mutations seen failing: steps.caption returning `f"{lines[0]}  …  {lines[-1]}"` again;
step_dot drawing `caption_lines(...)[:1]` only; the widget's JS caption and _repr_html_
reading a constant; caption_lines ignoring its width.
"""
from __future__ import annotations

import contextlib
import html
import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from urllib.parse import quote

import pytest
from PIL import Image

from webapp.drawing.handouts import CAPTION_WIDTH, caption_lines

SOURCE = "log(x**2)*sin(x) + 1/x"
X = -0.5984
QUERY = f"f={quote(SOURCE)}&x={X}"
SVG = "{http://www.w3.org/2000/svg}"


def _plain(text: str) -> str:
    """Spaces as one: SVG writes a run of spaces as no-break spaces."""
    return " ".join(text.replace("\xa0", " ").split())


@pytest.fixture(scope="module")
def fan_out(app):
    """The trace, and x's backward step: its index among the frames and its explain lines."""
    trace = app.test_client().post("/api/trace", json={"source": SOURCE, "inputs": {"x": X}}).json
    x = next(n for n in trace["nodes"] if n.get("name") == "x")
    text = trace["explain"]["backward"][x["id"]]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    index = next(i for i, s in enumerate(trace["steps"]) if s["phase"] == "backward" and s["node"] == x["id"])
    # the fan-out's three contributions and their sum are what is at stake
    assert len([line for line in lines if line.startswith("∂")]) >= 3 and "3 contributions" in text
    return trace, index, lines


def test_every_frame_caption_is_its_steps_whole_explanation(client, fan_out):
    """/steps.json (the GIF's and steps.zip's frames): each caption is explain's text, every
    line of it, for every step."""
    trace, index, lines = fan_out
    frames = client.get("/steps.json?" + QUERY).json
    assert len(frames) == len(trace["steps"])
    for frame in frames:
        said = trace["explain"][frame["phase"]].get(frame["node"], "")
        assert frame["caption"].splitlines() == [line.rstrip() for line in said.splitlines() if line.strip()]
    assert [line.strip() for line in frames[index]["caption"].splitlines()] == lines


def test_the_gif_carries_every_line_of_the_fan_out(client, fan_out):
    """The GIF's comment (its captions) holds each line of x's step."""
    _, index, lines = fan_out
    image = Image.open(io.BytesIO(client.get("/graph.gif?" + QUERY).data))
    caption = json.loads(image.info["comment"])[index]
    assert all(line in caption for line in lines)


def test_the_step_svg_draws_every_line_of_the_fan_out(client, fan_out):
    """steps.zip: x's frame draws each line of its explanation under the graph."""
    _, index, lines = fan_out
    with zipfile.ZipFile(io.BytesIO(client.get("/steps.zip?" + QUERY).data)) as archive:
        manifest = json.loads(archive.read("steps.json"))
        root = ET.fromstring(archive.read(manifest[index]["file"]))
    drawn = [_plain(t.text or "") for t in root.iter(f"{SVG}text")]
    for line in lines:
        assert any(_plain(line) in text for text in drawn), line


def test_the_cli_prints_every_line_of_the_fan_out(fan_out, capsys):
    """`chainrule check … --steps` prints each step's whole sentence."""
    from webapp import cli
    _, _, lines = fan_out
    assert cli.main(["check", SOURCE, "--at", f"x={X}", "--steps"]) == 0
    printed = capsys.readouterr().out
    block = printed[printed.rindex("backward, x:"):]
    assert all(line in block for line in lines)


def test_the_widget_shows_every_line_of_the_fan_out(fan_out):
    """The notebook widget: its steps' captions (what its player shows) and its static list."""
    pytest.importorskip("anywidget")
    from webapp.widget import ESM, PlayerWidget
    trace, index, lines = fan_out
    widget = PlayerWidget(trace, "<svg></svg>")
    assert all(line in widget.steps[index]["caption"] for line in lines)
    assert "step.caption" in ESM  # the player shows the step's caption, not text of its own
    items = re.findall(r"<li>(.*?)</li>", widget._repr_html_(), re.S)
    assert all(html.escape(line) in items[index] for line in lines)


@pytest.mark.parametrize("line", [
    "∂v7/∂x += " + " + ".join(f"(−{k}.2345)" for k in range(1, 20)),
    "   = " + "x" * 200,
])
def test_long_lines_wrap_to_the_frame_and_keep_every_character(line):
    wrapped = caption_lines(line)
    assert len(wrapped) > 1 and all(len(part) <= CAPTION_WIDTH for part in wrapped)
    assert "".join(part.strip() for part in wrapped).replace(" ", "") == line.replace(" ", "")
