"""Request and response hardening: JSON depth limit, security headers, no CORS.

``parse_json`` is what ``read_json`` uses for every JSON body: it refuses bodies nested deeper
than ``MAX_JSON_DEPTH`` with a 400 ``invalid_request``. ``security_headers`` runs on
``on_response_prepare``, so it also reaches streamed (SSE) responses and error pages, which a
middleware would see only after their headers were sent.
"""

from __future__ import annotations

import json
from typing import Any, Final

from aiohttp import web
from multidict import CIMultiDict

from addon.errors import InvalidRequestError

MAX_JSON_DEPTH: Final = 32

COMMON_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# The dashboard is served through Home Assistant ingress in an iframe of the same origin.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)
HTML_HEADERS: Final = {
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}
JSON_TYPES: Final = frozenset({"application/json", "application/problem+json"})
CORS_PREFIX: Final = "access-control-"


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``value`` nests lists/objects deeper than ``limit`` (an iterative walk).

    A scalar has depth 0, ``[]`` and ``{}`` depth 1, ``[[1]]`` depth 2.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def parse_json(text: str, limit: int = MAX_JSON_DEPTH) -> Any:
    """Decode ``text``; a syntax error or nesting deeper than ``limit`` is ``invalid_request``."""
    too_deep = f"JSON nested too deep: at most {limit} levels of arrays and objects"
    try:
        value = json.loads(text)
    except RecursionError as err:
        # The decoder recurses per level; absurd nesting must answer 400, not 500.
        raise InvalidRequestError(too_deep) from err
    except ValueError as err:
        raise InvalidRequestError(f"The request body is not valid JSON: {err}") from err
    # Fewer brackets in the whole text than the limit cannot nest deeper (C-speed counts).
    if text.count("[") + text.count("{") > limit and json_depth_exceeds(value, limit):
        raise InvalidRequestError(too_deep)
    return value


def secure(headers: CIMultiDict[str]) -> None:
    """Add the security headers for the body type in ``headers``; drop any CORS header."""
    for name in [n for n in headers if n.lower().startswith(CORS_PREFIX)]:
        headers.popall(name)
    headers.update(COMMON_HEADERS)
    media_type = headers.get("Content-Type", "").partition(";")[0].strip().lower()
    if media_type == "text/html":
        headers.update(HTML_HEADERS)
    elif media_type in JSON_TYPES:
        headers["Cache-Control"] = "no-store"


async def security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: every response leaves with the security headers."""
    secure(response.headers)


def install(app: web.Application) -> None:
    """Register the security headers hook on ``app``."""
    app.on_response_prepare.append(security_headers)
