"""The `chainrule` command line (also `python -m webapp`)."""
from __future__ import annotations

import argparse
import sys


def serve(args) -> int:
    from . import create_app
    app = create_app()
    if args.production:
        from .production import run_gunicorn
        run_gunicorn(app, args.host, args.port, threads=args.threads)
    else:
        print(f"chainrule serving on http://{args.host}:{args.port}", file=sys.stderr)
        app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule", description="See automatic differentiation happen, on real PyTorch.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p_serve = commands.add_parser(
        "serve", help="serve the classroom page",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  chainrule serve\n  chainrule serve --production --host 0.0.0.0 --port 8000")
    p_serve.add_argument("--host", default="127.0.0.1",
                         help="address to bind (default 127.0.0.1; 0.0.0.0 for a classroom LAN)")
    p_serve.add_argument("--port", type=int, default=5000)
    p_serve.add_argument("--production", action="store_true",
                         help="serve with gunicorn (threads) instead of Flask's development server")
    p_serve.add_argument("--threads", type=int, default=32, help="gunicorn threads (--production)")
    p_serve.set_defaults(run=serve)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
