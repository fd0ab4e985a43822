"""Response headers: a Content-Security-Policy with no inline scripts, and framing rules.

Only /embed and the images may be framed, by any page (file: included); every other page refuses to be framed.
"""
from __future__ import annotations

from flask import Flask, request

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'")


EMBEDDABLE = frozenset({"pages.embed", "images.graph_svg", "images.graph_png", "images.plot_svg",
                        "images.plot_png"})


def init_app(app: Flask) -> None:
    @app.after_request
    def add_security_headers(response):
        embeddable = request.endpoint in EMBEDDABLE
        # No frame-ancestors at all for embeds: "*" does not match file: pages (slides
        # opened from disk), and no source expression can.
        response.headers["Content-Security-Policy"] = (
            POLICY if embeddable else POLICY + "; frame-ancestors 'none'")
        if not embeddable:
            response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        return response
