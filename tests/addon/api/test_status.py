"""``/health``, ``/api/v1/providers`` and ``/api/v1/models``."""

from __future__ import annotations

from typing import Any

from addon.api.context import HUB_CONTEXT, HubContext
from tests.conftest import AUTH, Fakes, HubClientFactory
from tests.fakes.base import Fault


async def get_json(client: Any, path: str, status: int = 200, **kwargs: Any) -> dict[str, Any]:
    response = await client.get(path, **kwargs)
    body: dict[str, Any] = await response.json()
    assert response.status == status, body
    return body


def hub_context(client: Any) -> HubContext:
    context: HubContext = client.app[HUB_CONTEXT]
    return context


async def test_health_needs_no_token_and_shows_states(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
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
