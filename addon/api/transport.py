"""Transport checks before any handler reads a body: encoding, charset, media type, framing.

Every request that carries a body passes here first, whatever its route, so a new route is
covered without thinking about it:

* ``Content-Encoding`` other than ``identity`` is 415 (``Accept-Encoding: identity`` says what
  is accepted). The server is built with ``auto_decompress=False``, so a body that claims to
  be gzip but is not never reaches a decompressor, and no compressed bomb is ever inflated.
* A ``charset`` other than UTF-8 (or its ASCII subset) is 415: JSON is UTF-8 (RFC 8259).
* The media types an operation takes come from the OpenAPI document (``requestBody``): a body
  on an operation without one is 400, multipart on an operation that takes only JSON is 415,
  and multipart without a boundary is 400.
* Reading is bounded in time (slow clients, ``Content-Length`` larger than what is sent): a
  JSON body is read here within ``READ_TIMEOUT`` (408 ``request_timeout`` after), multipart
  bodies within the same deadline by their reader, and the server closes a connection whose
  request headers have not arrived within it (aiohttp's keep-alive timer, which also closes
  idle keep-alive connections). Responses, SSE streams included, are not bounded by it.
* A message aiohttp cannot parse (a NUL in a header, a header without a colon, a bad
  ``Content-Length``) is aiohttp's own 400; ``quiet_malformed_requests`` keeps its traceback out
  of the log at the usual levels, so a client cannot fill the add-on's log with them.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import cache
from typing import Any, Final

from aiohttp import web
from aiohttp.helpers import parse_mimetype
from aiohttp.http_exceptions import HttpProcessingError

from addon.api.openapi import openapi_document
from addon.errors import InvalidRequestError, RequestTimeoutError, UnsupportedMediaError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

UTF8_CODECS: Final = frozenset({"utf-8", "ascii"})
IDENTITY: Final = frozenset({"", "identity"})
MULTIPART: Final = "multipart/form-data"
READ_TIMEOUT: Final = 60.0
BODY_DEADLINE: Final = web.AppKey("body_deadline", float)


class _ClientsBrokenHttp(logging.Filter):
    """Lets aiohttp's report of a client's malformed message through at debug only."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError) or error.code >= 500:
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def quiet_malformed_requests() -> None:
    """Log a client's malformed HTTP message (aiohttp answers it 400) at debug, not as an error."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, _ClientsBrokenHttp) for f in server_log.filters):
        server_log.addFilter(_ClientsBrokenHttp())


def server_args(read_timeout: float = READ_TIMEOUT) -> Mapping[str, Any]:
    """Server settings the checks rely on (the application's ``handler_args``)."""
    return {"auto_decompress": False, "keepalive_timeout": read_timeout}


def body_deadline(request: web.Request) -> float:
    """Seconds a request's body may take to arrive."""
    return request.app.get(BODY_DEADLINE, READ_TIMEOUT)


@cache
def body_media_types() -> dict[tuple[str, str], frozenset[str]]:
    """(METHOD, path template) -> the media types its ``requestBody`` lists (empty: none)."""
    rules: dict[tuple[str, str], frozenset[str]] = {}
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and "responses" in operation:
                content = operation.get("requestBody", {}).get("content", {})
                rules[(method.upper(), path)] = frozenset(content)
    return rules


@web.middleware
async def transport_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a body the hub cannot read as declared, before its handler starts."""
    if request.body_exists and request.match_info.http_exception is None:
        check_transport(request)
        if not request.content_type.startswith("multipart/"):
            await read_body(request)
    return await handler(request)


async def read_body(request: web.Request) -> bytes:
    """The whole body (kept by aiohttp for the handler), or 408 when it is too slow to come."""
    deadline = body_deadline(request)
    try:
        async with asyncio.timeout(deadline):
            return await request.read()
    except TimeoutError as err:
        raise RequestTimeoutError(f"The request body did not arrive within {deadline:g} s") from err


def check_transport(request: web.Request) -> None:
    """Raise the 4xx for a body whose encoding, charset, media type or framing is not taken."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in IDENTITY:
        raise UnsupportedMediaError(
            f"Compressed request bodies are not accepted (Content-Encoding: {encoding[:40]}); "
            "send the body uncompressed"
        )
    charset = request.charset
    if charset is not None and _codec(charset) not in UTF8_CODECS:
        raise UnsupportedMediaError(f"Send the body as UTF-8, not charset {charset[:40]!r}")
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else request.path
    accepted = body_media_types().get((request.method, template))
    if accepted is None:
        return
    if not accepted:
        raise InvalidRequestError(f"{request.method} {template} takes no request body")
    if request.content_type.startswith("multipart/"):
        if MULTIPART not in accepted:
            raise UnsupportedMediaError(f"Send JSON, not {request.content_type[:60]!r}")
        if not parse_mimetype(request.headers["Content-Type"]).parameters.get("boundary"):
            raise InvalidRequestError("Malformed multipart body: the boundary is missing")


def _codec(charset: str) -> str:
    try:
        return codecs.lookup(charset.strip().strip('"')).name
    except LookupError:
        return ""
