"""Rate limits and spend budgets through the API: HTTP -> app -> real SDK -> fakes.

The unit tests in ``test_limits.py`` and ``test_budget.py`` pin the arithmetic; these prove
that a burst of real concurrent requests never gets past a limit or a budget.
"""

from __future__ import annotations

import pytest

from addon.routing.budget import period_starts
from tests.addon.routing.api_fixtures import VENDORS, HubFactory, spy_on_calls

RPM = 3


async def test_rpm_lets_exactly_n_through_then_refuses_with_retry_after(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(providers={"openai": {"rpm": RPM}})
    answers = await hub.burst(4 * RPM, provider="openai")

    passed = [a for a in answers if a.status == 200]
    refused = [a for a in answers if a.status != 200]
    assert len(passed) == RPM
    assert hub.calls("openai") == RPM
    assert {a.status for a in refused} == {429}
    assert {a.key for a in refused} == {"rate_limited"}
    for answer in refused:
        assert 0 < answer.error["retry_after"] <= 60
        assert int(answer.headers["Retry-After"]) >= 1
        assert answer.outcomes == [("openai", "rate_limited")]

    hub.clock.advance(61)  # the rolling window has moved on: N more, and only N
    again = await hub.burst(2 * RPM, provider="openai")
    assert sorted(a.status for a in again) == [200] * RPM + [429] * RPM
    assert hub.calls("openai") == 2 * RPM


async def test_rpm_on_every_provider_caps_the_whole_hub(make_hub: HubFactory) -> None:
    hub = await make_hub(providers={name: {"rpm": RPM} for name in VENDORS})
    answers = await hub.burst(len(VENDORS) * RPM + 5)

    assert sum(a.status == 200 for a in answers) == len(VENDORS) * RPM
    refused = [a for a in answers if a.status != 200]
    assert len(refused) == 5
    assert {a.key for a in refused} == {"rate_limited"}
    assert all(a.error["retry_after"] > 0 for a in refused)
    for vendor in VENDORS:
        assert hub.calls(vendor) == RPM, vendor
    # A refused request walked every provider and was turned away by each limit.
    assert {p for p, outcome in refused[0].outcomes if outcome == "rate_limited"} == set(VENDORS)


async def test_over_the_concurrency_cap_requests_queue_and_pass(make_hub: HubFactory) -> None:
    hub = await make_hub(providers={"openai": {"max_concurrency": 1}}, queue_timeout=30)
    spy = spy_on_calls(hub.manager, "openai")
    answers = await hub.burst(6, provider="openai")

    assert [a.status for a in answers] == [200] * 6
    assert spy["calls"] == 6
    assert spy["max_in_flight"] == 1
    assert hub.calls("openai") == 6


async def test_global_concurrency_cap_queues_across_providers(make_hub: HubFactory) -> None:
    hub = await make_hub(max_concurrency=1, queue_timeout=30, strategy="round_robin")
    spy = spy_on_calls(hub.manager, VENDORS)
    answers = await hub.burst(8)

    assert [a.status for a in answers] == [200] * 8
    assert spy["calls"] == 8
    assert spy["max_in_flight"] == 1
    assert sum(hub.calls(v) for v in VENDORS) == 8
    assert {a.body["provider"] for a in answers} == set(VENDORS)  # round robin spread them


# --- budgets ------------------------------------------------------------------------
# Prompt "Hi" is estimated at 25 input tokens; max_tokens 5 caps the output, so a call
# reserves (25 + 5) * $1000 / 1e6 = $0.030. The fake bills 20 + 5 tokens = $0.025. With a
# $0.10 budget, whatever the interleaving, exactly three calls fit: two settled ($0.05) plus
# one reservation ($0.03) is $0.08, and a fourth would need $0.105.
PRICE = {"input_price": 1000.0, "output_price": 1000.0}
BUDGET = 0.10
ACTUAL_COST = 0.025
FITS = 3
BURST = 20


@pytest.mark.parametrize("scope", ["provider", "global"])
async def test_budget_burst_never_overspends_and_ollama_keeps_answering(
    make_hub: HubFactory, scope: str
) -> None:
    openai = {**PRICE, **({"budget_daily_usd": BUDGET} if scope == "provider" else {})}
    top = {"budget_daily_usd": BUDGET} if scope == "global" else {}
    hub = await make_hub(only=("openai", "ollama"), providers={"openai": openai}, **top)
    hub.fakes.openai.state.reply.input_tokens = 20

    answers = await hub.burst(BURST, provider="openai", max_tokens=5)

    passed = [a for a in answers if a.status == 200]
    refused = [a for a in answers if a.status != 200]
    assert len(passed) == FITS
    assert hub.calls("openai") == FITS
    assert {(a.status, a.key) for a in refused} == {(429, "budget_exceeded")}
    owner = "the hub's" if scope == "global" else "provider openai's"
    assert all(owner in a.error["message"] for a in refused)
    assert all(a.error["retry_after"] > 0 for a in refused)  # the UTC day's end
    assert all(a.outcomes == [("openai", "budget_exceeded")] for a in refused)

    spent = sum(a.body["cost_usd"] for a in passed)
    assert spent == pytest.approx(FITS * ACTUAL_COST)
    assert spent <= BUDGET
    state = hub.manager.guards.budgets.state()
    daily = state["daily"] if scope == "global" else state["providers"]["openai"]["daily"]
    assert daily["spent_usd"] == pytest.approx(spent)
    assert daily["reserved_usd"] == 0
    assert daily["spent_usd"] <= daily["limit_usd"] == BUDGET
    ledger = hub.manager.guards.ledger
    assert ledger is not None
    day_start, _ = period_starts(hub.context.manager.guards.wall_clock())
    assert await ledger.spent(day_start) == pytest.approx(spent)

    local = await hub.chat(max_tokens=5)  # not pinned: the cloud is over budget, Ollama is free
    assert local.status == 200, local.body
    assert local.body["provider"] == "ollama"
    assert local.body["cost_usd"] == 0
    assert local.outcomes == [("openai", "budget_exceeded"), ("ollama", "ok")]
    assert hub.calls("openai") == FITS


async def test_budget_refusal_says_when_the_day_rolls_over(make_hub: HubFactory) -> None:
    hub = await make_hub(only=("openai",), providers={"openai": PRICE}, budget_daily_usd=0.01)
    answer = await hub.chat(max_tokens=5)
    assert (answer.status, answer.key) == (429, "budget_exceeded")
    assert 0 < answer.error["retry_after"] <= 86400
    assert abs(int(answer.headers["Retry-After"]) - answer.error["retry_after"]) <= 1
    assert hub.calls("openai") == 0
