"""The typed client against the loopback fake hub: bodies, errors, deadlines, SSE."""

from __future__ import annotations

from collections.abc import AsyncIterator

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
    assert health["status"] == "degraded"
    assert [p["name"] for p in await client.providers()] == ["openai", "ollama"]
    assert (await client.usage())["today"]["requests"] == 7
    assert await client.chat({"prompt": "Hi"}) == RESULT
    assert fake_hub.requests[0].headers.get("Authorization") is None  # /health needs none


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
    fake_hub.bodies["/api/v1/providers"] = {"providers": "nope"}
    with pytest.raises(HubResponseError):
        await client.providers()


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
    events = [event async for event in client.chat_stream({"prompt": "Hi"})]
    assert events[:3] == [("delta", {"text": t}) for t in ("Hello", " there", "!")]
    assert events[3][0] == "done"
    assert events[3][1]["text"] == "Hello there!"
    assert fake_hub.requests[-1].body == {"prompt": "Hi", "stream": True}


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
