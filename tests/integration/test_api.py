"""The typed client against the loopback fake hub: bodies, errors, deadlines, SSE."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession

from custom_components.ai_provider_hub.api import (
    HubApiError,
    HubAuthError,
    HubClient,
    HubConnectionError,
    HubRateLimitError,
    HubRequestError,
    HubResponseError,
    HubTimeoutError,
    HubUpstreamError,
    normalize_url,
)
from custom_components.ai_provider_hub.api_models import (
    GenerationResult,
    TextDelta,
    TokenUsage,
    ToolCall,
)

from .fake_hub import RESULT, FakeHub

ERROR_TABLE = [
    (400, "invalid_request", HubRequestError),
    (401, "unauthorized", HubAuthError),
    (404, "not_found", HubRequestError),
    (413, "payload_too_large", HubRequestError),
    (415, "unsupported_media", HubRequestError),
    (422, "no_capable_provider", HubRequestError),
    (429, "rate_limited", HubRateLimitError),
    (429, "budget_exceeded", HubRateLimitError),
    (502, "all_providers_failed", HubUpstreamError),
    (502, "provider_auth", HubUpstreamError),
    (502, "circuit_open", HubUpstreamError),
    (400, "provider_bad_request", HubRequestError),
    (504, "upstream_timeout", HubUpstreamError),
    (500, "internal_error", HubUpstreamError),
    (418, "brand_new_key", HubApiError),
    (429, "brand_new_limit", HubRateLimitError),
]


@pytest.fixture
async def client(fake_hub: FakeHub) -> AsyncIterator[HubClient]:
    async with ClientSession() as session:
        yield HubClient(session, fake_hub.url, fake_hub.token, quick_timeout=5)


async def test_bodies(client: HubClient, fake_hub: FakeHub) -> None:
    health = await client.validate()
    assert (health.status, health.version) == ("degraded", "0.1.0")
    assert [(p.name, p.state) for p in health.providers] == [
        ("openai", "healthy"),
        ("ollama", "circuit_open"),
    ]
    providers = await client.providers()
    assert [p.name for p in providers] == ["openai", "ollama"]
    assert (providers[0].latency_ms, providers[1].error_key) == (812.5, "provider_connection")
    usage = await client.usage()
    assert (usage.today.requests, usage.month.cost_usd) == (7, 1.5)
    assert usage.budget.daily.left_usd == 0.9877
    assert usage.budget.monthly.limit_usd is None
    assert usage.by_provider["openai"].success_rate == 1.0
    result = await client.chat({"prompt": "Hi"})
    assert result.usage == TokenUsage(input_tokens=100, output_tokens=12)
    assert [(a.provider, a.outcome) for a in result.attempts] == [("openai", "ok")]
    assert result.to_dict() == {**RESULT, "finish_reason": "stop", "tool_calls": []}
    assert fake_hub.requests[0].headers.get("Authorization") is None  # /health needs none


async def test_newer_add_on_fields_are_ignored(client: HubClient, fake_hub: FakeHub) -> None:
    fake_hub.bodies["/api/v1/chat"].update(reasoning="...", tool_calls=[], new_block={"a": 1})
    fake_hub.bodies["/api/v1/providers"]["providers"][0]["circuit"] = {"state": "closed"}
    assert (await client.chat({"prompt": "Hi"})).text == RESULT["text"]
    assert (await client.providers())[0].name == "openai"


async def test_older_add_on_fields_default(client: HubClient, fake_hub: FakeHub) -> None:
    fake_hub.bodies["/api/v1/usage"] = {"today": {"requests": 2}}
    usage = await client.usage()
    assert (usage.today.requests, usage.today.cost_usd) == (2, None)
    assert usage.budget.daily.limit_usd is None
    assert usage.by_tag == {}


@pytest.mark.parametrize(
    ("path", "change", "call", "named"),
    [
        ("/health", {"status": None}, "health", "status is missing"),
        ("/api/v1/providers", {"providers": [{"name": "x"}]}, "providers", "providers.state is"),
        ("/api/v1/providers", {"providers": "nope"}, "providers", "providers is not of"),
        ("/api/v1/usage", {"today": ["not", "totals"]}, "usage", "today is not of"),
        ("/api/v1/usage", {"budget": {"daily": {"spent_usd": "x"}}}, "usage", "daily.spent_usd"),
    ],
)
async def test_answers_that_do_not_fit_the_model(
    client: HubClient, fake_hub: FakeHub, path: str, change: dict[str, Any], call: str, named: str
) -> None:
    fake_hub.bodies[path] = {**fake_hub.bodies[path], **change}
    if change.get("status", "") is None:
        del fake_hub.bodies[path]["status"]
    with pytest.raises(HubResponseError) as err:
        await getattr(client, call)()
    assert err.value.message.startswith(f"GET {path}: ")
    assert named in err.value.message


async def test_generation_without_its_required_fields(client: HubClient, fake_hub: FakeHub) -> None:
    del fake_hub.bodies["/api/v1/chat"]["provider"]
    with pytest.raises(HubResponseError, match="provider"):
        await client.chat({"prompt": "Hi"})


@pytest.mark.parametrize(("status", "key", "cls"), ERROR_TABLE)
async def test_error_envelope(
    client: HubClient, fake_hub: FakeHub, status: int, key: str, cls: type[HubApiError]
) -> None:
    fake_hub.fail("/api/v1/chat", status, key, "why", retry_after=7, attempts=[])
    with pytest.raises(HubApiError) as err:
        await client.chat({"prompt": "Hi"})
    assert type(err.value) is cls
    assert (err.value.key, err.value.status, err.value.message) == (key, status, "why")
    assert err.value.details == {"retry_after": 7, "attempts": []}
    if isinstance(err.value, HubRateLimitError):
        assert err.value.retry_after == 7.0


async def test_error_without_envelope(client: HubClient, fake_hub: FakeHub) -> None:
    fake_hub.errors["/api/v1/chat"] = (502, {"detail": "bad gateway"})
    with pytest.raises(HubResponseError) as err:
        await client.chat({"prompt": "Hi"})
    assert err.value.status == 502


async def test_answer_that_is_not_an_object(client: HubClient, fake_hub: FakeHub) -> None:
    fake_hub.bodies["/api/v1/models"] = ["not", "an", "object"]
    with pytest.raises(HubResponseError, match="not a JSON object"):
        await client.models()


async def test_deadline(fake_hub: FakeHub) -> None:
    fake_hub.hang.add("/health")
    async with ClientSession() as session:
        client = HubClient(session, fake_hub.url, fake_hub.token, quick_timeout=0.05)
        with pytest.raises(HubTimeoutError):
            await client.health()


@pytest.mark.usefixtures("socket_enabled")
async def test_unreachable() -> None:
    async with ClientSession() as session:
        client = HubClient(session, "http://127.0.0.1:9", "t")
        with pytest.raises(HubConnectionError):
            await client.health()


async def test_stream(client: HubClient, fake_hub: FakeHub) -> None:
    call: dict[str, Any] = {"id": "c1", "name": "HassTurnOn", "arguments": {"name": "Light"}}
    fake_hub.turns = [{"chunks": ["Hello", " there"], "tool_calls": [call]}]
    events = [event async for event in client.chat_stream({"prompt": "Hi"})]
    assert events[:3] == [TextDelta("Hello"), TextDelta(" there"), ToolCall(**call)]
    [done] = events[3:]
    assert isinstance(done, GenerationResult)
    assert (done.text, done.finish_reason, done.tool_calls) == (
        "Hello there",
        "tool_calls",
        [ToolCall(**call)],
    )
    assert fake_hub.requests[-1].body == {"prompt": "Hi", "stream": True}


async def test_stream_event_that_does_not_fit(client: HubClient, fake_hub: FakeHub) -> None:
    fake_hub.turns = [{"tool_calls": [{"id": "c1", "arguments": {}}]}]  # no name
    with pytest.raises(HubResponseError, match="tool_call event"):
        [event async for event in client.chat_stream({"prompt": "Hi"})]


async def test_stream_error_before_first_event(client: HubClient, fake_hub: FakeHub) -> None:
    fake_hub.fail("/api/v1/chat", 429, "budget_exceeded")
    with pytest.raises(HubRateLimitError):
        [event async for event in client.chat_stream({"prompt": "Hi"})]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://hub:8099/", "http://hub:8099"),
        (" https://hub.local ", "https://hub.local"),
    ],
)
def test_normalize_url(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


@pytest.mark.parametrize("raw", ["hub:8099", "ftp://hub", "http://", ""])
def test_normalize_url_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="http"):
        normalize_url(raw)
