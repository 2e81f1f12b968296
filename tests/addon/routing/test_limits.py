"""Rate limits: rpm/tpm windows, concurrency caps, FIFO waiters, timeouts, Retry-After."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from addon.errors import RateLimitedError
from addon.routing.limits import Limits, Permit
from addon.settings import ProviderSettings, Settings


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_settings(global_cap: int = 100, **providers: dict[str, Any]) -> Settings:
    return settings_of(providers, global_cap)


def settings_of(providers: dict[str, dict[str, Any]], global_cap: int = 100) -> Settings:
    return Settings(
        providers=tuple(
            ProviderSettings(name=name, type="openai", model="m", **limits)
            for name, limits in providers.items()
        ),
        max_concurrency=global_cap,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def refused(limits: Limits, provider: str, tokens: int = 0) -> RateLimitedError:
    with pytest.raises(RateLimitedError) as info:
        await limits.acquire(provider, tokens, wait=0)
    return info.value


async def test_rpm_admits_exactly_n_per_window_then_more_after_it(clock: FakeClock) -> None:
    limits = Limits(make_settings(cloud={"rpm": 5}), clock=clock)

    results = await asyncio.gather(
        *(limits.acquire("cloud", 10, wait=0) for _ in range(40)), return_exceptions=True
    )

    passed = [r for r in results if isinstance(r, Permit)]
    refusals = [r for r in results if isinstance(r, RateLimitedError)]
    assert len(passed) == 5
    assert len(refusals) == 35
    assert {r.key for r in refusals} == {"rate_limited"}
    assert {r.details["retry_after"] for r in refusals} == {60.0}
    assert {r.details["limit"] for r in refusals} == {"rpm"}

    clock.advance(60)
    again = await asyncio.gather(
        *(limits.acquire("cloud", 10, wait=0) for _ in range(10)), return_exceptions=True
    )
    assert sum(isinstance(r, Permit) for r in again) == 5


async def test_rpm_window_rolls_slot_by_slot(clock: FakeClock) -> None:
    limits = Limits(make_settings(cloud={"rpm": 3}), clock=clock)
    await limits.acquire("cloud", 0, wait=0)
    clock.advance(30)
    await limits.acquire("cloud", 0, wait=0)
    await limits.acquire("cloud", 0, wait=0)

    assert (await refused(limits, "cloud")).details["retry_after"] == 30.0
    clock.advance(30)  # only the first request left the window
    await limits.acquire("cloud", 0, wait=0)
    assert (await refused(limits, "cloud")).details["retry_after"] == 30.0


async def test_tpm_reserves_the_estimate_and_settles_to_the_actual_count(
    clock: FakeClock,
) -> None:
    limits = Limits(make_settings(cloud={"tpm": 1000}), clock=clock)
    first = await limits.acquire("cloud", 600, wait=0)
    assert limits.headroom("cloud")["tpm"] == 400

    error = await refused(limits, "cloud", 500)
    assert error.details["limit"] == "tpm"
    assert error.details["retry_after"] == 60.0

    first.settle(300)
    assert limits.headroom("cloud")["tpm"] == 700
    second = await limits.acquire("cloud", 500, wait=0)
    assert second.tokens == 500

    second.settle(900)  # used more than estimated: the real count is what counts
    assert limits.headroom("cloud")["tpm"] == 0
    await refused(limits, "cloud", 1)

    clock.advance(60)
    assert limits.headroom("cloud")["tpm"] == 1000
    first.settle(0)  # settling after the window must not corrupt the running total
    assert limits.headroom("cloud")["tpm"] == 1000


async def test_tpm_retry_after_is_when_enough_tokens_leave_the_window(clock: FakeClock) -> None:
    limits = Limits(make_settings(cloud={"tpm": 1000}), clock=clock)
    await limits.acquire("cloud", 400, wait=0)
    clock.advance(10)
    await limits.acquire("cloud", 400, wait=0)
    clock.advance(10)

    assert (await refused(limits, "cloud", 300)).details["retry_after"] == 40.0
    assert (await refused(limits, "cloud", 700)).details["retry_after"] == 50.0


async def test_estimate_over_the_whole_tpm_is_refused_at_once_even_with_wait(
    clock: FakeClock,
) -> None:
    limits = Limits(make_settings(cloud={"tpm": 1000}), clock=clock)
    with pytest.raises(RateLimitedError) as info:
        await limits.acquire("cloud", 1001, wait=30)
    assert "1001 tokens" in info.value.message
    assert info.value.details == {"provider": "cloud", "limit": "tpm", "retry_after": None}
    assert limits.headroom("cloud")["tpm"] == 1000


async def test_concurrency_cap_of_one_never_has_two_permits_at_once() -> None:
    limits = Limits(make_settings(ollama={"max_concurrency": 1}))
    inside = 0
    most = 0
    done = 0

    async def call() -> None:
        nonlocal inside, most, done
        async with await limits.acquire("ollama", 0, wait=30):
            inside += 1
            most = max(most, inside)
            for _ in range(3):
                await asyncio.sleep(0)
            inside -= 1
            done += 1

    await asyncio.gather(*(call() for _ in range(12)))

    assert most == 1
    assert done == 12
    assert limits.in_flight("ollama") == 0


async def test_global_cap_spans_providers(clock: FakeClock) -> None:
    limits = Limits(make_settings(global_cap=2, a={}, b={}, c={}), clock=clock)
    first = await limits.acquire("a", 0, wait=0)
    await limits.acquire("b", 0, wait=0)
    assert limits.in_flight() == 2

    assert (await refused(limits, "c")).details["limit"] == "global_concurrency"
    first.release()
    await limits.acquire("c", 0, wait=0)
    assert limits.in_flight() == 2


async def test_waiters_are_admitted_in_arrival_order(clock: FakeClock) -> None:
    limits = Limits(make_settings(local={"max_concurrency": 1}), clock=clock)
    holder = await limits.acquire("local", 0, wait=0)
    order: list[str] = []

    async def call(name: str) -> None:
        async with await limits.acquire("local", 0, wait=30):
            order.append(name)
            await asyncio.sleep(0)

    tasks = []
    for name in ("first", "second", "third", "fourth"):
        tasks.append(asyncio.create_task(call(name)))
        await asyncio.sleep(0)  # let it join the queue
    holder.release()
    await asyncio.gather(*tasks)

    assert order == ["first", "second", "third", "fourth"]


async def test_a_small_request_does_not_overtake_a_queued_big_one(clock: FakeClock) -> None:
    limits = Limits(make_settings(cloud={"tpm": 1000}), clock=clock)
    running = await limits.acquire("cloud", 800, wait=0)
    big = asyncio.create_task(limits.acquire("cloud", 500, wait=30))
    await asyncio.sleep(0)

    error = await refused(limits, "cloud", 10)  # it would fit, but someone is ahead
    assert error.details["limit"] == "queue"

    running.settle(100)
    permit = await big
    assert permit.tokens == 500
    await limits.acquire("cloud", 10, wait=0)


async def test_queue_for_one_provider_does_not_hold_up_another(clock: FakeClock) -> None:
    limits = Limits(make_settings(busy={"max_concurrency": 1}, idle={}), clock=clock)
    await limits.acquire("busy", 0, wait=0)
    waiting = asyncio.create_task(limits.acquire("busy", 0, wait=30))
    await asyncio.sleep(0)

    await limits.acquire("idle", 0, wait=0)
    assert not waiting.done()
    waiting.cancel()


@pytest.mark.parametrize(
    ("config", "held", "limit", "retry_after"),
    [
        ({"local": {"max_concurrency": 1}}, ("local", 0), "concurrency", None),
        ({"cloud": {"rpm": 1}}, ("cloud", 0), "rpm", 60.0),
        ({"cloud": {"tpm": 100}}, ("cloud", 100), "tpm", 60.0),
    ],
)
async def test_waiters_time_out_with_rate_limited(
    clock: FakeClock,
    config: dict[str, dict[str, Any]],
    held: tuple[str, int],
    limit: str,
    retry_after: float | None,
) -> None:
    limits = Limits(settings_of(config), clock=clock)
    provider, tokens = held
    permit = await limits.acquire(provider, tokens, wait=0)

    with pytest.raises(RateLimitedError) as info:
        await limits.acquire(provider, 1 if tokens else 0, wait=0.05)
    assert info.value.key == "rate_limited"
    assert info.value.details["limit"] == limit
    assert info.value.details["retry_after"] == retry_after

    permit.release()
    clock.advance(60)
    await limits.acquire(provider, 1, wait=0)  # the timed-out waiter left nothing behind


async def test_cancelled_waiter_leaves_the_queue(clock: FakeClock) -> None:
    limits = Limits(make_settings(local={"max_concurrency": 1}), clock=clock)
    holder = await limits.acquire("local", 0, wait=0)
    waiting = asyncio.create_task(limits.acquire("local", 0, wait=30))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    holder.release()
    await limits.acquire("local", 0, wait=0)


async def test_waiter_cancelled_after_admission_gives_its_slots_back(clock: FakeClock) -> None:
    limits = Limits(make_settings(local={"max_concurrency": 1, "rpm": 2}), clock=clock)
    holder = await limits.acquire("local", 0, wait=0)
    waiting = asyncio.create_task(limits.acquire("local", 0, wait=30))
    await asyncio.sleep(0)
    holder.release()  # admits the waiter synchronously...
    waiting.cancel()  # ...which is cancelled before it could use the permit
    with pytest.raises(asyncio.CancelledError):
        await waiting

    assert limits.in_flight("local") == 0
    assert limits.headroom("local") == {"rpm": 1.0, "tpm": None, "concurrency": 1.0}


async def test_a_freed_window_slot_wakes_a_waiter() -> None:
    # Real clock with a tiny window: the only way to see the expiry timer fire.
    limits = Limits(make_settings(cloud={"rpm": 1}), window=0.05)
    await limits.acquire("cloud", 0, wait=0)
    permit = await limits.acquire("cloud", 0, wait=5)
    assert permit.provider == "cloud"


async def test_retry_after_blocks_the_provider_until_then(clock: FakeClock) -> None:
    limits = Limits(make_settings(cloud={}), clock=clock)
    assert limits.blocked_until("cloud") is None
    limits.retry_after_until("cloud", clock.now + 12.5)
    limits.retry_after_until("cloud", clock.now + 5)  # an earlier deadline does not shorten it

    assert limits.blocked_until("cloud") == clock.now + 12.5
    error = await refused(limits, "cloud")
    assert (error.details["limit"], error.details["retry_after"]) == ("retry_after", 12.5)

    clock.advance(12.5)
    assert limits.blocked_until("cloud") is None
    await limits.acquire("cloud", 0, wait=0)


async def test_refund_returns_request_and_token_slots(clock: FakeClock) -> None:
    limits = Limits(make_settings(cloud={"rpm": 1, "tpm": 100, "max_concurrency": 1}), clock=clock)
    permit = await limits.acquire("cloud", 80, wait=0)
    assert limits.headroom("cloud") == {"rpm": 0.0, "tpm": 20.0, "concurrency": 0.0}

    permit.refund()
    permit.release()  # idempotent: must not free a second slot
    assert limits.headroom("cloud") == {"rpm": 1.0, "tpm": 100.0, "concurrency": 1.0}
    assert limits.in_flight("cloud") == 0
    assert limits.in_flight() == 0


async def test_headroom_and_in_flight_track_permits(clock: FakeClock) -> None:
    limits = Limits(
        make_settings(cloud={"rpm": 10, "tpm": 1000, "max_concurrency": 3}, free={}), clock=clock
    )
    async with await limits.acquire("cloud", 250, wait=0):
        assert limits.in_flight("cloud") == 1
        assert limits.headroom("cloud") == {"rpm": 9.0, "tpm": 750.0, "concurrency": 2.0}
    assert limits.in_flight("cloud") == 0
    assert limits.headroom("cloud") == {"rpm": 9.0, "tpm": 750.0, "concurrency": 3.0}
    assert limits.headroom("free") == {"rpm": None, "tpm": None, "concurrency": None}
