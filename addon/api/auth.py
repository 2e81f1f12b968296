"""Bearer-token authentication, and Home Assistant ingress as the one trusted exception."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable

from aiohttp import web

from addon.api.context import hub
from addon.errors import UnauthorizedError

PUBLIC_PATHS = frozenset({"/health"})
INGRESS_HEADER = "X-Ingress-Path"


def token_matches(presented: str, expected: str) -> bool:
    """Constant-time comparison of two tokens (an empty expected token matches nothing)."""
    if not expected:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())


def bearer_token(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_trusted_ingress(request: web.Request, trusted: tuple[str, ...]) -> bool:
    """True for requests the Supervisor's ingress proxy made (its address and its header).

    The Supervisor has already authenticated the Home Assistant user; from any other address
    the ingress header grants nothing.
    """
    if INGRESS_HEADER not in request.headers or request.remote is None:
        return False
    try:
        remote = ipaddress.ip_address(request.remote)
    except ValueError:
        return False
    return any(remote == ipaddress.ip_address(address) for address in trusted)


@web.middleware
async def auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Require the bearer token on every route but ``/health`` (and trusted ingress)."""
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    context = hub(request)
    if is_trusted_ingress(request, context.trusted_ingress):
        return await handler(request)
    token = bearer_token(request)
    if token is None:
        raise UnauthorizedError("Missing bearer token: send 'Authorization: Bearer <api token>'")
    if not token_matches(token, context.api_token.reveal()):
        raise UnauthorizedError("Invalid bearer token")
    return await handler(request)
