"""Files for slides and papers, from a trace: the animated GIF, one SVG per step, the tape as a table."""
from __future__ import annotations

import functools
import io
import json
import re
import struct
import textwrap
import zipfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from . import render, themes
from ..cache import in_this_context
from ..errors import limit
from ..lesson.naming import format_value
from ..lesson.steps import export_steps, trace_at
from ..limits import MAX_ANIMATION_STEPS as MAX_STEPS

from ..limits import MAX_FRAME_PIXELS
FRAME_MS = 1200
FRAME_THREADS = 2


def _checked_steps(trace: dict) -> list[dict]:
    steps = export_steps(trace)
    if len(steps) > MAX_STEPS:
        raise limit(f"This graph has {len(steps)} steps; an animation or step export holds "
                    f"at most {MAX_STEPS}. Use /graph.svg for the whole graph.")
    return steps


def step_dot(trace: dict, steps: list[dict], done: int, theme: str = "light",
             captioned: int | None = None) -> str:
    """DOT of the graph after `done` steps, with the last step's whole caption under it (and,
    folded, what the boxes stand for), left-aligned and wrapped to CAPTION_WIDTH.
    `captioned`: another step's caption instead (write_gif sizes frames by the longest)."""
    shown = done if captioned is None else captioned
    lines = [f"{shown}/{len(steps)}  " + steps[shown - 1]["caption"] if shown else "before the forward pass"]
    if "fold" in trace:
        lines.append(folded_caption(trace))
    dot = render.values_dot(trace_at(trace, steps, done), title=frame_title("\n".join(lines)),
                            legend=False)
    dot = themes.dark(dot) if theme == "dark" else dot
    # Under the graph, left-aligned: captions of one line or twelve leave the graph where it
    # is from frame to frame (a later statement overrides the graph's attributes).
    extra = "\tgraph [labelloc=b labeljust=l]\n"
    if done:
        # The step's box in a heavy outline, as the page's player marks it.
        colour = themes.TEXT if theme == "dark" else "#000000"
        extra += f'\t"{steps[done - 1]["node"]}" [penwidth=4 color="{colour}"]\n'
    return dot.rstrip().removesuffix("}") + extra + "}\n"


CAPTION_WIDTH = 90  # characters a caption line holds before it wraps


def caption_lines(text: str, width: int = CAPTION_WIDTH) -> list[str]:
    """The caption's lines, each longer one wrapped at spaces; a wrapped part is indented
    two more than its line, so a reader sees where the line goes on."""
    out = []
    for line in text.splitlines():
        indent = line[:len(line) - len(line.lstrip())]
        out += textwrap.wrap(line, width, initial_indent="", subsequent_indent=indent + "  ",
                             break_long_words=True, break_on_hyphens=False,
                             drop_whitespace=True) or [""]
    return out


def frame_title(text: str) -> str:
    """A graph label of left-justified lines (Graphviz's `\\l`), the caption wrapped."""
    lines = [line.replace("\\", "\\\\") for line in caption_lines(text)]
    return "".join(f"{line}\\l" for line in lines)


def folded_caption(trace: dict) -> str:
    """One line under each frame of a folded export: the frames are one per box."""
    return f"{render.fold_summary(trace)}: one frame per box, each box showing the last repetition."


def folded_note(trace: dict) -> str:
    """The sentence above a folded tape."""
    return f"{render.fold_summary(trace)}. Each folded row stands for all its repetitions and shows the last one's numbers."


def step_svgs(trace: dict, theme: str = "light", draw=None) -> list[tuple[str, bytes, dict]]:
    """[(file name, SVG, step)], `001.svg` for the first step; `draw(dot, fmt)` lays out
    (the export process passes its own `dot`s; by default render.run_dot)."""
    draw = draw or render.run_dot
    steps = _checked_steps(trace)
    return [(f"{i:03d}.svg", draw(step_dot(trace, steps, i, theme), "svg"), steps[i - 1])
            for i in range(1, len(steps) + 1)]


def steps_zip(trace: dict, theme: str = "light", draw=None) -> bytes:
    """One SVG per step and `steps.json` (caption, phase and node id of each file)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        manifest = []
        for name, svg, step in step_svgs(trace, theme, draw):
            archive.writestr(name, svg)
            manifest.append({"file": name, **step})
        archive.writestr("steps.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return buffer.getvalue()


def frame_captions(trace: dict) -> list[dict]:
    """What each frame of the GIF (each file of steps.zip) shows: caption, phase, node id."""
    return _checked_steps(trace)


def animated_gif(trace: dict, theme: str = "light", draw=None) -> tuple[bytes, list[str]]:
    """The passes as a GIF, one frame per step; returns the bytes and the frame captions."""
    out = io.BytesIO()
    captions = write_gif(trace, out, theme, draw)
    return out.getvalue(), captions


def write_gif(trace: dict, out, theme: str = "light", draw=None) -> list[str]:
    """Write the passes to `out` as a GIF, one frame per step, and return the captions.

    Frames are decoded one at a time and written as they come: only their PNGs (compressed)
    are held, never every decoded frame (116 decoded frames once took 1.3 GB)."""
    from PIL import GifImagePlugin, Image, ImageChops  # only the image routes need Pillow
    draw = draw or render.run_dot
    steps = _checked_steps(trace)
    # Sized by the last frame (every number written in) under the longest caption: no frame
    # comes out larger and is shrunk, so the graph keeps one scale in every frame.
    longest = max(range(1, len(steps) + 1), key=lambda i: len(caption_lines(steps[i - 1]["caption"])))
    dpi = frame_dpi(step_dot(trace, steps, len(steps), theme, captioned=longest), draw)

    def png(done: int) -> bytes:
        return draw(step_dot(trace, steps, done, theme).replace("graph [", f"graph [dpi={dpi} ", 1), "png")
    # Two frames at a time: two `dot -Tpng` run at once.
    with ThreadPoolExecutor(max_workers=FRAME_THREADS) as pool:
        pngs = list(pool.map(lambda task: task(), [functools.partial(in_this_context(png), done)
                                                   for done in range(1, len(steps) + 1)]))
    sizes = [_fitted(*struct.unpack(">II", data[16:24])) for data in pngs]  # PNG's IHDR
    width, height = max(w for w, _ in sizes), max(h for _, h in sizes)

    def sheet(index: int):  # every frame the same size, the graph at the top left
        image = Image.open(io.BytesIO(pngs[index])).convert("RGB")
        if image.size != sizes[index]:
            image = image.resize(sizes[index])
        canvas = Image.new("RGB", (width, height), themes.BACKGROUND if theme == "dark" else "white")
        canvas.paste(image, (0, 0))
        return canvas
    # One palette for every frame, from the last (every number written in): no colour
    # flicker between frames, and octree is about 6 times quicker than median cut here.
    palette = sheet(-1).quantize(colors=64, method=Image.Quantize.FASTOCTREE)
    captions = [s["caption"] for s in steps]

    def quantized(index: int):
        return sheet(index).quantize(palette=palette, dither=Image.Dither.NONE)
    previous = None
    with ThreadPoolExecutor(max_workers=FRAME_THREADS) as pool:
        # Frames prepared FRAME_THREADS ahead of the one written, never more.
        ahead = deque(pool.submit(quantized, i) for i in range(min(FRAME_THREADS, len(pngs))))
        for index in range(len(pngs)):
            frame = ahead.popleft().result()
            if index + FRAME_THREADS < len(pngs):
                ahead.append(pool.submit(quantized, index + FRAME_THREADS))
            if previous is None:
                header, _ = GifImagePlugin.getheader(frame, info={
                    "loop": 0, "comment": json.dumps(captions, ensure_ascii=True).encode()})
                out.write(b"".join(header))
                box = (0, 0, width, height)
            else:  # only the part that changed, as Pillow's own writer does
                box = ImageChops.subtract_modulo(frame, previous).getbbox(alpha_only=False) or (0, 0, 1, 1)
            out.write(b"".join(GifImagePlugin.getdata(frame.crop(box), offset=box[:2], duration=FRAME_MS)))
            previous = frame
    out.write(b";")
    return captions


def _fitted(width: int, height: int) -> tuple[int, int]:
    """A frame's size within MAX_FRAME_PIXELS."""
    if width * height <= MAX_FRAME_PIXELS:
        return width, height
    scale = (MAX_FRAME_PIXELS / (width * height)) ** 0.5
    return max(1, int(width * scale)), max(1, int(height * scale))


def frame_dpi(dot: str, draw=None) -> str:
    """The resolution at which a frame comes out within MAX_FRAME_PIXELS: drawn at that size
    rather than drawn at 96 dpi and shrunk (a 49-box loop: 6,284 × 759 px, 0.27 s a frame).
    The last frame is the widest (every number written in); its SVG gives the size in points."""
    svg = (draw or render.run_dot)(dot, "svg")
    found = re.search(rb'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if not found:
        return "96"
    pixels = float(found.group(1)) * float(found.group(2)) * (96 / 72) ** 2
    return f"{96 * min(1.0, (MAX_FRAME_PIXELS / pixels) ** 0.5) * 0.98:.1f}"


def _columns(trace: dict) -> list[str]:
    tangent = any("tangent" in row for row in trace["tape"])
    return ["name", "expr", "line", "value", "adjoint"] + (["tangent"] if tangent else [])


def _cell(row: dict, column: str) -> str:
    if column in ("value", "adjoint", "tangent"):
        value = row.get(column)
        return "" if value is None else format_value(value, row.get("shape", []))
    value = row.get(column)
    return "" if value is None else str(value)


HEADERS = {"name": "name", "expr": "operation", "line": "line", "value": "value",
           "adjoint": "adjoint", "tangent": "tangent"}


def tape_markdown(trace: dict) -> str:
    """The evaluation trace as a Markdown table."""
    columns = _columns(trace)
    lines = [f"{folded_note(trace)}\n"] if "fold" in trace else []
    lines += ["| " + " | ".join(HEADERS[c] for c in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    for row in trace["tape"]:
        lines.append("| " + " | ".join(_cell(row, c).replace("|", "\\|") for c in columns) + " |")
    return "\n".join(lines) + "\n"


_TEX_MATH = {"·": r"\cdot ", "−": "-", "×": r"\times ", "…": r"\ldots ", "ᵀ": "^{T}",
             "\u0304": "", "\u0305": "", "∂": r"\partial "}  # bars: the column says adjoint


def _tex(text: str) -> str:
    """Plain ASCII LaTeX (math mode) for a name, expression or value."""
    text = re.sub(r"\b(ln|sin|cos|tan|exp|tanh)\(", r"\\\1(", text)
    text = re.sub(r"\b([A-Za-z])(\d+)\b", r"\1_{\2}", text)
    text = re.sub(r"\^(−?[\w.]+)", r"^{\1}", text)
    for symbol, latex in _TEX_MATH.items():
        text = text.replace(symbol, latex)
    text = re.sub(r"([#%&$])", r"\\\1", text).replace("_", "\\_").replace("\\_{", "_{")
    # Words in math mode lose their spaces ("2 (a constant)" set as "2(aconstant)"): upright
    text = re.sub(r" ?\(([a-z][a-z ]+)\)", r"\\mbox{ (\1)}", text)
    text = "".join(c if ord(c) < 128 else "?" for c in text)  # pdflatex needs ASCII here
    return f"${text}$" if text else ""


def tape_latex(trace: dict) -> str:
    """The evaluation trace as a booktabs table fragment (needs \\usepackage{booktabs})."""
    columns = _columns(trace)
    head = " & ".join(HEADERS[c] for c in columns) + r" \\"
    body = []
    for row in trace["tape"]:
        cells = [str(row["line"] or "") if c == "line" else _tex(_cell(row, c)) for c in columns]
        body.append(" & ".join(cells) + r" \\")
    spec = "l" * len(columns)
    folded = [f"% {folded_note(trace)}"] if "fold" in trace else []
    note = r"% needs \usepackage{booktabs} in the preamble"
    return "\n".join([note, *folded, rf"\begin{{tabular}}{{{spec}}}", r"\toprule", head, r"\midrule", *body,
                      r"\bottomrule", r"\end{tabular}"]) + "\n"
