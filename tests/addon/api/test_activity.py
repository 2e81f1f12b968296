"""``GET /api/v1/requests`` and ``GET /api/v1/routing`` over the real app, ledger and fakes."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import AUTH, Fakes, HubClientFactory
from tests.fakes.base import Fault


async def call(client: Any, method: str, path: str, status: int = 200, **kw: Any) -> Any:
    response = await client.request(method, path, headers=AUTH, **kw)
    body = await response.json()
    assert response.status == status, body
    return body


async def test_recent_requests_match_the_answers(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    plain = await call(client, "POST", "/api/v1/chat", json={"prompt": "Hi", "tag": "doorbell"})
    fakes.openai.fail_next(Fault.SERVER_ERROR)
    failover = await call(client, "POST", "/api/v1/chat", json={"prompt": "Secret prompt text"})

    body = await call(client, "GET", "/api/v1/requests")
    newest, older = body["requests"]
    assert [newest["request_id"], older["request_id"]] == [
        failover["request_id"],
        plain["request_id"],
    ]
    assert [(a["provider"], a["outcome"]) for a in newest["attempts"]] == [
        (a["provider"], a["outcome"]) for a in failover["attempts"]
    ]
    assert (newest["provider"], newest["model"], newest["outcome"]) == (
        failover["provider"],
        failover["model"],
        "ok",
    )
    assert newest["cost_usd"] == pytest.approx(failover["cost_usd"])
    assert newest["input_tokens"] == failover["usage"]["input_tokens"]
    assert older["tag"] == "doorbell"
    assert "Secret prompt text" not in str(body)


async def test_the_limit_is_respected(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    for _ in range(3):
        await call(client, "POST", "/api/v1/chat", json={"prompt": "Hi", "cache": False})
    body = await call(client, "GET", "/api/v1/requests", params={"limit": "2"})
    assert len(body["requests"]) == 2


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten", "2.5"])
async def test_a_bad_limit_is_a_clear_400(hub_client: HubClientFactory, limit: str) -> None:
    client = await hub_client()
    body = await call(client, "GET", "/api/v1/requests", status=400, params={"limit": limit})
    assert body["error"]["key"] == "invalid_request"
    assert body["error"]["field"] == "limit"


async def test_routing_is_explained(hub_client: HubClientFactory) -> None:
    routes = [
        {"match": "doorbell", "providers": ["gemini", "openai"]},
        {"match": "vision", "providers": ["anthropic"]},
        {"match": "embeddings", "providers": ["ollama", "gemini"]},
    ]
    client = await hub_client(routes=routes, cache_ttl=0)
    body = await call(client, "GET", "/api/v1/routing")
    assert body["strategy"] == "priority"
    assert body["explanation"].startswith("Lowest priority number first")
    assert [r["explanation"] for r in body["routes"]] == [
        "Requests tagged 'doorbell' go only to gemini, openai (in this order).",
        "Requests that need vision without a tag of their own route go only to anthropic "
        "(in this order).",
        "Embedding requests without a tag of their own route go only to ollama, gemini "
        "(in this order).",
    ]
    assert [p["name"] for p in body["providers"]] == ["openai", "anthropic", "gemini", "ollama"]
    assert set(body["strategies"]) >= {"adaptive", "priority", "cost"}
    assert "The answer cache is off." in body["notes"]
    assert body["request_timeout_s"] == 20


@pytest.mark.parametrize(
    "path", ["/api/v1/providers", "/api/v1/requests", "/api/v1/routing", "/api/v1/usage"]
)
async def test_the_dashboards_data_matches_the_document(
    hub_client: HubClientFactory, fakes: Fakes, path: str
) -> None:
    client = await hub_client(budget_daily_usd=1.0)
    fakes.openai.fail_next(Fault.SERVER_ERROR)
    await call(client, "POST", "/api/v1/chat", json={"prompt": "Hi", "tag": "kitchen"})
    document = await call(client, "GET", "/api/v1/openapi.json")
    operation = document["paths"][path]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    body = await call(client, "GET", path)
    validator = Draft202012Validator({**schema, "components": document["components"]})
    assert list(validator.iter_errors(body)) == []
    assert body, path
