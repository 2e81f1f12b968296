"""Provider statistics: peak-EWMA latency, decayed error rate, in-flight count."""

from __future__ import annotations

import math

import pytest

from addon.routing.stats import PRIOR_LATENCY_MS, ProviderStats, StatsBoard
from tests.addon.routing.routing_fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def stats(clock: FakeClock) -> ProviderStats:
    return ProviderStats(clock=clock, tau=30.0, error_tau=60.0)


def call(stats: ProviderStats, latency_ms: float, ok: bool = True) -> None:
    stats.start()
    stats.finish(latency_ms, ok)


def test_a_provider_never_seen_has_the_prior(stats: ProviderStats) -> None:
    assert stats.latency_estimate() == PRIOR_LATENCY_MS
    assert stats.error_rate() == 0.0
    assert stats.in_flight == 0


def test_first_sample_replaces_the_prior(stats: ProviderStats) -> None:
    call(stats, 200.0)
    assert stats.latency_estimate() == 200.0


def test_a_slow_sample_jumps_up_at_once(stats: ProviderStats, clock: FakeClock) -> None:
    call(stats, 100.0)
    clock.advance(0.5)
    call(stats, 5000.0)
    assert stats.latency_estimate() == 5000.0


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (0.0, 1000.0),  # a burst of fast answers at one instant does not erase a slow one
        (30.0, 1000.0 * math.exp(-1) + 100.0 * (1 - math.exp(-1))),
        (300.0, 100.0 + 900.0 * math.exp(-10)),
    ],
)
def test_a_fast_sample_decays_the_estimate_with_time(
    stats: ProviderStats, clock: FakeClock, elapsed: float, expected: float
) -> None:
    call(stats, 1000.0)
    clock.advance(elapsed)
    call(stats, 100.0)
    assert stats.latency_estimate() == pytest.approx(expected)


def test_fast_failures_do_not_look_fast_but_slow_ones_count(
    stats: ProviderStats, clock: FakeClock
) -> None:
    call(stats, 800.0)
    clock.advance(60.0)
    call(stats, 2.0, ok=False)  # connection refused in 2 ms
    assert stats.latency_estimate() == 800.0
    call(stats, 30_000.0, ok=False)  # a timeout
    assert stats.latency_estimate() == 30_000.0


def test_error_rate_counts_failures_and_fades(stats: ProviderStats, clock: FakeClock) -> None:
    for _ in range(3):
        call(stats, 100.0, ok=False)
    assert stats.error_rate() == pytest.approx(3 / 4)  # one imaginary success as prior
    clock.advance(60.0)
    faded = 3 * math.exp(-1)
    assert stats.error_rate() == pytest.approx(faded / (faded + 1))
    clock.advance(600.0)
    assert stats.error_rate() < 0.001


def test_successes_dilute_the_error_rate(stats: ProviderStats) -> None:
    call(stats, 100.0, ok=False)
    for _ in range(8):
        call(stats, 100.0)
    assert stats.error_rate() == pytest.approx(1 / 10)


def test_in_flight_counts_started_calls(stats: ProviderStats) -> None:
    stats.start()
    stats.start()
    assert stats.in_flight == 2
    stats.finish(10.0, True)
    assert stats.in_flight == 1
    stats.finish(10.0, True)
    stats.finish(10.0, True)  # a stray finish never goes below zero
    assert stats.in_flight == 0


def test_board_keeps_one_stats_per_provider(clock: FakeClock) -> None:
    board = StatsBoard(["a"], clock=clock)
    assert board.get("a") is board.get("a")
    board.get("b").start()
    board.get("a").start()
    board.get("a").finish(250.0, True)
    assert board.snapshot() == {
        "a": {"latency_ms": 250.0, "error_rate": 0.0, "in_flight": 0, "samples": 1},
        "b": {"latency_ms": PRIOR_LATENCY_MS, "error_rate": 0.0, "in_flight": 1, "samples": 0},
    }
