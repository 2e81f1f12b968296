"""The one place that owns the response envelope.

Handlers return plain data (a mapping) or raise ``HubError``; ``endpoint`` turns data into JSON
and ``error_middleware`` turns every error, ours or aiohttp's, into
``{"error": {"key", "message", ...}}`` with the error's HTTP status.
"""

from __future__ import annotations

import functools
import logging
import math
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from addon.errors import (
    HubError,
    InvalidRequestError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaError,
)

_LOGGER = logging.getLogger(__name__)

DataHandler = Callable[[web.Request], Awaitable[Mapping[str, Any]]]
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id", str)


def endpoint(handler: DataHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a handler that returns data into one that answers JSON."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        return web.json_response(dict(await handler(request)))

    return wrapper


def request_id(request: web.Request) -> str:
    """Return the request's id (assigned once, echoed in the response header)."""
    if REQUEST_ID in request:
        return request[REQUEST_ID]
    new_id = uuid.uuid4().hex
    request[REQUEST_ID] = new_id
    return new_id


def error_body(err: HubError) -> dict[str, Any]:
    """The error envelope for ``err``."""
    return {"error": err.to_dict()}


def error_response(err: HubError, rid: str) -> web.Response:
    """The JSON error response for ``err``."""
    body = error_body(err)
    body["error"]["request_id"] = rid
    headers = {REQUEST_ID_HEADER: rid, **retry_after_header(err), **allow_header(err)}
    return web.json_response(body, status=err.status, headers=headers)


def retry_after_header(err: HubError) -> dict[str, str]:
    """``Retry-After`` in whole seconds, rounded up so a client never comes back too early."""
    retry_after = err.details.get("retry_after")
    if not isinstance(retry_after, int | float):
        return {}
    return {"Retry-After": str(max(1, math.ceil(retry_after)))}


_HTTP_ERRORS: Mapping[int, type[HubError]] = {
    400: InvalidRequestError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaError,
}


def _from_http_exception(exc: web.HTTPException) -> HubError:
    error_class = _HTTP_ERRORS.get(exc.status, InvalidRequestError)
    if exc.status == 413:
        return PayloadTooLargeError(f"Request body too large: {exc.text or exc.reason}")
    if exc.status == 404:
        return NotFoundError("No such endpoint")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return method_not_allowed(exc)
    return error_class(exc.text or exc.reason)


def method_not_allowed(exc: web.HTTPMethodNotAllowed) -> MethodNotAllowedError:
    """The 405 for ``exc``, naming the methods the route takes."""
    allowed = sorted(exc.allowed_methods)
    return MethodNotAllowedError(
        f"Method {exc.method} is not allowed here; use {', '.join(allowed)} "
        "(see /api/v1/openapi.json)",
        allowed=allowed,
    )


def allow_header(err: HubError) -> dict[str, str]:
    """``Allow`` for a 405 (RFC 9110 15.5.6)."""
    allowed = err.details.get("allowed")
    return {"Allow": ", ".join(allowed)} if isinstance(allowed, list) else {}


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Map every error to the envelope; tag every response with the request id."""
    rid = request_id(request)
    try:
        response = await handler(request)
    except HubError as err:
        return error_response(err, rid)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(_from_http_exception(exc), rid)
    except Exception:
        _LOGGER.exception("Unexpected error handling %s %s", request.method, request.path)
        return error_response(HubError("Internal error; see the add-on log"), rid)
    if not response.prepared:
        response.headers.setdefault(REQUEST_ID_HEADER, rid)
    return response
