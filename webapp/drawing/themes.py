"""The dark theme for images: the same DOT, light colours swapped for dark ones.

The background is drawn explicitly (graphviz's `bgcolor` becomes the SVG's first
polygon), so a transparent slide never swallows the graph. Pairs are chosen for at
least 4.5:1 contrast for text and 3:1 for lines (tests/test_themes.py measures them).
"""
from __future__ import annotations

import re

BACKGROUND = "#121212"
TEXT = "#f0f0f0"
DARK = {
    "bgcolor=white": f'bgcolor="{BACKGROUND}"', "#ffffff": "#262626",  # background, op boxes
    "#d6ecfa": "#0d3550", "#0072B2": "#56B4E9",                   # inputs and leaves
    "#fbe3b5": "#4d2a00", "#D55E00": "#F0A050",                   # the output
    "#f2f2f2": "#2e2e2e", "#777777": "#a8a8a8",                   # constants
    "#f3e0ec": "#4a2340", "#CC79A7": "#E3A6CC",                   # operation circles
    "#555555": "#b8b8b8", "#bbbbbb": "#8c8c8c",                   # borders and edges
    "#8a3c00": "#FFC48A",                                          # gradient text
    "#e6e6e6": "#333333", "#fff3c4": "#4a3f10",                   # grad_fn view: functions, saved
    "#fde2e1": "#4a1c1c",                                          # a refusal drawn as an image
}
THEMES = ("light", "dark")


def dark(dot: str) -> str:
    """DOT source redrawn in dark colours, with light text."""
    pattern = re.compile("|".join(re.escape(k) for k in DARK), re.IGNORECASE)
    lookup = {k.lower(): v for k, v in DARK.items()}
    source = pattern.sub(lambda m: lookup[m.group(0).lower()], dot)
    # Defaults right after the opening brace: every text light unless it sets its own.
    return re.sub(r"\{\n", "{\n\tgraph [fontcolor=\"%s\"]\n\tnode [fontcolor=\"%s\"]\n" % (TEXT, TEXT),
                  source, count=1)


def theme_from(args) -> str:
    """`theme=dark` or the default light; anything else is a clear refusal."""
    from ..errors import bad_input
    theme = args.get("theme") or "light"
    if theme not in THEMES:
        raise bad_input("theme must be light or dark.")
    return theme
