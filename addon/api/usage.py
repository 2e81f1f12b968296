"""``GET /api/v1/usage``: what the hub's traffic cost, from the ledger, plus the budget state."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from addon.api.context import hub
from addon.api.envelope import endpoint
from addon.errors import InvalidRequestError


@endpoint
async def usage(request: web.Request) -> Mapping[str, Any]:
    """Totals and breakdowns for ``[since, until)`` (default: this UTC month up to now)."""
    since = parse_instant(request.query.get("since"), "since")
    until = parse_instant(request.query.get("until"), "until")
    return (await hub(request).manager.usage(since, until)).to_dict()


def parse_instant(raw: str | None, name: str) -> float | None:
    """A query parameter given as Unix seconds or ISO 8601 (naive means UTC), as Unix seconds.

    None when the parameter is absent or blank (the manager's default applies).
    """
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise InvalidRequestError(
            f"'{name}' must be Unix seconds or an ISO 8601 time such as 2026-01-31T00:00:00Z",
            field=name,
        ) from err
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
