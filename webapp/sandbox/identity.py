"""Who is asking: a browser's signed cookie together with its address.

A class often shares one address (NAT, a proxy), so the address alone would make one
student's penalties everyone's. The server gives each browser a random token signed
with HMAC (clients cannot mint or forge one) and keys fairness on address + token.

- A request without a valid cookie is a *newcomer*: all newcomers of an address share
  one bucket, with a stricter cap and the cool-downs of every offender in it, so
  dropping cookies gains nothing.
- A cookie younger than SETTLE_SECONDS is also charged to its address's newcomer
  bucket, so fetching fresh cookies to escape a cool-down gains nothing either.
- Fresh cookies per address are rate-limited (MINT_PER_MINUTE).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass

from flask import Flask, current_app, request

COOKIE = "chainrule_id"
from ..limits import MINT_PER_MINUTE


@dataclass(frozen=True)
class Identity:
    key: str            # what fairness counts against
    newcomer_key: str   # the address's shared bucket
    settled: bool       # a cookie old enough to stand alone


def init_app(app: Flask) -> None:
    app.config.setdefault("IDENTITY_SECRET", os.environ.get("CHAINRULE_SECRET") or
                          secrets.token_hex(32))
    app.config.setdefault("SETTLE_SECONDS", float(os.environ.get("CHAINRULE_SETTLE", 30.0)))

    @app.after_request
    def give_cookie(response):
        """A browser without a valid cookie gets one (a few per address and minute)."""
        if _verify(request.cookies.get(COOKIE)) is None:
            counters = app.extensions["chainrule_clients"].counters
            address = request.remote_addr or "local"
            if counters.increment(f"mint:{address}", 1, ttl=60) <= MINT_PER_MINUTE:
                response.set_cookie(COOKIE, _mint(), max_age=30 * 86400, httponly=True,
                                    samesite="Lax")
        return response


def _sign(payload: str) -> str:
    secret = current_app.config["IDENTITY_SECRET"].encode()
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()[:32]


def _mint() -> str:
    payload = f"{secrets.token_hex(12)}.{int(time.time())}"
    return f"{payload}.{_sign(payload)}"


def _verify(cookie: str | None) -> tuple[str, float] | None:
    """(token, issue time) of a cookie this server signed, else None."""
    if not cookie or cookie.count(".") != 2 or len(cookie) > 100:
        return None
    token, issued, signature = cookie.split(".")
    if not hmac.compare_digest(signature, _sign(f"{token}.{issued}")) or not issued.isdigit():
        return None
    return token, float(issued)


def current_identity() -> Identity:
    """The identity of this request (outside a request: one local identity)."""
    if not request:
        return Identity("local", "local", settled=True)
    address = request.remote_addr or "local"
    newcomer = f"{address}|newcomer"
    verified = _verify(request.cookies.get(COOKIE))
    if verified is None:
        return Identity(newcomer, newcomer, settled=False)
    token, issued = verified
    settled = time.time() - issued >= current_app.config["SETTLE_SECONDS"]
    return Identity(f"{address}|{token}", newcomer, settled)
