"""Spend budgets: atomic reservations, per-provider vs global, UTC rollover, ledger seeding."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from addon.errors import BudgetExceededError
from addon.routing.budget import BudgetGuard
from addon.settings import ProviderSettings, Settings


class FakeClock:
    """Unix time that moves only when told to."""

    def __init__(self, when: datetime) -> None:
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def make_settings(
    daily: float | None = None, monthly: float | None = None, **providers: dict[str, Any]
) -> Settings:
    return Settings(
        providers=tuple(
            ProviderSettings(name=name, type="openai", model="m", **budgets)
            for name, budgets in providers.items()
        ),
        budget_daily_usd=daily,
        budget_monthly_usd=monthly,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(utc(2025, 3, 14, 12, 0, 0))


async def test_burst_of_concurrent_reservations_never_overspends(clock: FakeClock) -> None:
    budget = 1.0
    guard = BudgetGuard(make_settings(daily=budget, cloud={}), clock=clock)
    rng = random.Random(1234)
    settled: list[float] = []
    refused = 0

    async def call() -> None:
        nonlocal refused
        worst = rng.uniform(0.01, 0.05)
        try:
            reservation = guard.reserve("cloud", worst)
        except BudgetExceededError:
            refused += 1
            return
        for _ in range(rng.randrange(1, 5)):  # interleave with the other calls
            await asyncio.sleep(0)
            state = guard.state()["daily"]
            assert state["spent_usd"] + state["reserved_usd"] <= budget + 1e-6
        actual = rng.uniform(0, worst)
        settled.append(actual)
        reservation.settle(actual)

    await asyncio.gather(*(call() for _ in range(300)))

    spent = guard.state()["daily"]["spent_usd"]
    assert refused > 0
    assert spent == pytest.approx(sum(settled), abs=1e-6)
    assert spent <= budget + 1e-9
    assert guard.state()["daily"]["reserved_usd"] == 0


async def test_budget_can_be_used_up_exactly(clock: FakeClock) -> None:
    guard = BudgetGuard(make_settings(daily=0.3, cloud={}), clock=clock)
    for _ in range(3):
        guard.reserve("cloud", 0.1).settle(0.1)  # 0.1 * 3 is not exactly 0.3 in floats
    assert not guard.allows("cloud", 0.001)
    assert guard.state()["daily"]["left_usd"] == 0


@pytest.mark.parametrize(
    ("provider", "amount", "scope", "period"),
    [
        ("cloud", 0.2, "provider", "daily"),  # cloud: 0.4 reserved of its 0.5 a day
        ("cloud", 0.05, None, None),
        ("other", 0.6, None, None),  # global: 0.4 + 0.6 = 1.0 fits exactly
        ("other", 0.61, "global", "daily"),
        ("metered", 0.1, "provider", "monthly"),
        ("local", 0.0, None, None),  # free calls always pass
    ],
)
async def test_provider_and_global_budgets(
    clock: FakeClock, provider: str, amount: float, scope: str | None, period: str | None
) -> None:
    settings = make_settings(
        daily=1.0,
        cloud={"budget_daily_usd": 0.5},
        metered={"budget_monthly_usd": 0.05},
        other={},
        local={"budget_daily_usd": 0.0},
    )
    guard = BudgetGuard(settings, clock=clock)
    guard.reserve("cloud", 0.4)

    assert guard.allows(provider, amount) is (scope is None)
    if scope is None:
        guard.reserve(provider, amount)
        return
    with pytest.raises(BudgetExceededError) as info:
        guard.reserve(provider, amount)
    error = info.value
    assert error.key == "budget_exceeded"
    assert error.status == 429
    assert (error.details["provider"], error.details["scope"], error.details["period"]) == (
        provider,
        scope,
        period,
    )
    assert period is not None
    assert period.capitalize() in error.message


@pytest.mark.parametrize(
    ("budget", "fragment"),
    [
        ({"budget_daily_usd": 0.001}, "provider cloud's $0.00100 daily budget has $0.000400 left"),
        ({"budget_monthly_usd": 2.5}, "provider cloud's $2.50 monthly budget has $0.000400 left"),
    ],
)
async def test_refusals_show_money_that_is_true(
    clock: FakeClock, budget: dict[str, float], fragment: str
) -> None:
    limit = next(iter(budget.values()))
    guard = BudgetGuard(make_settings(cloud=budget), clock=clock)
    guard.reserve("cloud", limit - 0.0004)
    with pytest.raises(BudgetExceededError) as info:
        guard.reserve("cloud", 0.00123)
    assert fragment in info.value.message
    assert info.value.message.endswith("this request may cost up to $0.00123")
    assert "''s" not in info.value.message


async def test_a_full_budget_still_lets_free_calls_through(clock: FakeClock) -> None:
    guard = BudgetGuard(make_settings(daily=0.0, local={"budget_daily_usd": 0.0}), clock=clock)
    guard.seed(daily={None: 0.5, "local": 0.5}, monthly={})  # already over (a cost overran)
    assert not guard.allows("local", 0.01)
    assert guard.allows("local", 0)
    reservation = guard.reserve("local", 0)
    reservation.settle(0)
    assert guard.state()["daily"]["spent_usd"] == 0.5


async def test_cancel_costs_nothing_and_settle_records_the_truth(clock: FakeClock) -> None:
    guard = BudgetGuard(make_settings(daily=1.0, cloud={}), clock=clock)
    guard.reserve("cloud", 0.5).cancel()
    assert guard.state()["daily"] == {
        "limit_usd": 1.0,
        "spent_usd": 0.0,
        "reserved_usd": 0.0,
        "left_usd": 1.0,
    }

    reservation = guard.reserve("cloud", 0.2)
    reservation.settle(0.3)  # more than reserved: spent is what it really cost
    reservation.settle(0.3)  # closing twice changes nothing
    reservation.cancel()
    assert guard.state()["daily"]["spent_usd"] == pytest.approx(0.3)
    assert guard.state()["daily"]["reserved_usd"] == 0


@pytest.mark.parametrize(
    ("start", "step", "daily_reset", "monthly_reset"),
    [
        (utc(2025, 3, 14, 23, 59, 59), 1, True, False),  # midnight inside a month
        (utc(2025, 3, 31, 23, 59, 59), 1, True, True),  # month start
        (utc(2025, 12, 31, 23, 59, 59), 1, True, True),  # year start
        (utc(2025, 3, 14, 0, 0, 0), 86399, False, False),  # the last second of the same day
    ],
)
async def test_rollover_at_utc_midnight_and_month_start(
    start: datetime, step: float, daily_reset: bool, monthly_reset: bool
) -> None:
    clock = FakeClock(start)
    guard = BudgetGuard(make_settings(daily=1.0, monthly=5.0, cloud={}), clock=clock)
    guard.reserve("cloud", 0.9).settle(0.9)
    assert not guard.allows("cloud", 0.2)

    clock.advance(step)
    state = guard.state()
    assert state["daily"]["spent_usd"] == (0.0 if daily_reset else 0.9)
    assert state["monthly"]["spent_usd"] == (0.0 if monthly_reset else 0.9)
    assert state["providers"]["cloud"]["daily"]["spent_usd"] == state["daily"]["spent_usd"]
    assert guard.allows("cloud", 0.2) is daily_reset


async def test_refusal_says_when_the_budget_renews(clock: FakeClock) -> None:
    clock.now = utc(2025, 2, 27, 18, 0, 0).timestamp()
    guard = BudgetGuard(make_settings(daily=0.1, monthly=0.1, cloud={}), clock=clock)
    with pytest.raises(BudgetExceededError) as daily:
        guard.reserve("cloud", 0.2)
    assert daily.value.details["retry_after"] == 6 * 3600
    assert daily.value.details["left_usd"] == 0.1

    guard = BudgetGuard(make_settings(monthly=0.1, cloud={}), clock=clock)
    with pytest.raises(BudgetExceededError) as monthly:
        guard.reserve("cloud", 0.2)
    assert monthly.value.details["period"] == "monthly"
    assert monthly.value.details["retry_after"] == 30 * 3600  # to 1 March 00:00


async def test_reservation_in_flight_at_midnight_counts_in_the_new_day() -> None:
    clock = FakeClock(utc(2025, 3, 14, 23, 59, 59))
    guard = BudgetGuard(make_settings(daily=1.0, cloud={}), clock=clock)
    guard.reserve("cloud", 0.5).settle(0.5)
    pending = guard.reserve("cloud", 0.5)

    clock.advance(2)
    assert guard.state()["daily"]["reserved_usd"] == 0.5
    assert not guard.allows("cloud", 0.6)  # the pending worst case still holds room
    pending.settle(0.25)
    assert guard.state()["daily"]["spent_usd"] == 0.25
    assert guard.state()["daily"]["left_usd"] == 0.75


async def test_state_reports_limits_spend_reservations_and_what_is_left(clock: FakeClock) -> None:
    settings = make_settings(
        daily=2.0, cloud={"budget_daily_usd": 1.0, "budget_monthly_usd": 10.0}, local={}
    )
    guard = BudgetGuard(settings, clock=clock)
    guard.seed(daily={None: 0.5, "cloud": 0.5}, monthly={None: 3.0, "cloud": 2.0})
    guard.reserve("cloud", 0.25)
    guard.reserve("local", 0.0).settle(0.0)

    assert guard.state() == {
        "daily": {"limit_usd": 2.0, "spent_usd": 0.5, "reserved_usd": 0.25, "left_usd": 1.25},
        "monthly": {"limit_usd": None, "spent_usd": 3.0, "reserved_usd": 0.25, "left_usd": None},
        "providers": {
            "cloud": {
                "daily": {
                    "limit_usd": 1.0,
                    "spent_usd": 0.5,
                    "reserved_usd": 0.25,
                    "left_usd": 0.25,
                },
                "monthly": {
                    "limit_usd": 10.0,
                    "spent_usd": 2.0,
                    "reserved_usd": 0.25,
                    "left_usd": 7.75,
                },
            },
            "local": {
                "daily": {
                    "limit_usd": None,
                    "spent_usd": 0.0,
                    "reserved_usd": 0.0,
                    "left_usd": None,
                },
                "monthly": {
                    "limit_usd": None,
                    "spent_usd": 0.0,
                    "reserved_usd": 0.0,
                    "left_usd": None,
                },
            },
        },
    }


class FakeLedger:
    """Answers ``spent`` from fixed rows and records what was asked."""

    def __init__(self, rows: list[tuple[float, str, float]]) -> None:
        self.rows = rows
        self.asked: list[tuple[float, str | None]] = []

    async def spent(self, since: float, provider: str | None = None) -> float:
        self.asked.append((since, provider))
        return sum(
            cost
            for at, name, cost in self.rows
            if at >= since and (provider is None or name == provider)
        )


async def test_load_starts_from_what_the_ledger_holds(clock: FakeClock) -> None:
    ledger = FakeLedger(
        [
            (utc(2025, 2, 28, 9, 0, 0).timestamp(), "cloud", 4.0),  # last month
            (utc(2025, 3, 2, 9, 0, 0).timestamp(), "cloud", 3.0),  # this month
            (utc(2025, 3, 14, 8, 0, 0).timestamp(), "cloud", 0.75),  # today
            (utc(2025, 3, 14, 9, 0, 0).timestamp(), "other", 0.5),
        ]
    )
    settings = make_settings(daily=3.0, monthly=5.0, cloud={"budget_daily_usd": 1.0}, other={})
    guard = BudgetGuard(settings, clock=clock)
    await guard.load(ledger)

    day_start = utc(2025, 3, 14).timestamp()
    month_start = utc(2025, 3, 1).timestamp()
    assert {since for since, _ in ledger.asked} == {day_start, month_start}
    state = guard.state()
    assert state["daily"]["spent_usd"] == 1.25
    assert state["monthly"]["spent_usd"] == 4.25
    assert state["providers"]["cloud"]["daily"]["spent_usd"] == 0.75
    assert state["providers"]["cloud"]["monthly"]["spent_usd"] == 3.75
    assert guard.allows("cloud", 0.25)
    assert not guard.allows("cloud", 0.3)  # cloud's own daily budget
    assert guard.allows("other", 0.75)
    assert not guard.allows("other", 0.8)  # the hub's monthly budget
