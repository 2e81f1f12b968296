"""``GET /api/v1/usage``: what the hub's traffic cost, from the ledger, plus the budget state."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from addon.api.context import HubContext, hub
from addon.api.envelope import endpoint
from addon.errors import InvalidRequestError
from addon.ledger.report import UsageStats, build_report, day_of
from addon.routing.budget import period_starts


@endpoint
async def usage(request: web.Request) -> Mapping[str, Any]:
    """Totals and breakdowns for ``[since, until)`` (default: this UTC month up to now)."""
    context = hub(request)
    now = time.time()
    month_start = period_starts(now)[1]
    since = parse_instant(request.query.get("since"), "since", default=month_start)
    until = parse_instant(request.query.get("until"), "until", default=now)
    if until <= since:
        raise InvalidRequestError("'until' must be after 'since'", field="until")
    month = await _report(context, month_start, now)
    report = month if (since, until) == (month_start, now) else await _report(context, since, until)
    return {**report, **usage_summary(context, month, now)}


async def current_usage(context: HubContext, now: float) -> dict[str, Any]:
    """``usage_summary`` as of ``now`` (one ledger read: this UTC month)."""
    month = await _report(context, period_starts(now)[1], now)
    return usage_summary(context, month, now)


def usage_summary(context: HubContext, month: Mapping[str, Any], now: float) -> dict[str, Any]:
    """Today's and this month's totals (UTC, as the budgets count) and the budget state.

    ``month`` is the report of this UTC month up to ``now``; today is its last UTC day.
    """
    today = month["by_day"].get(day_of(now, UTC), UsageStats().to_dict())
    return {
        "today": today,
        "month": month["totals"],
        "budget": context.manager.guards.budgets.state(),
    }


def parse_instant(raw: str | None, name: str, *, default: float) -> float:
    """A query parameter given as Unix seconds or ISO 8601 (naive means UTC), as Unix seconds."""
    if raw is None or not raw.strip():
        return default
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


async def _report(context: HubContext, since: float, until: float) -> dict[str, Any]:
    ledger = context.manager.guards.ledger
    if ledger is None:  # a hub without a data directory keeps no records
        return build_report([], since, until, UTC).to_dict()
    return (await ledger.usage(since, until)).to_dict()
