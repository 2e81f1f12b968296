"""``GET /api/v1/usage`` and ``GET /metrics`` over the real app, ledger and fakes."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import AUTH, TOKEN, Fakes, HubClientFactory
from tests.fakes.base import Fault


async def call(client: Any, method: str, path: str, status: int = 200, **kw: Any) -> Any:
    response = await client.request(method, path, headers=AUTH, **kw)
    body = await response.json() if response.content_type == "application/json" else None
    assert response.status == status, body
    return body


async def test_usage_adds_up_the_responses(hub_client: HubClientFactory, fakes: Fakes) -> None:
    client = await hub_client(budget_daily_usd=5.0)
    answers = [
        await call(client, "POST", "/api/v1/chat", json={"prompt": "Hi", "tag": "kitchen"}),
        await call(client, "POST", "/api/v1/chat", json={"prompt": "Yo", "provider": "ollama"}),
    ]
    fakes.openai.fail_next(Fault.SERVER_ERROR)
    answers.append(await call(client, "POST", "/api/v1/chat", json={"prompt": "Failover"}))

    body = await call(client, "GET", "/api/v1/usage")

    totals = body["totals"]
    assert totals["requests"] == 3
    assert totals["succeeded"] == 3
    assert totals["cost_usd"] == pytest.approx(sum(a["cost_usd"] for a in answers))
    assert totals["input_tokens"] == sum(a["usage"]["input_tokens"] for a in answers)
    assert totals["output_tokens"] == sum(a["usage"]["output_tokens"] for a in answers)
    assert body["by_provider"]["openai"]["failed"] == 1  # the 500 is ledgered as an attempt
    assert body["by_provider"]["ollama"]["cost_usd"] == 0
    assert body["by_tag"]["kitchen"]["requests"] == 1
    assert body["today"] == totals
    assert body["month"]["requests"] == 3
    daily = body["budget"]["daily"]
    assert daily["limit_usd"] == 5.0
    assert daily["spent_usd"] == pytest.approx(totals["cost_usd"], abs=1e-6)
    assert daily["left_usd"] == pytest.approx(5.0 - totals["cost_usd"], abs=1e-6)
    assert body["budget"]["monthly"]["limit_usd"] is None


async def test_usage_range_excludes_other_times(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    await call(client, "POST", "/api/v1/chat", json={"prompt": "Hi"})
    body = await call(
        client, "GET", "/api/v1/usage", params={"since": "2020-01-01", "until": "2020-02-01T00:00Z"}
    )
    assert body["totals"]["requests"] == 0
    assert body["since"].startswith("2020-01-01")
    assert body["today"]["requests"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"since": "2000", "until": "1000"}, "until"),
    ],
)
async def test_usage_rejects_a_bad_range(
    hub_client: HubClientFactory, params: dict[str, str], field: str
) -> None:
    client = await hub_client()
    body = await call(client, "GET", "/api/v1/usage", status=400, params=params)
    assert body["error"]["key"] == "invalid_request"
    assert body["error"]["field"] == field


async def test_metrics_expose_traffic_and_state(hub_client: HubClientFactory, fakes: Fakes) -> None:
    client = await hub_client(budget_daily_usd=2.0)
    fakes.openai.fail_next(Fault.SERVER_ERROR)
    await call(client, "POST", "/api/v1/chat", json={"prompt": "Hi", "temperature": 0})
    await call(client, "POST", "/api/v1/chat", json={"prompt": "Hi", "temperature": 0})

    response = await client.get("/metrics", headers=AUTH)
    assert response.status == 200
    text = await response.text()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("ai_provider_hub_cache_hits_total") == 1
    assert value("ai_provider_hub_circuit_state", provider="openai") == 0
    assert 0 < value("ai_provider_hub_budget_left_usd", scope="global", period="daily") <= 2.0
    failed = [
        count
        for (name, labels), count in samples.items()
        if name == "ai_provider_hub_attempts_total"
        and ("provider", "openai") in labels
        and ("outcome", "provider_bad_response") in labels
    ]
    assert failed == [1]
    assert TOKEN not in text
    assert "sk-test" not in text


async def test_metrics_need_the_token(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    response = await client.get("/metrics")
    assert response.status == 401
