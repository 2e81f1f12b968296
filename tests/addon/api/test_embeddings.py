"""Embeddings through the real hub: ``POST /api/v1/embeddings`` and ``POST /v1/embeddings``.

HTTP -> app -> manager -> real SDK -> the simulated vendors; the /v1 door is driven by the
official ``openai`` client. The fakes compute each text's vector (``tests.fakes.embeddings``),
so what comes back is checked against what the vendor computed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH, TOKEN, Fakes, HubClientFactory
from tests.fakes.base import Fault
from tests.fakes.embeddings import tokens, vector

TEXTS = ["Turn on the kitchen light", "Where did I park the car?"]


@pytest.fixture
async def client(hub_client: HubClientFactory, fakes: Fakes) -> TestClient[Any, Any]:
    """The hub over the four fakes (priority: openai, anthropic, gemini, ollama)."""
    fakes.ollama.state.models.append("embeddinggemma:latest")
    return await hub_client(cache_ttl=300)


@pytest.fixture
async def sdk(client: TestClient[Any, Any]) -> AsyncIterator[openai.AsyncOpenAI]:
    """The official OpenAI client pointed at the hub's /v1."""
    url = str(client.make_url("/v1"))
    async with openai.AsyncOpenAI(base_url=url, api_key=TOKEN, max_retries=0) as api:
        yield api


async def embed(client: TestClient[Any, Any], **body: Any) -> tuple[int, dict[str, Any]]:
    response = await client.post("/api/v1/embeddings", json=body, headers=AUTH)
    return response.status, await response.json()


# --- the native door ------------------------------------------------------------------------
async def test_vectors_in_order_with_the_hubs_figures(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    status, body = await embed(client, input=TEXTS, tag="notes")
    assert status == 200, body
    assert (body["provider"], body["model"], body["dimensions"]) == (
        "openai",
        "text-embedding-3-small",
        1536,
    )
    for text, values in zip(TEXTS, body["vectors"], strict=True):
        assert values == pytest.approx(vector(text, 1536), abs=1e-6)  # float32 on the wire
    used = sum(tokens(t) for t in TEXTS)
    assert body["usage"]["input_tokens"] == used
    assert body["cost_usd"] == pytest.approx(used * 0.02 / 1e6)
    assert [(a["provider"], a["outcome"]) for a in body["attempts"]] == [("openai", "ok")]
    assert body["cached"] is False
    assert not fakes.anthropic.requests  # Anthropic has no embeddings: never a candidate


async def test_one_text_a_pin_and_shorter_vectors(client: TestClient[Any, Any]) -> None:
    status, body = await embed(client, input="sunny", provider="gemini", dimensions=64)
    assert status == 200, body
    assert (body["provider"], body["model"], body["dimensions"]) == (
        "gemini",
        "gemini-embedding-001",
        64,
    )
    assert body["vectors"][0] == pytest.approx(vector("sunny", 64))


async def test_a_failing_vendor_fails_over_to_the_next_with_embeddings(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    fakes.openai.fail_next(Fault.SERVER_ERROR)
    status, body = await embed(client, input=TEXTS)
    assert status == 200, body
    assert [(a["provider"], a["outcome"]) for a in body["attempts"]] == [
        ("openai", "provider_bad_response"),
        ("gemini", "ok"),
    ]
    assert body["vectors"][1] == pytest.approx(vector(TEXTS[1], 3072))


async def test_every_vendor_down_is_a_502_with_the_attempts(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    for fake in (fakes.openai, fakes.gemini, fakes.ollama):
        fake.fail_always(Fault.SERVER_ERROR)
    status, body = await embed(client, input=TEXTS)
    assert status == 502
    assert body["error"]["key"] == "all_providers_failed"
    assert {a["provider"] for a in body["error"]["attempts"]} == {"openai", "gemini", "ollama"}


async def test_an_ollama_without_the_model_pulled_is_a_422_saying_so(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    fakes.ollama.state.models.remove("embeddinggemma:latest")
    status, body = await embed(client, input="x", provider="ollama")
    assert status == 422
    assert body["error"]["key"] == "no_capable_provider"
    assert "ollama pull" in body["error"]["message"]


async def test_a_spent_budget_leaves_the_local_model_answering(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    fakes.ollama.state.models.append("embeddinggemma:latest")
    client = await hub_client(budget_daily_usd=0.0)
    status, body = await embed(client, input=TEXTS)
    assert status == 200, body
    assert [(a["provider"], a["outcome"]) for a in body["attempts"]] == [
        ("openai", "budget_exceeded"),
        ("gemini", "budget_exceeded"),
        ("ollama", "ok"),
    ]
    assert (body["model"], body["dimensions"], body["cost_usd"]) == (
        "embeddinggemma:latest",
        768,
        0.0,
    )
    assert not fakes.openai.requests
    assert not [r for r in fakes.gemini.requests if r.path.endswith(":batchEmbedContents")]


async def test_the_same_texts_come_from_the_cache_and_the_ledger_knows(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    first = (await embed(client, input=TEXTS, tag="memories"))[1]
    again = (await embed(client, input=TEXTS, tag="memories"))[1]
    assert (again["cached"], again["cost_usd"], again["attempts"]) == (True, 0.0, [])
    assert again["vectors"] == first["vectors"]
    assert len([r for r in fakes.openai.requests if r.path == "/v1/embeddings"]) == 1
    usage = await (await client.get("/api/v1/usage", headers=AUTH)).json()
    by = usage["by_capability"]["embeddings"]
    assert (by["requests"], by["input_tokens"]) == (2, sum(tokens(t) for t in TEXTS))
    assert usage["by_tag"]["memories"]["requests"] == 2
    recent = await (await client.get("/api/v1/requests?limit=5", headers=AUTH)).json()
    assert {r["capability"] for r in recent["requests"]} == {"embeddings"}


@pytest.mark.parametrize(
    ("body", "status", "where"),
    [
        ({}, 400, "input"),
        ({"input": ""}, 400, "input"),
        ({"input": "   "}, 400, "input"),
        ({"input": []}, 400, "input"),
        ({"input": ["ok", ""]}, 400, "input"),
        ({"input": [1, 2, 3]}, 400, "input"),
        ({"input": ["x"] * 2049}, 400, "input"),
        ({"input": "x" * 32_769}, 400, "input"),
        ({"input": ["x" * 32_000] * 32}, 413, "characters"),
        ({"input": "x", "dimensions": 0}, 400, "dimensions"),
        ({"input": "x", "dimensions": True}, 400, "dimensions"),
        ({"input": "x", "dimensions": "64"}, 400, "dimensions"),
        ({"input": "x", "tag": "no spaces allowed"}, 400, "tag"),
        ({"input": "x", "strategy": "fastest-please"}, 400, "strategy"),
        ({"input": "x", "temperature": 0}, 400, "temperature"),
        ({"input": "x\u0000y"}, 400, "NUL"),
        ({"input": "x", "provider": "nobody"}, 422, "nobody"),
        ({"input": "x", "model": "gpt-4.1-mini"}, 422, "gpt-4.1-mini"),
    ],
)
async def test_bad_requests_are_refused_before_any_vendor_is_called(
    client: TestClient[Any, Any], fakes: Fakes, body: dict[str, Any], status: int, where: str
) -> None:
    got, answer = await embed(client, **body)
    assert got == status, answer
    assert where in answer["error"]["message"]
    assert all(not fake.requests for fake in fakes.all.values())


# --- the OpenAI-compatible door (the official client) --------------------------------------
async def test_the_openai_client_gets_float32_vectors_by_default(
    sdk: openai.AsyncOpenAI, fakes: Fakes
) -> None:
    raw = await sdk.embeddings.with_raw_response.create(model="auto", input=TEXTS)
    result = raw.parse()
    assert raw.headers["X-Hub-Attempts"] == "openai=ok"
    assert result.object == "list"
    assert result.model == "openai/text-embedding-3-small"
    assert [item.index for item in result.data] == [0, 1]
    for text, item in zip(TEXTS, result.data, strict=True):
        assert item.embedding == pytest.approx(vector(text, 1536), abs=1e-6)
    used = sum(tokens(t) for t in TEXTS)
    assert (result.usage.prompt_tokens, result.usage.total_tokens) == (used, used)
    sent = [r.json for r in client_requests(fakes)]
    assert sent == [
        {"model": "text-embedding-3-small", "input": TEXTS, "encoding_format": "base64"}
    ]


def client_requests(fakes: Fakes) -> list[Any]:
    return [r for r in fakes.openai.requests if r.path == "/v1/embeddings"]


@pytest.mark.parametrize(
    ("model", "provider", "model_name"),
    [
        ("gemini", "gemini", "gemini-embedding-001"),
        ("gemini/text-embedding-004", "gemini", "text-embedding-004"),
        ("text-embedding-3-large", "openai", "text-embedding-3-large"),
        ("ollama/nomic-embed-text", "ollama", "nomic-embed-text:latest"),
    ],
)
async def test_model_pins_a_provider_or_a_model(
    sdk: openai.AsyncOpenAI, fakes: Fakes, model: str, provider: str, model_name: str
) -> None:
    fakes.ollama.state.models.append("nomic-embed-text:latest")
    result = await sdk.embeddings.create(
        model=model, input="hello", dimensions=32, encoding_format="float"
    )
    assert result.model == f"{provider}/{model_name}"
    assert result.data[0].embedding == pytest.approx(vector("hello", 32))


async def test_errors_come_in_openais_shape(sdk: openai.AsyncOpenAI, fakes: Fakes) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        await sdk.embeddings.create(model="auto", input=[1, 2, 3])
    assert bad.value.code == "invalid_request"
    assert bad.value.param == "input"
    with pytest.raises(openai.UnprocessableEntityError) as unknown:
        await sdk.embeddings.create(model="anthropic", input="hi")
    assert unknown.value.code == "no_capable_provider"
    for fake in (fakes.openai, fakes.gemini, fakes.ollama):
        fake.fail_always(Fault.RATE_LIMIT, retry_after=30)
    with pytest.raises(openai.RateLimitError) as limited:
        await sdk.embeddings.create(model="auto", input="hi")
    assert limited.value.code == "rate_limited"
    assert "openai=provider_rate_limited" in limited.value.response.headers["X-Hub-Attempts"]
    assert not fakes.anthropic.requests


async def test_the_v1_door_refuses_what_openai_refuses(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/v1/embeddings",
        json={"model": "auto", "input": "x", "encoding_format": "int8"},
        headers=AUTH,
    )
    body = await response.json()
    assert response.status == 400
    assert body["error"]["param"] == "encoding_format"
    assert body["error"]["type"] == "invalid_request_error"
