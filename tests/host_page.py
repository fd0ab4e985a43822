"""A host page served on another origin, as a course page that frames chainrule."""
from __future__ import annotations

import http.server


class HostPage(http.server.BaseHTTPRequestHandler):
    """Answers every GET with `body` (set on a subclass per test) as HTML, quietly."""

    body = b""

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass
