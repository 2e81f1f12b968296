"""Faults and circuit breakers through the API: HTTP -> app -> real SDK -> faulty fakes.

Every retryable fault of every vendor must end within the request's deadline, by failover or
by a typed error; a provider that keeps failing is isolated by its breaker, probed exactly
once after the cool-down and readmitted when the probe succeeds.
"""

from __future__ import annotations

import pytest

from addon.routing.breaker import BreakerState
from tests.addon.routing.api_fixtures import VENDORS, Answer, Hub, HubFactory, StreamAnswer
from tests.conftest import AUTH
from tests.fakes.base import Fault

DEADLINE = 3.0  # request_timeout: the whole request, failover included
CALL_TIMEOUT = 1  # the faulty provider's own timeout (the smallest the options allow)
MARGIN = 1.5  # event-loop and SDK overhead on a busy test machine

# Fault -> the attempt outcome the failing provider must show.
FAULT_OUTCOMES: dict[Fault, set[str]] = {
    Fault.DISCONNECT: {"provider_connection"},
    Fault.TIMEOUT: {"provider_timeout"},
    Fault.RATE_LIMIT: {"provider_rate_limited"},
    Fault.SERVER_ERROR: {"provider_bad_response"},
    Fault.OVERLOADED: {"provider_rate_limited"},
    Fault.MALFORMED: {"provider_bad_response"},
    Fault.STALL_STREAM: {"provider_timeout"},
}

CASES = [
    pytest.param(vendor, fault, stream, id=f"{vendor}-{fault}-{'stream' if stream else 'json'}")
    for vendor in VENDORS
    for fault in FAULT_OUTCOMES
    for stream in (False, True)
    if stream or fault is not Fault.STALL_STREAM
]


def fallback_of(vendor: str) -> str:
    """Who answers when ``vendor`` (made first) fails: the next in the conftest priorities."""
    rest = [v for v in VENDORS if v != vendor]
    return rest[0]


async def first_choice_hub(make_hub: HubFactory, vendor: str) -> Hub:
    """A hub on the real clock where ``vendor`` is tried first, with a short call timeout."""
    return await make_hub(
        real_clock=True,
        request_timeout=DEADLINE,
        providers={vendor: {"priority": 1, "timeout": CALL_TIMEOUT}},
    )


@pytest.mark.parametrize(("vendor", "fault", "stream"), CASES)
async def test_every_retryable_fault_ends_within_the_deadline(
    make_hub: HubFactory, vendor: str, fault: Fault, stream: bool
) -> None:
    hub = await first_choice_hub(make_hub, vendor)
    hub.fakes.all[vendor].fail_next(fault, retry_after=30)

    answer, elapsed = await hub.timed_chat(stream=stream, max_tokens=20)

    assert elapsed < DEADLINE + MARGIN
    assert hub.calls(vendor) == 1  # SDK retries are off: the hub owns retries
    if fault is Fault.STALL_STREAM:
        # Text already reached the caller, so no failover: the stream ends with a typed error.
        assert isinstance(answer, StreamAnswer)
        assert answer.status == 200
        assert answer.text
        assert hub.fakes.all[vendor].state.reply.text.startswith(answer.text)
        assert (answer.done, answer.error_key) == (None, "provider_timeout")
        return
    (first, key), (second, ok) = failover_outcomes(answer)
    assert (first, second, ok) == (vendor, fallback_of(vendor), "ok")
    assert key in FAULT_OUTCOMES[fault]


def failover_outcomes(answer: Answer | StreamAnswer) -> list[tuple[str, str]]:
    """The attempts of a successful answer (JSON, or the stream's ``done`` event)."""
    if isinstance(answer, Answer):
        assert answer.status == 200, answer.body
        return answer.outcomes
    assert answer.done is not None, answer.events or answer.body
    assert answer.text == answer.done["text"]
    return [(a["provider"], a["outcome"]) for a in answer.done["attempts"]]


@pytest.mark.parametrize("stream", [False, True])
async def test_everything_hanging_ends_at_the_deadline_with_upstream_timeout(
    make_hub: HubFactory, stream: bool
) -> None:
    hub = await make_hub(
        real_clock=True,
        request_timeout=2,
        providers={name: {"timeout": CALL_TIMEOUT} for name in VENDORS},
    )
    for fake in hub.fakes.all.values():
        fake.fail_always(Fault.TIMEOUT)

    answer, elapsed = await hub.timed_chat(stream=stream)

    assert elapsed < 2 + MARGIN
    body = answer.body
    assert answer.status == 504, body
    assert body["error"]["key"] == "upstream_timeout"
    outcomes = {a["outcome"] for a in body["error"]["attempts"]}
    assert outcomes == {"provider_timeout"}


@pytest.mark.parametrize("vendor", VENDORS)
async def test_rate_limit_retry_after_skips_the_provider_until_it_passes(
    make_hub: HubFactory, vendor: str
) -> None:
    hub = await make_hub(providers={vendor: {"priority": 1}})
    hub.fakes.all[vendor].fail_next(Fault.RATE_LIMIT, retry_after=30)

    first = await hub.chat()
    assert first.outcomes == [(vendor, "provider_rate_limited"), (fallback_of(vendor), "ok")]
    hub.clock.advance(29)
    pinned = await hub.chat(provider=vendor)
    assert (pinned.status, pinned.key) == (429, "rate_limited")
    assert pinned.outcomes == [(vendor, "rate_limited")]
    assert pinned.error["retry_after"] == pytest.approx(1, abs=0.01)
    assert hub.calls(vendor) == 1  # skipped without a call

    hub.clock.advance(1)
    after = await hub.chat(provider=vendor)
    assert after.status == 200, after.body
    assert after.outcomes == [(vendor, "ok")]
    assert hub.calls(vendor) == 2


# --- circuit breaker ----------------------------------------------------------------
# BreakerBoard defaults (addon/routing/breaker.py): open after 5 failures in a row, cool-down
# 15 s, doubled after a failed probe. A pinned request makes up to 3 attempts (run.py).
TRIP = 5
COOLDOWN = 15.0


async def trip_openai(hub: Hub) -> None:
    """Fail openai until its breaker opens: 2 pinned requests, 3 + 2 calls, then a skip."""
    hub.fakes.openai.fail_always(Fault.SERVER_ERROR)
    first = await hub.chat(provider="openai")
    second = await hub.chat(provider="openai")
    assert [a.key for a in (first, second)] == ["all_providers_failed"] * 2
    assert [o for _, o in first.outcomes] == ["provider_bad_response"] * 3
    assert [o for _, o in second.outcomes] == ["provider_bad_response"] * 2 + ["circuit_open"]
    assert hub.calls("openai") == TRIP


async def test_breaker_isolates_probes_once_and_readmits(make_hub: HubFactory) -> None:
    hub = await make_hub()
    await trip_openai(hub)
    breaker = hub.manager.guards.breakers.get("openai")
    assert breaker.state is BreakerState.OPEN

    isolated = await hub.burst(4, provider="openai")  # open: refused without a call
    assert all(a.outcomes == [("openai", "circuit_open")] for a in isolated)
    assert {a.status for a in isolated} == {502}
    routed = await hub.chat()  # unpinned: another provider answers, openai is not called
    assert routed.body["provider"] == "anthropic"
    assert ("openai", "ok") not in routed.outcomes
    assert hub.calls("openai") == TRIP

    hub.clock.advance(COOLDOWN)  # half-open: a burst lets exactly one probe through
    probes = await hub.burst(6, provider="openai")
    assert hub.calls("openai") == TRIP + 1
    assert sum(("openai", "provider_bad_response") in a.outcomes for a in probes) == 1
    assert breaker.snapshot()["state"] == "open"  # the probe failed: open again, for longer

    hub.clock.advance(COOLDOWN)  # the doubled cool-down has not passed yet
    assert (await hub.chat(provider="openai")).outcomes == [("openai", "circuit_open")]
    assert hub.calls("openai") == TRIP + 1

    hub.fakes.openai.fail_always(None)  # openai recovers
    hub.clock.advance(COOLDOWN)
    probe = await hub.chat(provider="openai")
    assert probe.outcomes == [("openai", "ok")]
    assert breaker.snapshot()["state"] == "closed"
    back = await hub.burst(4)  # readmitted: unpinned traffic goes to openai again
    assert {a.body["provider"] for a in back} == {"openai"}
    assert hub.calls("openai") == TRIP + 2 + 4


async def test_open_breaker_shows_on_health_and_providers(make_hub: HubFactory) -> None:
    hub = await make_hub()
    await trip_openai(hub)
    listing = await (await hub.client.get("/api/v1/providers", headers=AUTH)).json()
    assert {p["name"]: p["state"] for p in listing["providers"]}["openai"] == "circuit_open"
    health = await (await hub.client.get("/health")).json()
    assert {p["name"]: p["state"] for p in health["providers"]}["openai"] == "circuit_open"
    assert health["status"] == "degraded"

    hub.fakes.openai.fail_always(None)
    hub.clock.advance(COOLDOWN)
    assert (await hub.chat(provider="openai")).status == 200
    health = await (await hub.client.get("/health")).json()
    assert {p["name"]: p["state"] for p in health["providers"]}["openai"] == "healthy"


@pytest.mark.parametrize(
    ("fault", "counts"),
    [
        (Fault.BAD_REQUEST, False),  # the caller's fault, not the provider's
        (Fault.SERVER_ERROR, True),
    ],
)
async def test_only_retryable_failures_count_towards_the_breaker(
    make_hub: HubFactory, fault: Fault, counts: bool
) -> None:
    hub = await make_hub()
    hub.fakes.openai.fail_next(fault, times=2 * TRIP)
    for _ in range(2 * TRIP):
        await hub.chat(provider="openai")
    state = hub.manager.guards.breakers.get("openai").state
    assert (state is BreakerState.OPEN) is counts
