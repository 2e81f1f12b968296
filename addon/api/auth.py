"""Bearer-token authentication, and Home Assistant ingress as the one trusted exception.

Public without a token: ``/health`` and the dashboard's static shell (``/`` and
``/static/{file}``: no data, no secrets; the page asks for the token, or relies on ingress, to
read the API). Trusted ingress reaches the routes the dashboard calls (``INGRESS_ROUTES``) and
nothing else: the OpenAI door, batch, vision, metrics and the rotations still need the token.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable

from aiohttp import web

from addon.api.context import hub
from addon.errors import UnauthorizedError

PUBLIC_PATHS = frozenset({"/health", "/", "/static/{file}"})
INGRESS_ROUTES = frozenset(
    {
        ("GET", "/api/v1/providers"),
        ("GET", "/api/v1/usage"),
        ("GET", "/api/v1/requests"),
        ("GET", "/api/v1/routing"),
        ("POST", "/api/v1/chat"),
        ("PUT", "/api/v1/providers/{name}/credentials"),
        ("DELETE", "/api/v1/providers/{name}/credentials"),
        ("POST", "/api/v1/providers/{name}/test"),
    }
)
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


def route_of(request: web.Request) -> tuple[str, str] | None:
    """``(method, canonical path)`` of the route ``request`` matched (HEAD counts as GET)."""
    resource = request.match_info.route.resource
    if resource is None:
        return None
    method = "GET" if request.method == "HEAD" else request.method
    return method, resource.canonical


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
    """Require the bearer token but on public routes and, for trusted ingress, its routes."""
    route = route_of(request)
    if route is not None and route[1] in PUBLIC_PATHS:
        return await handler(request)
    context = hub(request)
    if route in INGRESS_ROUTES and is_trusted_ingress(request, context.trusted_ingress):
        return await handler(request)
    token = bearer_token(request)
    if token is None:
        raise UnauthorizedError("Missing bearer token: send 'Authorization: Bearer <api token>'")
    if not token_matches(token, context.api_token.reveal()):
        raise UnauthorizedError("Invalid bearer token")
    return await handler(request)
