"""Reading request bodies: the one JSON reader every handler uses."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from addon.api.security import parse_json
from addon.errors import InvalidRequestError


async def read_json(request: web.Request) -> Any:
    """The JSON body, or a clear ``invalid_request`` (bad syntax, nested too deep)."""
    try:
        text = await request.text()
    except ValueError as err:
        raise InvalidRequestError(f"The request body is not valid JSON: {err}") from err
    return parse_json(text)
