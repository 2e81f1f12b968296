"""``/health``, ``/api/v1/providers`` and ``/api/v1/models``."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from addon.api.context import HUB_CONTEXT, HubContext
from tests.conftest import AUTH, Fakes, HubClientFactory, provider_options
from tests.fakes.base import Fault


async def get_json(client: Any, path: str, status: int = 200, **kwargs: Any) -> dict[str, Any]:
    response = await client.get(path, **kwargs)
    body: dict[str, Any] = await response.json()
    assert response.status == status, body
    return body


def hub_context(client: Any) -> HubContext:
    context: HubContext = client.app[HUB_CONTEXT]
    return context


async def test_health_needs_no_token_and_shows_states(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    body = await get_json(client, "/health")
    assert body["status"] == "ok"
    assert [p["name"] for p in body["providers"]] == ["openai", "anthropic", "gemini", "ollama"]
    assert {p["state"] for p in body["providers"]} == {"unknown"}
    assert "sk-test" not in str(body)


async def test_health_reflects_a_failed_call(hub_client: HubClientFactory, fakes: Fakes) -> None:
    client = await hub_client()
    fakes.openai.fail_next(Fault.SERVER_ERROR)
    await client.post("/api/v1/chat", json={"prompt": "Hi"}, headers=AUTH)
    body = await get_json(client, "/health")
    states = {p["name"]: (p["state"], p["error_key"]) for p in body["providers"]}
    assert states["openai"] == ("down", "provider_bad_response")
    assert states["anthropic"] == ("healthy", None)
    assert body["status"] == "degraded"


async def test_health_check_marks_unreachable_provider_down(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    await fakes.gemini.stop()
    await hub_context(client).manager.check_health()
    body = await get_json(client, "/health")
    states = {p["name"]: p["state"] for p in body["providers"]}
    assert states == {
        "openai": "healthy",
        "anthropic": "healthy",
        "gemini": "down",
        "ollama": "healthy",
    }


async def test_providers_lists_masked_keys(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    body = await get_json(client, "/api/v1/providers", headers=AUTH)
    rows = {row["name"]: row for row in body["providers"]}
    assert rows["openai"]["api_key"] == "sk-…3456"
    assert rows["ollama"]["api_key"] is None
    assert rows["openai"]["vision"] is True
    assert rows["anthropic"]["priority"] == 20
    assert "sk-test-openai-key-123456" not in str(body)


async def test_providers_name_the_model_of_each_capability_they_serve(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    options = provider_options(fakes)
    options[3]["embedding_model"] = "nomic-embed-text"
    client = await hub_client(providers=options)
    body = await get_json(client, "/api/v1/providers", headers=AUTH)
    served = {row["name"]: row["media_models"] for row in body["providers"]}
    assert served["openai"]["embeddings"] == "text-embedding-3-small"
    assert served["gemini"]["embeddings"] == "gemini-embedding-001"
    assert served["ollama"] == {"embeddings": "nomic-embed-text"}
    assert served["anthropic"] == {}


async def test_models_from_every_provider_and_errors_apart(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    fakes.ollama.fail_always(Fault.SERVER_ERROR)
    body = await get_json(client, "/api/v1/models", headers=AUTH)
    providers = {row["provider"] for row in body["models"]}
    assert providers == {"openai", "anthropic", "gemini"}
    assert body["errors"] == {"ollama": "provider_bad_response"}
    assert all(isinstance(row["id"], str) and row["id"] for row in body["models"])


async def test_unknown_route_is_enveloped_404(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    body = await get_json(client, "/api/v1/nothing", status=404, headers=AUTH)
    assert body["error"]["key"] == "not_found"


async def test_an_open_circuit_shows_on_health_and_providers(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    breaker = hub_context(client).manager.guards.breakers.get("anthropic")
    while breaker.allow():
        breaker.record_failure()
    health = await get_json(client, "/health")
    rows = await get_json(client, "/api/v1/providers", headers=AUTH)
    for body in (health, rows):
        states = {p["name"]: p["state"] for p in body["providers"]}
        assert states["anthropic"] == "circuit_open"
    assert health["status"] == "degraded"


async def test_a_spent_budget_benches_paid_providers_not_local_ones(
    hub_client: HubClientFactory,
) -> None:
    client = await hub_client(budget_daily_usd=0.5)
    hub_context(client).manager.guards.budgets.seed({None: 0.5}, {})
    body = await get_json(client, "/api/v1/providers", headers=AUTH)
    states = {p["name"]: p["state"] for p in body["providers"]}
    assert states == {
        "openai": "over_budget",
        "anthropic": "over_budget",
        "gemini": "over_budget",
        "ollama": "unknown",
    }


async def providers_by_name(client: Any) -> dict[str, dict[str, Any]]:
    body = await get_json(client, "/api/v1/providers", headers=AUTH)
    return {row["name"]: row for row in body["providers"]}


async def pinned(client: Any, provider: str, times: int = 1) -> None:
    for _ in range(times):
        await client.post("/api/v1/chat", json={"prompt": "Hi", "provider": provider}, headers=AUTH)


@pytest.mark.parametrize(
    ("fault", "calls", "state", "reason"),
    [
        (Fault.SERVER_ERROR, 1, "down", r"down: provider_bad_response: .+"),
        (
            Fault.SERVER_ERROR,
            5,
            "circuit_open",
            r"circuit open: provider_bad_response \(5 failures in a row\), retry in 15 s",
        ),
        (
            Fault.AUTH,
            1,
            "circuit_open",
            r"circuit open: provider_auth \(the key was rejected\), until the key changes",
        ),
    ],
)
async def test_providers_say_why_one_is_not_serving(
    hub_client: HubClientFactory,
    fakes: Fakes,
    fault: Fault,
    calls: int,
    state: str,
    reason: str,
) -> None:
    client = await hub_client()
    fakes.anthropic.fail_always(fault)
    await pinned(client, "anthropic", calls)
    rows = await providers_by_name(client)
    assert rows["anthropic"]["state"] == state
    assert re.fullmatch(reason, rows["anthropic"]["reason"]), rows["anthropic"]["reason"]
    assert rows["openai"]["reason"] is None
    if state == "circuit_open":
        assert rows["anthropic"]["circuit"]["state"] == "open"
        assert rows["anthropic"]["circuit"]["opened_because"]


async def test_a_spent_budget_is_the_reason(hub_client: HubClientFactory) -> None:
    client = await hub_client(budget_daily_usd=0.001)
    hub_context(client).manager.guards.budgets.seed({None: 0.001}, {})
    rows = await providers_by_name(client)
    assert rows["openai"]["reason"] == (
        "over budget: the hub's daily budget of $0.00100 is spent ($0.00100 used)"
    )
    assert rows["ollama"]["reason"] is None
    assert rows["ollama"]["free"] is True


async def test_providers_show_load_headroom_budget_and_recent_figures(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    options = provider_options(fakes)
    options[1].update(rpm=10, tpm=50_000, max_concurrency=2, budget_daily_usd=1.0)
    client = await hub_client(providers=options)
    fakes.anthropic.fail_next(Fault.TIMEOUT, seconds=2)
    slow = asyncio.create_task(pinned(client, "anthropic"))
    for _ in range(200):  # bounded: the call is in flight until the fake answers
        rows = await providers_by_name(client)
        if rows["anthropic"]["in_flight"]:
            break
        await asyncio.sleep(0.01)
    assert rows["anthropic"]["in_flight"] == 1
    await slow
    await pinned(client, "anthropic", 2)

    anthropic = (await providers_by_name(client))["anthropic"]
    assert anthropic["in_flight"] == 0
    assert anthropic["limits"] == {"rpm": 10, "tpm": 50_000, "max_concurrency": 2}
    usage = await get_json(client, "/api/v1/usage", headers=AUTH)
    calls = usage["by_provider"]["anthropic"]
    # The late 500 was retried on the same provider: 4 attempts, 1 failed, for 3 requests.
    assert (calls["requests"], calls["attempts"], calls["failed_attempts"]) == (3, 4, 1)
    assert anthropic["headroom"]["rpm"] == 10 - 4
    assert anthropic["headroom"]["concurrency"] == 2
    assert 0 < anthropic["headroom"]["tpm"] < 50_000
    daily = anthropic["budget"]["daily"]
    assert daily["limit_usd"] == 1.0
    assert daily["spent_usd"] == pytest.approx(usage["by_provider"]["anthropic"]["cost_usd"])
    recent = anthropic["recent"]
    assert (recent["attempts"], recent["success_rate"]) == (4, 0.75)
    assert recent["p50_latency_ms"] is not None
    assert anthropic["key_stored"] is True
    assert (await providers_by_name(client))["ollama"]["key_stored"] is False
