"""Ledger, cache, strategies and routes through the API: HTTP -> app -> real SDK -> fakes.

The unit tests of each part live next to this file; these prove the same guarantees end to
end. Limits and budgets are in ``test_through_api_limits.py``, faults and breakers in
``test_through_api_faults.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.addon.routing.api_fixtures import VENDORS, Answer, Hub, HubFactory, spy_on_calls
from tests.fakes.base import Fault

# USD per million tokens; distinct per provider so a sum cannot match by accident.
PRICES = {
    "openai": {"input_price": 300.0, "output_price": 1200.0},
    "anthropic": {"input_price": 800.0, "output_price": 4000.0},
    "gemini": {"input_price": 150.0, "output_price": 600.0},
}
TOKENS = {"openai": (12, 5), "anthropic": (31, 9), "gemini": (17, 4), "ollama": (40, 11)}


def set_tokens(hub: Hub) -> None:
    """Give every fake its own usage figures."""
    for vendor, (tokens_in, tokens_out) in TOKENS.items():
        reply = hub.fakes.all[vendor].state.reply
        reply.input_tokens, reply.output_tokens = tokens_in, tokens_out


# --- ledger -------------------------------------------------------------------------
async def mixed_run(hub: Hub) -> tuple[list[dict[str, Any]], int]:
    """Chat, vision, stream, failover, cache hit, pinned, batch and one failure.

    Returns the successful responses and how many requests were made in all.
    """
    answers: list[Answer] = [await hub.chat("one"), await hub.vision()]
    hub.fakes.openai.fail_next(Fault.SERVER_ERROR)
    answers.append(await hub.chat("failover"))
    answers += [await hub.chat("same", temperature=0) for _ in range(2)]  # 2nd: cache hit
    answers += [await hub.chat(provider=name) for name in ("gemini", "ollama")]
    responses = [a.body for a in answers]
    assert all(a.status == 200 for a in answers), [a.body for a in answers]
    stream = await hub.stream("streamed", provider="anthropic")
    assert stream.done is not None
    responses.append(stream.done)
    batch = await hub.post(
        "/api/v1/batch", {"requests": [{"prompt": "b1"}, {"prompt": "b2", "provider": "gemini"}]}
    )
    responses += batch.body["results"]
    hub.fakes.anthropic.fail_always(Fault.SERVER_ERROR)
    failed = await hub.chat("doomed", provider="anthropic")
    assert failed.key == "all_providers_failed"
    hub.fakes.anthropic.fail_always(None)
    return responses, len(responses) + 1


async def test_ledger_and_usage_totals_equal_the_responses(make_hub: HubFactory) -> None:
    hub = await make_hub(providers=PRICES)
    set_tokens(hub)
    responses, requests = await mixed_run(hub)

    assert [r["cached"] for r in responses].count(True) == 1
    assert {r["provider"] for r in responses} == set(VENDORS)
    billed = [r for r in responses if not r["cached"]]  # a cache hit used no provider tokens
    expected = {
        "requests": requests,
        "succeeded": len(responses),
        "cost_usd": sum(r["cost_usd"] for r in responses),
        "input_tokens": sum(r["usage"]["input_tokens"] for r in billed),
        "output_tokens": sum(r["usage"]["output_tokens"] for r in billed),
    }
    assert expected["cost_usd"] > 0
    for response in billed:  # cost = tokens * price / 1e6
        price = PRICES.get(response["provider"], {"input_price": 0.0, "output_price": 0.0})
        usage = response["usage"]
        assert response["cost_usd"] == pytest.approx(
            (
                usage["input_tokens"] * price["input_price"]
                + usage["output_tokens"] * price["output_price"]
            )
            / 1e6
        )

    ledger = hub.manager.guards.ledger
    assert ledger is not None
    report = (await ledger.usage(0)).to_dict()
    usage = await hub.usage()
    for totals in (report["totals"], usage["totals"]):
        assert {k: totals[k] for k in expected} == pytest.approx(expected)
    for name in VENDORS:
        spent = sum(r["cost_usd"] for r in responses if r["provider"] == name)
        assert report["by_provider"][name]["cost_usd"] == pytest.approx(spent), name
        assert usage["by_provider"][name]["cost_usd"] == pytest.approx(spent), name
    assert usage["budget"]["daily"]["spent_usd"] == pytest.approx(expected["cost_usd"], abs=1e-6)


# --- cache --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "cached"),
    [
        ({"temperature": 0}, True),
        ({"temperature": 0, "cache": False}, False),
        ({"temperature": 0.7}, False),
        ({}, False),  # no temperature: the provider's default, not deterministic
        ({"temperature": 0.7, "cache": True}, True),
    ],
)
async def test_cache_answers_only_deterministic_or_opted_in_requests(
    make_hub: HubFactory, body: dict[str, Any], cached: bool
) -> None:
    hub = await make_hub(providers=PRICES)
    first = await hub.chat("What is 2+2?", **body)
    second = await hub.chat("What is 2+2?", **body)

    assert (first.status, second.status) == (200, 200)
    assert first.body["cached"] is False
    assert first.body["cost_usd"] > 0
    assert second.body["cached"] is cached
    assert hub.calls("openai") == (1 if cached else 2)
    if cached:
        assert second.body["cost_usd"] == 0
        assert second.body["text"] == first.body["text"]
        assert second.body["request_id"] != first.body["request_id"]
        assert second.body["attempts"] == []


async def test_cache_key_tells_requests_apart(make_hub: HubFactory) -> None:
    hub = await make_hub()
    await hub.chat("Question A", temperature=0)
    other_prompt = await hub.chat("Question B", temperature=0)
    other_provider = await hub.chat("Question A", temperature=0, provider="anthropic")
    assert other_prompt.body["cached"] is other_provider.body["cached"] is False
    assert (hub.calls("openai"), hub.calls("anthropic")) == (2, 1)


# --- strategies ---------------------------------------------------------------------
async def answered_by(hub: Hub, count: int, **body: Any) -> list[str]:
    """Who answered each of ``count`` sequential requests."""
    providers = []
    for _ in range(count):
        answer = await hub.chat(**body)
        assert answer.status == 200, answer.body
        providers.append(answer.body["provider"])
    return providers


@pytest.mark.parametrize(
    ("strategy", "providers", "expected"),
    [
        ("priority", {}, ["openai"] * 4),
        ("round_robin", {}, ["openai", "anthropic", "gemini", "ollama"] * 2),
        ("cost", PRICES, ["ollama"] * 3),
        (
            "weighted",
            {"openai": {"weight": 2}, "anthropic": {"weight": 1}, "ollama": {"weight": 0}},
            ["openai", "anthropic", "gemini", "openai"],
        ),
    ],
)
async def test_per_request_strategy_changes_who_answers(
    make_hub: HubFactory,
    strategy: str,
    providers: dict[str, dict[str, Any]],
    expected: list[str],
) -> None:
    hub = await make_hub(providers=providers, strategy="priority")
    assert await answered_by(hub, len(expected), strategy=strategy) == expected


async def test_cost_strategy_picks_the_cheapest_cloud_for_this_request(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(only=("openai", "anthropic", "gemini"), providers=PRICES)
    assert await answered_by(hub, 2, strategy="cost") == ["gemini"] * 2


async def test_fastest_strategy_follows_measured_latency(make_hub: HubFactory) -> None:
    hub = await make_hub()
    latency = {"openai": 0.5, "anthropic": 0.1, "gemini": 0.3, "ollama": 0.2}
    spy_on_calls(hub.manager, VENDORS, before=lambda name: hub.clock.advance(latency[name]))
    await answered_by(hub, 4, strategy="round_robin")  # one sample each
    assert await answered_by(hub, 3, strategy="fastest") == ["anthropic"] * 3


@pytest.mark.timeout(300)  # 350 requests through the hub
async def test_adaptive_moves_traffic_away_from_a_slow_provider_and_back(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(only=("openai", "anthropic"))
    latency = {"openai": 0.1, "anthropic": 0.1}
    spy_on_calls(hub.manager, VENDORS[:2], before=lambda name: hub.clock.advance(latency[name]))

    before = await answered_by(hub, 20, strategy="adaptive")
    assert before.count("openai") >= 17  # equal speed: the better priority wins

    latency["openai"] = 3.0
    slow = await answered_by(hub, 30, strategy="adaptive")
    assert slow.count("openai") <= 4  # the slow answer, then only exploration
    assert slow[-20:].count("anthropic") >= 17

    latency["openai"] = 0.1
    hub.clock.advance(300)  # the old slow sample now weighs almost nothing
    recovered = await answered_by(hub, 300, strategy="adaptive")
    assert "openai" in recovered  # exploration noticed it
    after = recovered[recovered.index("openai") + 1 :][:20]
    assert after.count("openai") >= 17


# --- routes -------------------------------------------------------------------------
async def test_tag_route_tries_only_its_providers(make_hub: HubFactory) -> None:
    hub = await make_hub(routes=[{"match": "doorbell", "providers": ["anthropic"]}])
    routed = await hub.chat("Who is at the door?", tag="doorbell")
    assert routed.outcomes == [("anthropic", "ok")]

    hub.fakes.anthropic.fail_always(Fault.SERVER_ERROR)
    failed = await hub.chat("Who is at the door?", tag="doorbell")
    assert failed.key == "all_providers_failed"
    assert {p for p, _ in failed.outcomes} == {"anthropic"}
    assert sum(hub.calls(v) for v in VENDORS if v != "anthropic") == 0

    untagged = await hub.chat("Anything else?")
    assert untagged.body["provider"] == "openai"


async def test_route_order_and_capability_routes(make_hub: HubFactory) -> None:
    hub = await make_hub(
        routes=[
            {"match": "kitchen_report", "providers": ["ollama", "gemini"]},
            {"match": "vision", "providers": ["gemini"]},
        ]
    )
    hub.fakes.ollama.fail_next(Fault.SERVER_ERROR)
    report = await hub.chat("Summarise the kitchen", tag="kitchen_report")
    assert report.outcomes == [("ollama", "provider_bad_response"), ("gemini", "ok")]

    seen = await hub.vision()
    assert seen.outcomes == [("gemini", "ok")]
    assert hub.calls("openai") == hub.calls("anthropic") == 0
