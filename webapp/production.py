"""Serve the app with gunicorn: one process, many threads, the evaluator pool beside it.

One gunicorn process is enough: the CPU work happens in the evaluator pool, and the
web threads only wait on it. The app keeps no state between requests (everything is
in the URL), so more processes or machines behind a load balancer need nothing shared.
"""
from __future__ import annotations

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def run_gunicorn(app, host: str, port: int, threads: int = 32) -> None:
    _Gunicorn(app, {"bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread",
                    "threads": threads, "timeout": 60, "accesslog": "-"}).run()
