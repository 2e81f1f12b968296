"""Circuit breaker: tripping rules, cool-down, the single probe, back-off, auth openings."""

from __future__ import annotations

import asyncio

import pytest

from addon.routing.breaker import BreakerBoard, BreakerState, CircuitBreaker
from tests.addon.routing.routing_fakes import FakeClock

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(clock=clock, cooldown=15.0, max_cooldown=100.0)


def feed(breaker: CircuitBreaker, clock: FakeClock, outcomes: str, step: float = 1.0) -> None:
    """Report outcomes, one per ``step`` seconds: ``s`` success, ``f`` failure."""
    for outcome in outcomes:
        clock.advance(step)
        if outcome == "s":
            breaker.record_success()
        else:
            breaker.record_failure()


def trip(breaker: CircuitBreaker, clock: FakeClock) -> None:
    feed(breaker, clock, "fffff")
    assert breaker.state is OPEN


@pytest.mark.parametrize(
    ("outcomes", "step", "state"),
    [
        pytest.param("ssssssssss", 1.0, CLOSED, id="all-successes"),
        pytest.param("ffff", 1.0, CLOSED, id="four-in-a-row-below-both-rules"),
        pytest.param("fffff", 1.0, OPEN, id="five-in-a-row"),
        pytest.param("sfsff", 1.0, OPEN, id="rate-60pct-of-min-calls"),
        pytest.param("sfsfs", 1.0, CLOSED, id="rate-40pct"),
        pytest.param("sssssfsfsf", 1.0, CLOSED, id="rate-30pct-over-ten"),
        pytest.param("ssssssssssssssssssssfffff", 1.0, OPEN, id="streak-despite-low-rate"),
        pytest.param("sffsff", 1.0, OPEN, id="rate-over-window"),
        # 16 s apart: the 60 s window never holds five calls (min_calls), the streak is 2.
        pytest.param("ffsffsff", 16.0, CLOSED, id="failures-spread-beyond-window"),
    ],
)
def test_tripping_rules(
    breaker: CircuitBreaker, clock: FakeClock, outcomes: str, step: float, state: BreakerState
) -> None:
    feed(breaker, clock, outcomes, step)
    assert breaker.state is state
    assert breaker.allow() is (state is CLOSED)


def test_open_refuses_until_the_cooldown_then_half_opens(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    trip(breaker, clock)
    opened_at = clock.now
    assert breaker.retry_at == opened_at + 15.0
    clock.advance(14.9)
    assert breaker.allow() is False
    assert breaker.state is OPEN
    clock.advance(0.1)
    assert breaker.state is HALF_OPEN
    assert breaker.retry_at is None


async def test_half_open_admits_exactly_one_probe(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    trip(breaker, clock)
    clock.advance(15.0)

    async def ask() -> bool:
        await asyncio.sleep(0)
        return breaker.allow()

    admitted = await asyncio.gather(ask(), ask())
    assert sorted(admitted) == [False, True]
    assert breaker.allow() is False  # still waiting for the probe's outcome
    assert breaker.state is HALF_OPEN


def test_successful_probe_closes_and_resets_the_cooldown(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    trip(breaker, clock)
    clock.advance(15.0)
    assert breaker.allow()
    breaker.record_failure()  # probe fails: 30 s
    clock.advance(30.0)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is CLOSED
    assert breaker.allow()
    assert breaker.allow()
    trip(breaker, clock)
    assert breaker.retry_at == clock.now + 15.0


def test_failed_probes_double_the_cooldown_up_to_the_cap(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    trip(breaker, clock)
    cooldowns = []
    for _ in range(5):
        assert breaker.retry_at is not None
        clock.now = breaker.retry_at
        assert breaker.allow()
        breaker.record_failure()
        assert breaker.state is OPEN
        assert breaker.retry_at is not None
        cooldowns.append(breaker.retry_at - clock.now)
    assert cooldowns == [30.0, 60.0, 100.0, 100.0, 100.0]


def test_released_probe_lets_another_in(breaker: CircuitBreaker, clock: FakeClock) -> None:
    trip(breaker, clock)
    clock.advance(15.0)
    assert breaker.allow()
    assert not breaker.allow()
    breaker.release_probe()  # e.g. refused by a rate limit before it ran
    assert breaker.state is HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()


def test_late_outcomes_of_calls_started_before_opening_are_ignored(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    trip(breaker, clock)
    retry_at = breaker.retry_at
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is OPEN
    assert breaker.retry_at == retry_at
    clock.advance(15.0)
    breaker.record_failure()  # half-open, but no probe was admitted: not the probe's outcome
    assert breaker.state is HALF_OPEN
    assert breaker.allow()


def test_closing_forgets_the_old_window(breaker: CircuitBreaker, clock: FakeClock) -> None:
    trip(breaker, clock)
    clock.advance(15.0)
    assert breaker.allow()
    breaker.record_success()
    feed(breaker, clock, "ffff")  # would be 9 failures of 10 if the old window counted
    assert breaker.state is CLOSED


def test_auth_failure_opens_until_the_credentials_change(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    breaker.record_auth_failure("fp-old")
    assert breaker.state is OPEN
    assert breaker.auth_blocked
    assert breaker.retry_at is None
    clock.advance(10_000.0)  # no cool-down, no probe
    assert breaker.state is OPEN
    assert not breaker.allow()
    assert breaker.credentials_changed("fp-old") is False
    assert not breaker.allow()
    assert breaker.credentials_changed("fp-new") is True
    assert breaker.state is CLOSED
    assert breaker.snapshot()["auth_blocked"] is False
    assert breaker.allow()
    assert breaker.credentials_changed("fp-newer") is False  # nothing to lift


def test_accepted_credentials_lift_only_their_own_auth_opening(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    assert breaker.credentials_accepted("fp") is False  # nothing to lift
    breaker.record_auth_failure("fp")
    assert breaker.credentials_accepted("fp-other") is False
    assert breaker.state is OPEN
    assert breaker.credentials_accepted("fp") is True
    assert breaker.state is CLOSED
    assert breaker.allow()
    trip(breaker, clock)  # an opening for failures is the probe's business, not a key check's
    assert breaker.credentials_accepted("fp") is False
    assert breaker.state is OPEN


def test_auth_opening_overrides_a_half_open_probe(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    trip(breaker, clock)
    clock.advance(15.0)
    assert breaker.allow()
    breaker.record_auth_failure("fp")
    breaker.record_success()  # a late success cannot lift an auth opening
    assert breaker.state is OPEN
    assert not breaker.allow()


def test_snapshot_and_board(clock: FakeClock) -> None:
    board = BreakerBoard(["a", "b"], clock=clock, cooldown=5.0)
    for _ in range(5):
        board.get("a").record_failure()
    assert board.is_open("a")
    assert not board.is_open("b")
    assert not board.is_open("unknown")
    assert board.states() == {"a": OPEN, "b": CLOSED}
    assert board.get("a").snapshot() == {
        "state": "open",
        "retry_at": clock.now + 5.0,
        "auth_blocked": False,
        "cooldown": 5.0,
        "opened_because": "5 failures in a row",
    }
    assert board.get("b").snapshot()["opened_because"] is None


def test_the_reason_follows_the_breaker(clock: FakeClock) -> None:
    breaker = CircuitBreaker(clock=clock, cooldown=5.0)

    def reason() -> object:
        return breaker.snapshot()["opened_because"]

    breaker.record_auth_failure("fp")
    assert reason() == "the key was rejected"
    assert breaker.credentials_changed("other")
    assert reason() is None
    for _ in range(5):
        breaker.record_failure()
    clock.advance(5.0)
    assert breaker.allow()
    breaker.record_failure()
    assert reason() == "the probe failed"
    clock.advance(10.0)
    assert breaker.allow()
    breaker.record_success()
    assert reason() is None
