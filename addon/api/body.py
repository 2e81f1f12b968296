"""Reading request bodies: the one JSON reader every handler uses, and one field checker."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from aiohttp import web

from addon.api.security import parse_json
from addon.errors import InvalidRequestError
from addon.validation import humanize


async def read_json(request: web.Request) -> Any:
    """The JSON body, or a clear ``invalid_request`` (bad syntax, nested too deep)."""
    try:
        text = await request.text()
    except ValueError as err:
        raise InvalidRequestError(f"The request body is not valid JSON: {err}") from err
    return parse_json(text)


def checked_fields(schema: vol.Schema, body: Any) -> dict[str, Any]:
    """``body`` through ``schema``, or ``invalid_request`` naming the field at fault (``param``)."""
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object")
    try:
        data: dict[str, Any] = schema(body)
    except vol.Invalid as err:
        first = err.errors[0] if isinstance(err, vol.MultipleInvalid) else err
        param = ".".join(str(p) for p in first.path) or None
        raise InvalidRequestError(f"Invalid request: {humanize(err)}", param=param) from err
    return data
