"""The `chainrule` command line (also `python -m webapp`)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXAMPLES = {
    "serve": ("examples:\n  chainrule serve\n  chainrule serve --production --host 0.0.0.0 --port 8000\n"
              "  chainrule serve --production --host 0.0.0.0 --trusted-proxy 10.0.0.2   (behind nginx at 10.0.0.2)"),
    "render": ('examples:\n  chainrule render "0.2*x1**2 + 0.2*x2**2 - 5" --at x1=2 --at x2=2 -o graph.svg\n'
               '  chainrule render "sin(x) * x" --at x=1 -o graph.png --view autograd\n'
               '  chainrule render lesson.py -o lesson.dot\n'
               '  chainrule render lesson.py -o lesson.gif   (forward then backward, one frame per step)'),
    "steps": ('examples:\n  chainrule steps "0.2*x1**2 + 0.2*x2**2 - 5" --at x1=2 --at x2=2 -o slides/\n'
              '  (writes 001.svg, 002.svg, … and steps.json with each caption)'),
    "plot": ('examples:\n  chainrule plot "sin(x)" --wrt x --range -3.14 3.14 -o plot.svg\n'
             '  chainrule plot "0.2*x1**2 + 0.2*x2**2 - 5" --at x1=2 --at x2=2 --wrt x1,x2 -o contour.png'),
    "check": ("examples:\n  chainrule check lesson.py\n  chainrule check lesson.py --at x=[-1,1]\n"
              "  chainrule check lesson.py --steps   (every step's sentence, as the page shows it)\n"
              "  chainrule check lesson.R --language r"),
}


class CommandError(Exception):
    """A one-line error for the terminal."""


def _source(text: str) -> str:
    """A function given inline, or the path of a file that holds it."""
    path = Path(text)
    if len(text) < 250 and "\n" not in text and path.suffix in (".py", ".txt", ".R", ".r") \
            and path.is_file():
        return path.read_text()
    return text


def _inputs(pairs: list[str]) -> dict:
    """--at name=value pairs, parsed like the page's and the query's (web/query.py)."""
    from .web.query import parse_inputs
    texts = {}
    for pair in pairs or []:
        name, _, value = pair.partition("=")
        if not name or not value:
            raise CommandError(f"--at takes name=value, e.g. --at x=2 (got {pair!r})")
        texts[name.strip()] = value
    return parse_inputs(texts)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _fill_inputs(source: str, inputs: dict) -> dict:
    """Inputs not given start at 1.0, as on the page; say so."""
    from .errors import ChainruleError
    from .language.frontend import (as_cpython, choose_language, current_language, parse_source,
                                    source_language)
    with source_language(choose_language(current_language(), source)):
        try:
            names = parse_source(source).inputs
        except ChainruleError as error:
            if error.kind != "unsupported":
                raise
            with as_cpython():  # read only: the worker decides how the program runs
                names = parse_source(source).inputs
    for name in names:
        if name not in inputs:
            _progress(f"{name} not given (--at {name}=...): using 1.0")
            inputs[name] = 1.0
    return inputs


# As the page and the images fold: large graphs (auto), every repeat (on) or nothing (off).
FOLD = {"auto": "auto", "on": True, "off": False}
FOLD_HELP = ("fold repeated structure (a loop body) into boxes with a count: auto (graphs of "
             "more than 400 nodes, as the page does), on or off")


def render_command(args) -> int:
    from .python_api import graph
    if Path(args.output).suffix.lower() not in (".svg", ".png", ".dot", ".gv", ".gif"):
        raise CommandError(f"unknown format {Path(args.output).suffix!r}: use .svg, .png, .dot or .gif")
    source = _source(args.function)
    _progress("evaluating with real tensors…")
    result = graph(source, grad_output=args.grad_output, fold=FOLD[args.fold],
                   **_fill_inputs(source, _inputs(args.at)))
    if args.view == "autograd":
        result = result.autograd()
    _progress(f"drawing {len(result.trace['nodes'])} nodes with graphviz…")
    if Path(args.output).suffix.lower() == ".gif":
        from .drawing.handouts import animated_gif
        path = Path(args.output)
        path.write_bytes(animated_gif(result.trace)[0])
    else:
        path = result.save(args.output)
    _progress(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


def steps_command(args) -> int:
    from .drawing.handouts import steps_zip
    from .python_api import trace
    import io
    import zipfile
    source = _source(args.function)
    data = trace(source, grad_output=args.grad_output, fold=FOLD[args.fold],
                 **_fill_inputs(source, _inputs(args.at)))
    folder = Path(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(steps_zip(data))) as archive:
        archive.extractall(folder)  # our own archive: plain names, no paths
        count = len(archive.namelist()) - 1
    _progress(f"wrote {count} step SVGs and steps.json to {folder}")
    return 0


def plot_command(args) -> int:
    from .drawing import plots
    from .bounded import run_job
    source = _source(args.function)
    inputs = _fill_inputs(source, _inputs(args.at))
    wrts = [w.strip() for w in args.wrt.split(",")]
    lo, hi = args.range
    _progress("sampling with autograd…")
    from .web.query import plot_job
    kind, fields = plot_job({"wrt": wrts, "lo": lo, "hi": hi, "n": 40 if len(wrts) == 2 else args.samples})
    answer = run_job({"kind": kind, "source": source, "inputs": inputs, **fields})
    from .errors import unwrap
    data = unwrap(answer)  # a refusal: main() prints its sentence
    figure = plots.figure_2d(data) if len(wrts) == 2 else plots.figure_1d(dict(data, show_d2f=args.d2f))
    path = Path(args.output)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in ("svg", "png"):
        raise CommandError("plots are written as .svg or .png")
    path.write_bytes(plots.to_bytes(figure, fmt))
    _progress(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


def check_command(args) -> int:
    from .python_api import trace
    source = _source(args.file)
    result = trace(source, grad_output=args.grad_output, **_fill_inputs(source, _inputs(args.at)))
    output = result["output"]
    print(f"output  {_short(output['value'])}  shape {output['shape']}")
    width = max([4] + [len(name) for name in result["leaves"]])
    print(f"{'leaf'.ljust(width)}  {'value':<24}  grad")
    for name, leaf in result["leaves"].items():
        grad = "not computed" if leaf["grad"] is None else _short(leaf["grad"])
        print(f"{name.ljust(width)}  {_short(leaf['value']):<24}  {grad}")
    for line in result["prints"]:  # Python's carry their line; R's are the text alone
        print(f"print (line {line['line']}): {line['text']}" if isinstance(line, dict) else f"print: {line}")
    if result.get("result") and result["result"].get("line"):
        # as the program's language prints it (R torch's form for an R program)
        print(f"result (line {result['result']['line']}):\n{result['result']['text']}")
    if args.steps:
        print_steps(result)
    return 0


def print_steps(result: dict) -> None:
    """Every step's sentence, whole (each contribution of a fan-out and their sum): the
    trace's `explain`, as the page, the GIF and steps.zip show it."""
    from .lesson.steps import animation_steps
    names = {n["id"]: n.get("name") or n["label"] for n in result.get("nodes", [])}
    steps = animation_steps(result)
    for number, step in enumerate(steps, 1):
        print(f"\nstep {number}/{len(steps)}, {step['phase']}, {names.get(step['node'], step['node'])}:")
        print(step["caption"])


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def serve(args) -> int:
    from . import create_app
    from .sandbox.isolation import NoWalls, walls_at_start
    try:
        walls_at_start(args.host, args.production)
    except NoWalls as refusal:
        raise CommandError(str(refusal)) from None
    from .sandbox.shared_state import RedisUnavailable
    config = {"TRUSTED_PROXIES": args.trusted_proxy} if args.trusted_proxy else None
    try:
        app = create_app(config)
    except RedisUnavailable as refusal:
        raise CommandError(str(refusal)) from None
    except ValueError as refusal:  # ipaddress's own sentence names the address
        raise CommandError(f"--trusted-proxy / CHAINRULE_TRUSTED_PROXIES: {refusal}") from None
    if args.production:
        from .production import run_production
        run_production(app, args.host, args.port, threads=args.threads)
    else:
        print(f"chainrule serving on http://{args.host}:{args.port}", file=sys.stderr)
        app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule", description="See automatic differentiation happen, on real PyTorch.")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name, help_text, run):
        sub = commands.add_parser(name, help=help_text, description=help_text, epilog=EXAMPLES[name],
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(run=run)
        return sub

    p = command("serve", "serve the classroom page", serve)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; 0.0.0.0 for a classroom LAN)")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--production", action="store_true",
                   help="serve with waitress (slow clients hold no thread), not Flask's dev server")
    p.add_argument("--threads", type=int, default=32, help="app threads of the waitress server (--production)")
    p.add_argument("--trusted-proxy", action="append", metavar="ADDRESS",
                   help="a proxy or load balancer (address or network, e.g. 10.0.0.2 or 10.0.0.0/24) "
                        "whose X-Forwarded-For names the student's address (repeatable; also "
                        "CHAINRULE_TRUSTED_PROXIES, comma-separated); from anyone else it is ignored")

    p = command("render", "draw a function's autograd graph to .svg, .png or .dot", render_command)
    p.add_argument("function", help="an expression, a snippet, or a .py file holding one")
    p.add_argument("--at", action="append", metavar="NAME=VALUE", help="an input's value (repeatable)")
    p.add_argument("-o", "--output", required=True, help="graph.svg, graph.png, graph.dot or lesson.gif")
    p.add_argument("--view", choices=("values", "autograd"), default="values")
    p.add_argument("--grad-output", help='for a non-scalar output: "ones" or a JSON list')
    p.add_argument("--language", choices=("python", "r"), help="the source's language (default: detected)")
    p.add_argument("--fold", choices=tuple(FOLD), default="auto", help=FOLD_HELP)

    p = command("steps", "write every step of the animation as its own SVG (for slides)", steps_command)
    p.add_argument("function", help="an expression, a snippet, or a .py file holding one")
    p.add_argument("--at", action="append", metavar="NAME=VALUE", help="an input's value (repeatable)")
    p.add_argument("-o", "--output", required=True, help="a folder for 001.svg, 002.svg, …")
    p.add_argument("--grad-output", help='for a non-scalar output: "ones" or a JSON list')
    p.add_argument("--fold", choices=tuple(FOLD), default="auto", help=FOLD_HELP)

    p = command("plot", "plot f and its autograd derivative, with the tangent at the point", plot_command)
    p.add_argument("function", help="an expression, a snippet, or a .py file holding one")
    p.add_argument("--wrt", required=True, help="the input to plot against (two, comma-separated, for a contour)")
    p.add_argument("--range", nargs=2, type=float, default=(-4.0, 4.0), metavar=("LO", "HI"))
    p.add_argument("--at", action="append", metavar="NAME=VALUE", help="an input's value (repeatable)")
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--d2f", action="store_true", help="add the second derivative")
    p.add_argument("-o", "--output", required=True, help="plot.svg or plot.png")
    p.add_argument("--language", choices=("python", "r"), help="the source's language (default: detected)")

    p = command("check", "evaluate a snippet file; print the output and each leaf's gradient", check_command)
    p.add_argument("file", help="a .py file (or the text itself)")
    p.add_argument("--at", action="append", metavar="NAME=VALUE", help="an input's value (repeatable)")
    p.add_argument("--grad-output", help='for a non-scalar output: "ones" or a JSON list')
    p.add_argument("--language", choices=("python", "r"), help="the source's language (default: detected)")
    p.add_argument("--steps", action="store_true",
                   help="also print every step's sentence, as the page shows it")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "grad_output", None):
            from .web.query import grad_output_from_query
            args.grad_output = grad_output_from_query({"grad_output": args.grad_output})
        from .language.frontend import source_language
        with source_language(getattr(args, "language", None)):
            return args.run(args)
    except CommandError as error:
        print(f"chainrule: error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - a ChainruleError or a file problem: one line
        from .errors import ChainruleError
        if isinstance(error, ChainruleError):
            where = f" (line {error.line}, column {error.col})" if error.line else ""
            print(f"chainrule: error: {error.message}{where}", file=sys.stderr)
            return 1
        if isinstance(error, OSError):
            print(f"chainrule: error: {error}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
