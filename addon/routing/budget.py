"""Spend budgets in USD per UTC day and UTC calendar month, global and per provider.

A request reserves its worst-case cost before the call and settles the actual cost after, so
concurrent requests can never push settled spend past a budget. Reservations are checked and
taken synchronously (no ``await`` in between), which makes them atomic on the event loop.
Reservations still in flight when a day or month rolls over count against the new period.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from addon.errors import BudgetExceededError
from addon.pricing import usd
from addon.settings import Settings

_LOGGER = logging.getLogger(__name__)

PERIODS = ("daily", "monthly")
DAY_SECONDS = 86_400
_EPSILON = 1e-9  # float sums of many small costs must not refuse a request that fits exactly


class SpendSource(Protocol):
    """What the ledger offers to seed the guard: USD spent since a Unix time."""

    async def spent(self, since: float, provider: str | None = None) -> float:
        """Cost recorded since ``since`` for ``provider`` (all providers when ``None``)."""


@dataclass(slots=True)
class _Scope:
    """Spend of one scope (the whole hub or one provider) in the current day and month."""

    day: tuple[int, int, int]
    month: tuple[int, int]
    daily_spent: float = 0.0
    monthly_spent: float = 0.0
    reserved: float = 0.0
    live: int = 0  # reservations not yet settled or cancelled

    def spent(self, period: str) -> float:
        """Settled spend in ``period``."""
        return self.daily_spent if period == "daily" else self.monthly_spent

    def add_reserved(self, amount: float, count: int) -> None:
        """Add (or, negative, remove) live reservations."""
        self.live += count
        self.reserved = max(0.0, self.reserved + amount) if self.live else 0.0


class Reservation:
    """An amount held against every applicable budget until settled or cancelled."""

    def __init__(self, guard: BudgetGuard, provider: str, amount: float) -> None:
        self._guard = guard
        self.provider = provider
        self.amount = amount
        self.done = False

    def settle(self, actual: float) -> None:
        """The call cost ``actual`` USD: record it (even above the reservation), free the rest."""
        if self._finish():
            self._guard.settle_reservation(self.provider, self.amount, max(0.0, actual))

    def cancel(self) -> None:
        """The call failed and costs nothing: release the whole reservation."""
        if self._finish():
            self._guard.settle_reservation(self.provider, self.amount, 0.0)

    def _finish(self) -> bool:
        if self.done:
            _LOGGER.debug("Budget reservation for %s was already closed", self.provider)
            return False
        self.done = True
        return True


class BudgetGuard:
    """Keeps spend within the configured daily and monthly budgets."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock
        self._scopes: dict[str | None, _Scope] = {}
        self._calendar: tuple[int, tuple[int, int, int], tuple[int, int]] = (-1, (0, 0, 0), (0, 0))

    def reconfigure(self, settings: Settings) -> None:
        """Apply new budgets; spend and reservations are kept."""
        self._settings = settings

    def seed(
        self,
        daily: Mapping[str | None, float],
        monthly: Mapping[str | None, float],
    ) -> None:
        """Start from spend already recorded this UTC day and month (key ``None``: the hub)."""
        for name in {*daily, *monthly}:
            scope = self._scope(name)
            scope.daily_spent = max(0.0, daily.get(name, 0.0))
            scope.monthly_spent = max(0.0, monthly.get(name, 0.0))

    async def load(self, ledger: SpendSource) -> None:
        """Seed from the ledger's records for today and this month (call before serving)."""
        day_start, month_start = period_starts(self._clock())
        names: list[str | None] = [None, *(p.name for p in self._settings.providers)]
        daily = {name: await ledger.spent(day_start, name) for name in names}
        monthly = {name: await ledger.spent(month_start, name) for name in names}
        self.seed(daily, monthly)

    def reserve(self, provider: str, amount: float) -> Reservation:
        """Hold ``amount`` USD for a call to ``provider``; ``BudgetExceededError`` if too much."""
        amount = max(0.0, amount)
        if amount > 0:
            refusal = self._refusal(provider, amount)
            if refusal is not None:
                raise refusal
        for scope in self._scopes_of(provider):
            scope.add_reserved(amount, 1)
        return Reservation(self, provider, amount)

    def allows(self, provider: str, amount: float) -> bool:
        """Whether ``reserve(provider, amount)`` would succeed now."""
        return amount <= 0 or self._refusal(provider, amount) is None

    def state(self) -> dict[str, Any]:
        """Limit, spent, reserved and left per period, for the hub and for each provider."""
        names = [p.name for p in self._settings.providers]
        names += sorted(n for n in self._scopes if n is not None and n not in names)
        return {
            **{period: self._period_state(None, period) for period in PERIODS},
            "providers": {
                name: {period: self._period_state(name, period) for period in PERIODS}
                for name in names
            },
        }

    def _limit(self, name: str | None, period: str) -> float | None:
        if name is None:
            config: Any = self._settings
        elif (config := self._settings.provider(name)) is None:
            return None
        limit: float | None = getattr(config, f"budget_{period}_usd")
        return limit

    def _today(self) -> tuple[tuple[int, int, int], tuple[int, int]]:
        """Today's UTC (year, month, day) and (year, month), worked out once a day.

        Every request asks several times; a Unix day is always 86,400 seconds.
        """
        index = int(self._clock() // DAY_SECONDS)
        if index != self._calendar[0]:
            now = datetime.fromtimestamp(index * DAY_SECONDS, UTC)
            self._calendar = (index, (now.year, now.month, now.day), (now.year, now.month))
        return self._calendar[1], self._calendar[2]

    def _scope(self, name: str | None) -> _Scope:
        day, month = self._today()
        scope = self._scopes.get(name)
        if scope is None:
            scope = self._scopes[name] = _Scope(day, month)
        if scope.day != day:
            scope.day, scope.daily_spent = day, 0.0
        if scope.month != month:
            scope.month, scope.monthly_spent = month, 0.0
        return scope

    def _scopes_of(self, provider: str) -> Iterator[_Scope]:
        yield self._scope(provider)
        yield self._scope(None)

    def _refusal(self, provider: str, amount: float) -> BudgetExceededError | None:
        for name in (provider, None):
            scope = self._scope(name)
            for period in PERIODS:
                limit = self._limit(name, period)
                if limit is None:
                    continue
                used = scope.spent(period) + scope.reserved
                if used + amount > limit + _EPSILON:
                    return self._error(
                        provider, name, period, limit=limit, used=used, amount=amount
                    )
        return None

    def _error(
        self,
        provider: str,
        name: str | None,
        period: str,
        *,
        limit: float,
        used: float,
        amount: float,
    ) -> BudgetExceededError:
        owner = "the hub's" if name is None else f"provider {name}'s"
        message = (
            f"{period.capitalize()} budget exceeded: {owner} {usd(limit)} {period} budget has "
            f"{usd(max(0.0, limit - used))} left, this request may cost up to {usd(amount)}"
        )
        _LOGGER.info("Refused a call to %s: %s", provider, message)
        return BudgetExceededError(
            message,
            provider=provider,
            scope="global" if name is None else "provider",
            period=period,
            limit_usd=limit,
            left_usd=round(max(0.0, limit - used), 6),
            retry_after=round(self._seconds_to_rollover(period), 3),
        )

    def _seconds_to_rollover(self, period: str) -> float:
        now = self._clock()
        day_start, month_start = period_starts(now)
        if period == "daily":
            return day_start + 86400 - now
        start = datetime.fromtimestamp(month_start, UTC)
        following = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
        return following.timestamp() - now

    def settle_reservation(self, provider: str, reserved: float, actual: float) -> None:
        """Swap ``reserved`` USD for what the call cost (``Reservation.settle`` / ``cancel``)."""
        for scope in self._scopes_of(provider):
            scope.add_reserved(-reserved, -1)
            scope.daily_spent += actual
            scope.monthly_spent += actual

    def _period_state(self, name: str | None, period: str) -> dict[str, float | None]:
        scope = self._scope(name)
        limit = self._limit(name, period)
        spent = scope.spent(period)
        left = None if limit is None else max(0.0, limit - spent - scope.reserved)
        return {
            "limit_usd": limit,
            "spent_usd": round(spent, 6),
            "reserved_usd": round(scope.reserved, 6),
            "left_usd": None if left is None else round(left, 6),
        }


def period_starts(now: float) -> tuple[float, float]:
    """Unix times of the start of the current UTC day and UTC calendar month."""
    moment = datetime.fromtimestamp(now, UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day.timestamp(), day.replace(day=1).timestamp()
