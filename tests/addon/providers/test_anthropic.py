"""The Anthropic provider: what is Anthropic's own, through the real SDK and the vendor fake.

What every provider owes (answers, streams, vision, structured output, models, health, keys,
faults, Retry-After) is in the contract suite, ``tests/addon/providers/contract/``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from addon.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderError,
    ProviderRateLimitError,
    ProviderResponseError,
)
from addon.models import (
    ChatRequest,
    FinishReason,
    ImageInput,
    Message,
    Role,
    StreamDelta,
    ToolCall,
    ToolSpec,
)
from addon.providers.anthropic import AnthropicProvider
from addon.providers.base import retry_after
from addon.settings import ProviderSettings, Secret
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.base import Fault

KEY = "sk-ant-api03-very-secret-test-key-0123456789"
MODELS = [
    "claude-haiku-4-5-20251001",
    "claude-sonnet-4-5-20250929",
    "claude-3-haiku-20240307",
]
SCHEMA = {
    "type": "object",
    "properties": {
        "label": {"type": "string"},
        "count": {"type": "integer"},
        "note": {"type": "string"},
    },
    "required": ["label", "count"],
}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def settings_for(url: str, *, key: str = KEY, timeout: float = 30.0) -> ProviderSettings:
    return ProviderSettings(
        name="claude",
        type="anthropic",
        model="claude-haiku-4-5",
        api_key=Secret(key),
        base_url=url,
        timeout=timeout,
    )


def ask(*messages: Message, **fields: Any) -> ChatRequest:
    return ChatRequest(messages=messages or (Message(Role.USER, "Hi"),), **fields)


async def collect(
    provider: AnthropicProvider,
    request: ChatRequest,
    *,
    timeout: float = 10,
    into: list[str] | None = None,
) -> list[StreamDelta]:
    """Drain a stream; ``into`` keeps the text pieces seen before an error."""
    deltas: list[StreamDelta] = []
    async for delta in provider.chat_stream(request, timeout=timeout):
        deltas.append(delta)
        if into is not None:
            into.append(delta.text)
    return deltas


async def call(
    provider: AnthropicProvider, request: ChatRequest, *, streaming: bool, timeout: float
) -> None:
    if streaming:
        await collect(provider, request, timeout=timeout)
    else:
        await provider.chat(request, timeout=timeout)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    server = FakeAnthropic(api_key=KEY, models=list(MODELS))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def provider(fake: FakeAnthropic) -> AsyncIterator[AnthropicProvider]:
    instance = AnthropicProvider(settings_for(fake.url))
    yield instance
    await instance.close()


# --- chat ---------------------------------------------------------------------------------
async def test_per_call_timeout_reaches_the_sdk(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    await provider.chat(ask(), timeout=7)

    assert fake.requests[-1].headers["x-stainless-read-timeout"] == "7"


async def test_system_prompt_goes_to_the_top_level_field(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    request = ask(
        Message(Role.SYSTEM, "You are terse."),
        Message(Role.USER, "Hi"),
        Message(Role.SYSTEM, "Answer in English."),
    )

    await provider.chat(request, timeout=10)

    body = fake.requests[-1].body
    assert body["system"] == "You are terse.\n\nAnswer in English."
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert "You are terse." not in json.dumps(body["messages"])


async def test_same_role_messages_are_merged_into_alternating_turns(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    request = ask(
        Message(Role.USER, "one"),
        Message(Role.USER, "two"),
        Message(Role.ASSISTANT, "three"),
        Message(Role.ASSISTANT, "four"),
        Message(Role.USER, "five"),
    )

    await provider.chat(request, timeout=10)

    turns = fake.requests[-1].body["messages"]
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert [b["text"] for b in turns[0]["content"]] == ["one", "two"]
    assert [b["text"] for b in turns[1]["content"]] == ["three", "four"]


# The bytes and media types of the blocks: the contract suite.
async def test_images_come_before_the_text(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    request = ask(
        Message(Role.USER, "What is at the door?", images=(ImageInput(PNG, "image/png"),))
    )

    await provider.chat(request, timeout=10)

    content = fake.requests[-1].body["messages"][0]["content"]
    assert [block["type"] for block in content] == ["image", "text"]
    assert content[0]["source"]["type"] == "base64"


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(
            ask(Message(Role.USER, "x", images=(ImageInput(b"BM..", "image/bmp"),))),
            id="unsupported-image-type",
        ),
        pytest.param(ask(Message(Role.SYSTEM, "only a system prompt")), id="no-conversation"),
        pytest.param(ask(json_schema={"type": "array", "items": {}}), id="non-object-schema"),
    ],
)
async def test_requests_that_cannot_be_honoured_are_refused_before_sending(
    fake: FakeAnthropic, provider: AnthropicProvider, request_: ChatRequest
) -> None:
    with pytest.raises(ProviderBadRequestError):
        await provider.chat(request_, timeout=10)

    assert fake.requests == []


# --- quirks -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "max_tokens", "expected"),
    [
        ("claude-haiku-4-5", None, 8192),
        ("claude-3-haiku-20240307", None, 4096),
        ("claude-haiku-4-5", 256, 256),
    ],
)
async def test_max_tokens_is_always_sent(
    fake: FakeAnthropic,
    provider: AnthropicProvider,
    model: str,
    max_tokens: int | None,
    expected: int,
) -> None:
    await provider.chat(ask(model=model, max_tokens=max_tokens), timeout=10)

    assert fake.requests[-1].body["max_tokens"] == expected


async def test_temperature_is_dropped_where_the_traits_say_so(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    response = await provider.chat(ask(temperature=0.2), timeout=10)

    assert response.text
    assert "temperature" not in fake.requests[-1].body


async def test_stop_sequences_are_sent_and_honoured(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    response = await provider.chat(ask(stop=(" the",)), timeout=10)

    assert fake.requests[-1].body["stop_sequences"] == [" the"]
    assert response.text == "Hello from"
    assert response.finish_reason is FinishReason.STOP


# --- streaming ----------------------------------------------------------------------------
# --- structured output --------------------------------------------------------------------
# --- tools --------------------------------------------------------------------------------
LIGHT_ON = ToolSpec(
    name="light_on",
    description="Turn a light on",
    parameters={"type": "object", "properties": {"area": {"type": "string"}}},
)


async def test_tools_are_offered_and_tool_calls_come_back(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.tool_uses = [("light_on", {"area": "kitchen"})]

    response = await provider.chat(ask(tools=(LIGHT_ON,)), timeout=10)

    assert response.tool_calls == (
        ToolCall(id="toolu_fake0001", name="light_on", arguments={"area": "kitchen"}),
    )
    assert response.finish_reason is FinishReason.TOOL_CALLS
    (tool,) = fake.requests[-1].body["tools"]
    assert tool == {
        "name": "light_on",
        "description": "Turn a light on",
        "input_schema": dict(LIGHT_ON.parameters),
    }


async def test_tool_calls_and_results_are_sent_back_as_blocks(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    call = ToolCall(id="toolu_1", name="light_on", arguments={"area": "hall"})
    request = ask(
        Message(Role.USER, "Light the hall"),
        Message(Role.ASSISTANT, "", tool_calls=(call,)),
        Message(Role.TOOL, "done", tool_call_id="toolu_1"),
        tools=(LIGHT_ON,),
    )

    await provider.chat(request, timeout=10)

    user, assistant, result = fake.requests[-1].body["messages"]
    assert user["role"] == "user"
    assert assistant == {
        "role": "assistant",
        "content": [
            {"type": "tool_use", "id": "toolu_1", "name": "light_on", "input": {"area": "hall"}}
        ],
    }
    assert result == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "done"}],
    }


# --- models, health, credentials -----------------------------------------------------------
async def test_list_models_reads_every_page(fake: FakeAnthropic) -> None:
    fake.state.models = [f"claude-test-{i:02d}" for i in range(25)]
    provider = AnthropicProvider(settings_for(fake.url))
    try:
        models = await provider.list_models(timeout=10)
    finally:
        await provider.close()

    assert [m.id for m in models] == fake.state.models
    assert all(m.vision for m in models)
    pages = [r for r in fake.requests if r.path == "/v1/models"]
    assert len(pages) == 2
    assert pages[1].query["after_id"] == "claude-test-19"


async def test_list_models_has_display_names(provider: AnthropicProvider) -> None:
    models = await provider.list_models(timeout=10)

    assert models[0].id == "claude-haiku-4-5-20251001"
    assert models[0].display_name == "Claude Haiku 4.5"


async def test_the_key_check_reads_a_single_model(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    await provider.validate_credentials(timeout=10)

    assert fake.requests[-1].query["limit"] == "1"


# --- errors -------------------------------------------------------------------------------
# Every fault class, Retry-After, stalls and refused connections: the contract suite.
@pytest.mark.parametrize("streaming", [False, True], ids=["chat", "stream"])
async def test_valid_json_that_is_no_message_is_a_response_error(
    fake: FakeAnthropic, provider: AnthropicProvider, streaming: bool
) -> None:
    fake.fail_next(Fault.MALFORMED, valid_json=True)

    with pytest.raises(ProviderResponseError):
        await call(provider, ask(), streaming=streaming, timeout=10)

    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault.RATE_LIMIT, ProviderRateLimitError),
        (Fault.SERVER_ERROR, ProviderResponseError),
        (Fault.AUTH, ProviderAuthError),
        (Fault.BAD_REQUEST, ProviderBadRequestError),
    ],
)
async def test_error_events_mid_stream_map_by_error_type(
    fake: FakeAnthropic,
    provider: AnthropicProvider,
    fault: Fault,
    expected: type[ProviderError],
) -> None:
    fake.fail_next(fault, mid_stream=True)

    with pytest.raises(ProviderError) as caught:
        await collect(provider, ask())

    assert type(caught.value) is expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "9"}, 9.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_parsing(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers) == expected


# --- the fake speaks the vendor's wire format --------------------------------------------------
async def test_fake_error_body_and_headers(fake: FakeAnthropic) -> None:
    fake.fail_next(Fault.OVERLOADED)
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    body = {"model": MODELS[0], "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}

    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.url}/v1/messages", json=body, headers=headers) as response,
    ):
        payload = await response.json()

    assert response.status == 529
    assert response.headers["request-id"].startswith("req_")
    assert payload["type"] == "error"
    assert payload["error"] == {"type": "overloaded_error", "message": "Overloaded"}


@pytest.mark.parametrize(
    ("headers", "body", "status", "error_type"),
    [
        ({"anthropic-version": "2023-06-01"}, None, 401, "authentication_error"),
        ({"x-api-key": KEY}, None, 400, "invalid_request_error"),
        (
            {"x-api-key": KEY, "anthropic-version": "2023-06-01"},
            {"model": MODELS[0], "messages": [{"role": "user", "content": "x"}]},
            400,
            "invalid_request_error",
        ),
        (
            {"x-api-key": KEY, "anthropic-version": "2023-06-01"},
            {
                "model": MODELS[0],
                "max_tokens": 5,
                "temperature": 0.5,
                "messages": [{"role": "user", "content": "x"}],
            },
            400,
            "invalid_request_error",
        ),
    ],
    ids=["no-key", "no-version", "no-max-tokens", "unknown-field"],
)
async def test_fake_refuses_what_the_api_refuses(
    fake: FakeAnthropic,
    headers: dict[str, str],
    body: dict[str, Any] | None,
    status: int,
    error_type: str,
) -> None:
    body = body or {"model": MODELS[0], "max_tokens": 5, "messages": []}

    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.url}/v1/messages", json=body, headers=headers) as response,
    ):
        payload = await response.json()

    assert response.status == status
    assert payload["error"]["type"] == error_type


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_fake_answers_carry_rate_limit_headers(fake: FakeAnthropic, stream: bool) -> None:
    fake.requests_left = 0
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    body = {
        "model": MODELS[0],
        "max_tokens": 10,
        "stream": stream,
        "messages": [{"role": "user", "content": "x"}],
    }

    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.url}/v1/messages", json=body, headers=headers) as response,
    ):
        await response.read()

    assert response.status == 200
    for kind in ("requests", "tokens", "input-tokens", "output-tokens"):
        assert int(response.headers[f"anthropic-ratelimit-{kind}-limit"]) > 0
        reset = response.headers[f"anthropic-ratelimit-{kind}-reset"]
        assert datetime.fromisoformat(reset) > datetime.now(UTC) - timedelta(seconds=5)
    assert response.headers["anthropic-ratelimit-requests-remaining"] == "0"


async def test_fake_stream_follows_the_documented_event_sequence(fake: FakeAnthropic) -> None:
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    body = {
        "model": MODELS[0],
        "max_tokens": 50,
        "stream": True,
        "messages": [{"role": "user", "content": "x"}],
    }

    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.url}/v1/messages", json=body, headers=headers) as response,
    ):
        raw = (await response.read()).decode()

    assert response.headers["Content-Type"].startswith("text/event-stream")
    frames = [f for f in raw.split("\n\n") if f]
    names = [f.split("\n")[0].removeprefix("event: ") for f in frames]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    datas = [json.loads(f.split("\n")[1].removeprefix("data: ")) for f in frames]
    assert all(data["type"] == name for name, data in zip(names, datas, strict=True))
    assert datas[0]["message"]["stop_reason"] is None
    assert datas[-2]["delta"]["stop_reason"] == "end_turn"
    assert datas[-2]["usage"]["output_tokens"] == 5


async def test_fake_without_models_lists_defaults_and_answers_any_model() -> None:
    server = FakeAnthropic()
    await server.start()
    provider = AnthropicProvider(settings_for(server.url))
    try:
        models = await provider.list_models(timeout=10)
        response = await provider.chat(ask(model="claude-anything"), timeout=10)
    finally:
        await provider.close()
        await server.stop()

    assert "claude-haiku-4-5-20251001" in [m.id for m in models]
    assert response.model == "claude-anything"


async def test_fake_reset_forgets_planned_tool_calls(fake: FakeAnthropic) -> None:
    fake.tool_uses = [("light_on", {})]
    fake.fail_next(Fault.AUTH)

    fake.reset()

    assert fake.tool_uses == []
    assert fake.next_fault() is None
