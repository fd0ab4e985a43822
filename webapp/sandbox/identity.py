"""Who is asking: a browser's signed cookie together with its address.

A class often shares one address (NAT, a proxy), so the address alone would make one
student's penalties everyone's. The server gives each browser a random token signed
with HMAC (clients cannot mint or forge one) and keys fairness on address + token.

- A request without a valid cookie is a *newcomer*: all newcomers of an address share
  one bucket, with a stricter cap and the cool-downs of every offender in it, so
  dropping cookies gains nothing.
- A cookie younger than SETTLE_SECONDS is also charged to its address's newcomer
  bucket, so fetching fresh cookies to escape a cool-down gains nothing either.
- Fresh cookies per address are rate-limited (MINT_PER_MINUTE), and only pages, images
  and the API give them: /healthz and static files (a load balancer's checks, a
  script's loop) never spend an address's budget.

Behind a proxy or load balancer every request comes from the proxy's address. The
address is then read from `X-Forwarded-For`, but only when the request comes from a
proxy the operator named (TRUSTED_PROXIES: `--trusted-proxy`, CHAINRULE_TRUSTED_PROXIES);
from anyone else the header is a client's claim and is ignored.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import time
from dataclasses import dataclass

from flask import Flask, current_app, request

from ..services import services

COOKIE = "chainrule_id"
from ..limits import MINT_PER_MINUTE


@dataclass(frozen=True)
class Identity:
    key: str            # what fairness counts against
    newcomer_key: str   # the address's shared bucket
    settled: bool       # a cookie old enough to stand alone


# Routes that never give a cookie (nor count one against the address's budget).
NO_COOKIE = frozenset({"static", "api.healthz"})


def init_app(app: Flask) -> None:
    if not app.config.get("IDENTITY_SECRET") and not os.environ.get("CHAINRULE_SECRET"):
        # Invented here; shared_state.configure replaces it with the one its Redis holds.
        app.extensions["chainrule_secret_invented"] = True
    app.config.setdefault("IDENTITY_SECRET", os.environ.get("CHAINRULE_SECRET") or
                          secrets.token_hex(32))
    app.config.setdefault("SETTLE_SECONDS", float(os.environ.get("CHAINRULE_SETTLE", 20.0)))
    app.config.setdefault("TRUSTED_PROXIES", [
        part for part in os.environ.get("CHAINRULE_TRUSTED_PROXIES", "").replace(",", " ").split()])
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = TrustedProxies(app.wsgi_app, app.config["TRUSTED_PROXIES"])

    @app.after_request
    def give_cookie(response):
        """A browser without a valid cookie gets one (a few per address and minute)."""
        if request.endpoint is None or request.endpoint in NO_COOKIE:
            return response
        if _verify(request.cookies.get(COOKIE)) is None:
            counters = services(app).clients.counters
            address = request.remote_addr or "local"
            if counters.increment(f"mint:{address}", 1, ttl=60) <= MINT_PER_MINUTE:
                response.set_cookie(COOKIE, _mint(), max_age=30 * 86400, httponly=True,
                                    samesite="Lax")
        return response


class TrustedProxies:
    """WSGI middleware: REMOTE_ADDR becomes the client's address from `X-Forwarded-For`, but
    only for requests that come from one of `proxies` (addresses or networks, e.g.
    10.0.0.2 or 10.0.0.0/24). Each proxy appends the address it saw, so the client is the
    rightmost entry that is not itself a trusted proxy; what lies left of it is the client's
    own claim."""

    def __init__(self, wsgi_app, proxies):
        self.wsgi_app = wsgi_app
        self.networks = [ipaddress.ip_network(proxy, strict=False) for proxy in proxies]

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self._trusted(environ.get("REMOTE_ADDR", "")):
            hops = [hop.strip() for hop in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            for hop in reversed([hop for hop in hops if hop]):
                if not self._trusted(hop):
                    try:
                        environ["REMOTE_ADDR"] = str(ipaddress.ip_address(hop))
                    except ValueError:
                        pass  # not an address: keep the proxy's own
                    break
        return self.wsgi_app(environ, start_response)


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
