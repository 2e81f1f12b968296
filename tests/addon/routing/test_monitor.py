"""Health monitor: concurrent checks, results on the board, a loop that survives trouble."""

from __future__ import annotations

import asyncio

import pytest

from addon.errors import ProviderAuthError
from addon.models import HealthStatus
from addon.providers import deferred_provider
from addon.providers.base import Provider
from addon.providers.lazy import LazyProvider
from addon.providers.probe import Prober
from addon.routing.health import HealthBoard, ProviderState
from addon.routing.monitor import HealthMonitor
from addon.settings import ProviderSettings, Secret
from tests.addon.routing.routing_fakes import HealthCheck, provider
from tests.fakes.openai import FakeOpenAI

KEY = "sk-monitor-0123456789"


class Concurrency:
    """Counts checks running at the same time."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self.timeouts: list[float] = []

    def check(self, status: HealthStatus) -> HealthCheck:
        async def run(timeout: float) -> HealthStatus:
            self.timeouts.append(timeout)
            self.active += 1
            self.peak = max(self.peak, self.active)
            for _ in range(3):  # yield so that the others can start
                await asyncio.sleep(0)
            self.active -= 1
            return status

        return run


OK = HealthStatus(ok=True, latency_ms=12.0)
DOWN = HealthStatus(ok=False, latency_ms=3.0, error_key="provider_connection", message="refused")


async def test_checks_run_concurrently_and_land_on_the_board() -> None:
    counter = Concurrency()
    providers = [
        provider("a", counter.check(OK)),
        provider("b", counter.check(DOWN)),
        provider("c", counter.check(OK)),
    ]
    board = HealthBoard(providers)
    heard: list[tuple[str, bool]] = []
    monitor = HealthMonitor(
        providers,
        board,
        interval=60.0,
        timeout=7.0,
        on_result=lambda name, status: heard.append((name, status.ok)),
    )

    results = await monitor.check_now()

    assert counter.peak == 3
    assert counter.timeouts == [7.0, 7.0, 7.0]
    assert results == {"a": OK, "b": DOWN, "c": OK}
    assert heard == [("a", True), ("b", False), ("c", True)]
    assert board.get("a").state is ProviderState.HEALTHY
    assert board.get("a").latency_ms == 12.0
    assert board.get("b").state is ProviderState.DOWN
    assert board.get("b").error_key == "provider_connection"


async def never_answers(_timeout: float) -> HealthStatus:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def rejects_key(_timeout: float) -> HealthStatus:
    raise ProviderAuthError("Invalid API key")


async def breaks(_timeout: float) -> HealthStatus:
    raise RuntimeError("bug in a provider")


@pytest.mark.parametrize(
    ("check", "key", "state", "board_key"),
    [
        (never_answers, "provider_timeout", ProviderState.DOWN, "provider_timeout"),
        (rejects_key, "provider_auth", ProviderState.DOWN, "provider_auth"),
        # A bug in the hub's own code is reported, but says nothing about the provider.
        (breaks, "internal_error", ProviderState.UNKNOWN, None),
    ],
)
async def test_a_misbehaving_check_is_a_failed_check(
    check: HealthCheck, key: str, state: ProviderState, board_key: str | None
) -> None:
    providers = [provider("bad", check), provider("good")]
    board = HealthBoard(providers)
    monitor = HealthMonitor(providers, board, interval=60.0, timeout=0.0, grace=0.01)

    results = await monitor.check_now()

    assert results["bad"].ok is False
    assert results["bad"].error_key == key
    assert board.get("bad").state is state
    assert board.get("bad").error_key == board_key
    assert board.get("good").state is ProviderState.HEALTHY


async def test_disabled_providers_are_not_checked() -> None:
    counter = Concurrency()
    providers = [
        provider("on", counter.check(OK)),
        provider("off", counter.check(OK), enabled=False),
    ]
    board = HealthBoard(providers)
    results = await HealthMonitor(providers, board, interval=60.0, timeout=5.0).check_now()
    assert list(results) == ["on"]
    assert counter.timeouts == [5.0]
    assert board.get("off").state is ProviderState.DISABLED


class Ticker:
    """A fake ``sleep``: records each wait, lets ``rounds`` go by, then holds the loop."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self.waits: list[float] = []
        self.done = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        if len(self.waits) >= self.rounds:
            self.done.set()
            await asyncio.Event().wait()


async def test_loop_checks_every_interval_until_stopped() -> None:
    statuses = iter([DOWN, OK, OK])

    async def flaky(_timeout: float) -> HealthStatus:
        return next(statuses)

    providers: list[Provider] = [provider("a", flaky)]
    board = HealthBoard(providers)
    seen: list[ProviderState] = []
    ticker = Ticker(rounds=3)
    monitor = HealthMonitor(
        providers,
        board,
        interval=30.0,
        timeout=5.0,
        sleep=ticker.sleep,
        on_result=lambda name, _status: seen.append(board.get(name).state),
    )

    monitor.start()
    monitor.start()  # idempotent: still one loop
    await ticker.done.wait()
    was_running = monitor.running
    await monitor.stop()

    assert was_running
    assert not monitor.running
    assert ticker.waits == [30.0, 30.0, 30.0]
    assert monitor.rounds == 3
    assert seen == [ProviderState.DOWN, ProviderState.HEALTHY, ProviderState.HEALTHY]
    await monitor.stop()  # stopping twice is harmless


async def test_loop_survives_a_failing_round() -> None:
    providers = [provider("a")]
    board = HealthBoard(providers)
    calls = 0

    def explode_once(_name: str, _status: HealthStatus) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("listener bug")

    ticker = Ticker(rounds=2)
    monitor = HealthMonitor(
        providers, board, interval=10.0, timeout=5.0, sleep=ticker.sleep, on_result=explode_once
    )
    monitor.start()
    await ticker.done.wait()
    await monitor.stop()
    assert calls == 2
    assert ticker.waits == [10.0, 10.0]


@pytest.mark.parametrize(("probing", "loaded_after"), [(True, False), (False, True)])
async def test_a_provider_not_loaded_is_probed_with_a_prober_else_loaded_first(
    probing: bool, loaded_after: bool
) -> None:
    prober = Prober()
    async with FakeOpenAI(api_key=KEY) as fake:
        configured = ProviderSettings(
            name="lazy",
            type="openai",
            model="gpt-4o",
            api_key=Secret(KEY),
            base_url=f"{fake.url}/v1",
        )
        lazy = deferred_provider(configured, prober if probing else None)
        assert isinstance(lazy, LazyProvider)
        board = HealthBoard([lazy])
        monitor = HealthMonitor([lazy], board, interval=60.0, timeout=5.0)
        try:
            results = await monitor.check_now()
        finally:
            await lazy.close()
            await prober.close()

    assert results["lazy"].ok
    assert board.get("lazy").state is ProviderState.HEALTHY
    assert lazy.is_loaded is loaded_after
    assert [r.path for r in fake.requests] == ["/v1/models"]
