"""``GET /api/v1/requests`` (recent requests with attempt trails) and ``GET /api/v1/routing``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from addon.api.context import hub
from addon.api.envelope import endpoint
from addon.errors import InvalidRequestError

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 200


@endpoint
async def recent_requests(request: web.Request) -> Mapping[str, Any]:
    """The newest requests from the ledger, newest first, each with its attempts.

    Prompts and images are never stored, so they are never shown.
    """
    limit = parse_limit(request.query.get("limit"))
    return {"requests": await hub(request).manager.recent_requests(limit)}


@endpoint
async def routing(request: web.Request) -> Mapping[str, Any]:
    """The routing configuration, each part with a line saying what it does."""
    return hub(request).manager.routing_overview()


def parse_limit(raw: str | None) -> int:
    """``limit`` as a whole number from 1 to ``MAX_LIMIT`` (default ``DEFAULT_LIMIT``)."""
    if raw is None or not raw.strip():
        return DEFAULT_LIMIT
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise InvalidRequestError(
            f"'limit' must be a whole number from 1 to {MAX_LIMIT}", field="limit"
        )
    return value
