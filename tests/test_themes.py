"""theme=dark on the images (issue 18): explicit background, contrast measured from the SVG."""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from urllib.parse import quote

import pytest

SVG = "{http://www.w3.org/2000/svg}"
QUERY = "f=" + quote("torch.sigmoid(x) * relu(x - 1) + log(x)") + "&x=2.5&theme=dark"


def _luminance(colour: str) -> float:
    rgb = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _check(svg: bytes) -> int:
    root = ET.fromstring(svg)
    background = root.find(f"{SVG}g/{SVG}polygon").get("fill")
    assert background.startswith("#") and _luminance(background) < 0.05  # a dark, explicit fill
    checked = 0
    for group in root.iter(f"{SVG}g"):
        if "node" not in (group.get("class") or "").split():
            continue
        shapes = [s for s in group.iter() if s.tag in (f"{SVG}path", f"{SVG}polygon", f"{SVG}ellipse")]
        fill = next(s.get("fill") for s in shapes if (s.get("fill") or "").startswith("#"))
        for text in group.iter(f"{SVG}text"):
            assert contrast(text.get("fill"), fill) >= 4.5, (text.text, text.get("fill"), fill)
            checked += 1
        for shape in shapes:
            stroke = shape.get("stroke", "")
            if stroke.startswith("#"):  # a node's outline against the page
                assert contrast(stroke, background) >= 3, (group.get("id"), stroke)
    for group in root.iter(f"{SVG}g"):
        if "edge" in (group.get("class") or "").split():
            for path in group.iter(f"{SVG}path"):
                assert contrast(path.get("stroke"), background) >= 3
    for text in root.iter(f"{SVG}text"):  # captions and legend text sit on the background
        if text.get("fill") and all(text is not t for g in root.iter(f"{SVG}g")
                                    if "node" in (g.get("class") or "") for t in g.iter(f"{SVG}text")):
            assert contrast(text.get("fill"), background) >= 4.5
    return checked


def test_dark_graph_svg_meets_contrast(client):
    """Mutation: TEXT = "#777777" in themes.py drops text below 4.5:1 and fails this."""
    response = client.get("/graph.svg?" + QUERY)
    assert response.status_code == 200
    assert _check(response.data) > 10


def test_dark_steps_meet_contrast_and_the_gif_is_dark(client):
    """Mutation: dropping the theme argument in steps_zip leaves white backgrounds (fails)."""
    archive = zipfile.ZipFile(io.BytesIO(client.get("/steps.zip?" + QUERY).data))
    for name in [n for n in archive.namelist() if n.endswith(".svg")][:3]:
        _check(archive.read(name))
    from PIL import Image
    frame = Image.open(io.BytesIO(client.get("/graph.gif?" + QUERY).data)).convert("RGB")
    assert sum(frame.getpixel((frame.width - 2, frame.height - 2))) < 3 * 60


@pytest.mark.parametrize("theme", ["blue", "DARK"])
def test_unknown_theme_is_refused(client, theme):
    """Mutation: falling back to light for unknown themes turns the 400 into a 200."""
    response = client.get(f"/graph.svg?f=x&x=1&theme={theme}")
    assert response.status_code == 400
