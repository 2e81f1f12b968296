"""What the hub's traffic cost: a ledger report plus today, this month and the budget state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from addon.errors import InvalidRequestError
from addon.ledger import Ledger
from addon.ledger.report import UsageStats, build_report, day_of
from addon.routing.budget import BudgetGuard, period_starts


@dataclass(frozen=True, slots=True)
class UsageOverview:
    """A report for ``[since, until)`` and the figures the budgets count (UTC day and month).

    ``today`` is the last UTC day of ``month`` (this UTC month up to now).
    """

    report: Mapping[str, Any]
    today: Mapping[str, Any]
    month: Mapping[str, Any]
    budget: Mapping[str, Any]

    def summary(self) -> dict[str, Any]:
        """Today, this month and the budget state."""
        return {"today": self.today, "month": self.month, "budget": self.budget}

    def to_dict(self) -> dict[str, Any]:
        """The report with the summary beside it (``GET /api/v1/usage``)."""
        return {**self.report, **self.summary()}


async def usage_overview(
    ledger: Ledger | None,
    budgets: BudgetGuard,
    now: float,
    since: float | None = None,
    until: float | None = None,
) -> UsageOverview:
    """The overview for ``[since, until)`` (default: this UTC month up to ``now``).

    The month is read once; a range equal to it reuses that read.
    """
    month_start = period_starts(now)[1]
    since = month_start if since is None else since
    until = now if until is None else until
    if until <= since:
        raise InvalidRequestError("'until' must be after 'since'", field="until")
    month = await _report(ledger, month_start, now)
    report = month if (since, until) == (month_start, now) else await _report(ledger, since, until)
    return UsageOverview(
        report=report,
        today=month["by_day"].get(day_of(now, UTC), UsageStats().to_dict()),
        month=month["totals"],
        budget=budgets.state(),
    )


async def _report(ledger: Ledger | None, since: float, until: float) -> dict[str, Any]:
    if ledger is None:  # a hub without a data directory keeps no records
        return build_report([], since, until, UTC).to_dict()
    return (await ledger.usage(since, until)).to_dict()
