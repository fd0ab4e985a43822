"""Issue 29, course pages: the copied image tag and the embed code carry the drawing's width
and height with `style="max-width:100%;height:auto"`, so a 1,668 px graph shrinks to a 900 px
course column, keeping its proportions."""
from __future__ import annotations

import html
import re
import urllib.parse

QUERY = urllib.parse.urlencode({"f": "log(x**2)*sin(x) + 1/x", "x": "2"})
FLUID = 'style="max-width:100%;height:auto'


def _image_size(client) -> tuple[int, int]:
    svg = client.get(f"/graph.svg?{QUERY}").get_data(as_text=True)
    width, height = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups()
    return round(float(width) * 4 / 3), round(float(height) * 4 / 3)


def test_the_image_tag_and_the_embed_code_carry_the_image_size(client):
    """The size is /graph.svg's own (points → px). Mutation seen failing: embed_snippet.image_tag
    writing `dims = ""` (no width, no height)."""
    page = client.get(f"/?{QUERY}").get_data(as_text=True)
    width, height = _image_size(client)
    assert width > 900  # the case of the issue: wider than a course column
    tag = html.unescape(re.search(r'<input id="image-code"[^>]*value="([^"]*)"', page).group(1))
    assert f'width="{width}" height="{height}" {FLUID}"' in tag, tag
    code = html.unescape(re.search(r'<textarea id="embed-code"[^>]*>(.*?)</textarea>', page, re.S).group(1))
    frame = re.search(r"<iframe [^>]*>", code).group(0)
    assert re.search(r'width="\d+" height="\d+"', frame) and FLUID in frame, frame
    image = re.search(r"<noscript>(<img [^>]*>)</noscript>", code).group(1)
    assert f'width="{width}" height="{height}" {FLUID}"' in image, image


def test_an_image_keeps_a_tensor_box_under_a_third_of_a_slide(client):
    """/graph.svg of a [2×3] tensor program (the page, GIFs and step SVGs draw the same DOT):
    every row at most render.ROW_CHARS characters (shape and first entries, "…"), every box
    at most 320 pt (a third of a 1280 px slide). Mutation seen failing: render.ROW_CHARS = 1000
    (the gradient rows show all six entries, no "…")."""
    from webapp.drawing.render import ROW_CHARS
    source = "x = torch.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)\ny = (x * 2.5).sin()\ny.sum()"
    svg = client.get("/graph.svg?" + urllib.parse.urlencode({"f": source})).get_data(as_text=True)
    rows = [html.unescape(t) for t in re.findall(r'data-row="(?:value|grad)">([^<]*)</text>', svg)]
    assert any(r.startswith("grad [2×3] (") and r.endswith(", …)") for r in rows), rows
    assert max(len(r) for r in rows) <= ROW_CHARS, rows
    widths = []
    for group in re.findall(r'<g id="n\d+" class="node[^"]*".*?</g>\n</g>', svg, re.S):
        numbers = re.search(r'<(?:path|polygon) [^>]*(?:d|points)="([^"]+)"', group).group(1)
        xs = [float(v) for v in re.findall(r"(-?[\d.]+),-?[\d.]+", numbers)]
        widths.append(max(xs) - min(xs))
    assert widths and max(widths) <= 320, widths
