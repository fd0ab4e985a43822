"""Static URLs that carry a hash of the file's content, so they can be cached for good."""
from __future__ import annotations

import hashlib
import os

from flask import Flask, url_for

from ..memo import bytes_bounded


def init_app(app: Flask) -> None:
    @bytes_bounded(64 * 1024, name="web.assets.digest")
    def digest(path: str) -> str:
        with open(os.path.join(app.static_folder, path), "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()[:12]

    @app.template_global()
    def asset(path: str) -> str:
        return url_for("static", filename=path, v=digest(path))

    app.config.setdefault("SEND_FILE_MAX_AGE_DEFAULT", 365 * 24 * 3600)
