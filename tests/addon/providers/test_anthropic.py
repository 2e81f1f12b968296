"""The Anthropic provider: the real ``anthropic`` SDK against the wire-faithful fake."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from addon.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
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
    Usage,
)
from addon.providers import create_provider
from addon.providers.anthropic import STRUCTURED_TOOL, AnthropicProvider
from addon.providers.base import retry_after
from addon.settings import ProviderSettings, Secret
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.base import Fault, free_port

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
async def test_chat_returns_text_usage_and_the_vendor_model(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    response = await provider.chat(ask(), timeout=10)

    assert response.text == "Hello from the fake."
    assert response.usage == Usage(input_tokens=12, output_tokens=5)
    assert response.model == "claude-haiku-4-5-20251001"  # the alias resolved by the vendor
    assert response.finish_reason is FinishReason.STOP
    assert response.data is None
    sent = fake.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.headers["anthropic-version"]


async def test_thinking_tokens_are_part_of_output(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.state.reply.thinking_tokens = 40

    response = await provider.chat(ask(), timeout=10)

    assert response.usage.output_tokens == 45


async def test_registry_builds_this_provider(fake: FakeAnthropic) -> None:
    provider = create_provider(settings_for(fake.url))
    try:
        assert isinstance(provider, AnthropicProvider)
        assert provider.provider_type == "anthropic"
    finally:
        await provider.close()


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


async def test_images_are_base64_blocks_before_the_text(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    request = ask(
        Message(
            Role.USER,
            "What is at the door?",
            images=(ImageInput(PNG, "image/png"), ImageInput(b"\xff\xd8\xff\xe0jpeg")),
        )
    )

    await provider.chat(request, timeout=10)

    content = fake.requests[-1].body["messages"][0]["content"]
    assert [block["type"] for block in content] == ["image", "image", "text"]
    first, second = content[0]["source"], content[1]["source"]
    assert first["type"] == "base64"
    assert first["media_type"] == "image/png"
    assert base64.b64decode(first["data"]) == PNG
    assert second["media_type"] == "image/jpeg"
    assert content[2] == {"type": "text", "text": "What is at the door?"}


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


async def test_hitting_max_tokens_finishes_with_length(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    response = await provider.chat(ask(max_tokens=2), timeout=10)

    assert response.finish_reason is FinishReason.LENGTH
    assert response.usage.output_tokens == 2


# --- streaming ----------------------------------------------------------------------------
async def test_stream_pieces_concatenate_and_the_last_delta_has_usage(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.state.reply.chunks = 4

    deltas = await collect(provider, ask())

    *pieces, last = deltas
    assert len(pieces) == 4
    assert "".join(d.text for d in pieces) == "Hello from the fake."
    assert all(d.usage is None for d in pieces)
    assert last.usage == Usage(input_tokens=12, output_tokens=5)
    assert last.finish_reason is FinishReason.STOP
    assert last.model == "claude-haiku-4-5-20251001"
    assert fake.requests[-1].body["stream"] is True


async def test_stream_error_event_mid_stream_is_mapped(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.fail_next(Fault.OVERLOADED, mid_stream=True)
    received: list[str] = []

    with pytest.raises(ProviderRateLimitError):
        await collect(provider, ask(), into=received)

    assert received == ["Hello f"]


async def test_stalled_stream_ends_with_a_timeout(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.fail_next(Fault.STALL_STREAM)
    received: list[str] = []

    with pytest.raises(ProviderTimeoutError):
        # Long enough for the first chunk on a loaded machine; the stall outlasts any deadline.
        await collect(provider, ask(), timeout=2, into=received)

    assert received == ["Hello f"]


# --- structured output --------------------------------------------------------------------
async def test_structured_output_uses_a_forced_tool_and_fills_data(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    response = await provider.chat(ask(json_schema=SCHEMA), timeout=10)

    assert response.data == {"label": "example", "count": 0}
    assert json.loads(response.text) == response.data
    assert response.finish_reason is FinishReason.STOP
    body = fake.requests[-1].body
    assert body["tool_choice"] == {"type": "tool", "name": STRUCTURED_TOOL}
    (tool,) = body["tools"]
    assert tool["name"] == STRUCTURED_TOOL
    assert tool["input_schema"]["properties"] == SCHEMA["properties"]
    assert tool["input_schema"]["required"] == ["label", "count"]


async def test_structured_output_takes_the_model_answer(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.state.reply.text = '{"label": "parcel", "count": 2}'

    response = await provider.chat(ask(json_schema=SCHEMA), timeout=10)

    assert response.data == {"label": "parcel", "count": 2}


async def test_invalid_json_from_the_model_is_a_response_error(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.state.reply.text = "Sure! label: parcel, count: two"

    with pytest.raises(ProviderResponseError):
        await provider.chat(ask(json_schema=SCHEMA), timeout=10)


async def test_structured_output_streams_as_json(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    *pieces, last = await collect(provider, ask(json_schema=SCHEMA))

    assert json.loads("".join(d.text for d in pieces)) == {"label": "example", "count": 0}
    assert last.finish_reason is FinishReason.STOP


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


async def test_health_ok(provider: AnthropicProvider) -> None:
    status = await provider.health(timeout=10)

    assert status.ok
    assert status.error_key is None


@pytest.mark.parametrize(
    ("fault", "error_key"),
    [
        (Fault.SERVER_ERROR, "provider_bad_response"),
        (Fault.AUTH, "provider_auth"),
        (Fault.OVERLOADED, "provider_rate_limited"),
    ],
)
async def test_health_failing(
    fake: FakeAnthropic, provider: AnthropicProvider, fault: Fault, error_key: str
) -> None:
    fake.fail_always(fault)

    status = await provider.health(timeout=10)

    assert not status.ok
    assert status.error_key == error_key


async def test_validate_credentials_accepts_the_right_key(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    await provider.validate_credentials(timeout=10)

    assert fake.requests[-1].query["limit"] == "1"


async def test_validate_credentials_rejects_a_wrong_key(fake: FakeAnthropic) -> None:
    provider = AnthropicProvider(settings_for(fake.url, key="sk-ant-wrong"))
    try:
        with pytest.raises(ProviderAuthError) as caught:
            await provider.validate_credentials(timeout=10)
    finally:
        await provider.close()

    assert "sk-ant-wrong" not in str(caught.value)
    assert len(fake.requests) == 1


# --- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fault", "params", "expected", "retry"),
    [
        (Fault.DISCONNECT, {}, ProviderConnectionError, None),
        (Fault.TIMEOUT, {}, ProviderTimeoutError, None),
        (Fault.RATE_LIMIT, {"retry_after": 17}, ProviderRateLimitError, 17.0),
        (Fault.SERVER_ERROR, {}, ProviderResponseError, None),
        (Fault.OVERLOADED, {}, ProviderRateLimitError, None),
        (Fault.AUTH, {}, ProviderAuthError, None),
        (Fault.BAD_REQUEST, {"message": "messages.0: bad block"}, ProviderBadRequestError, None),
        (Fault.MALFORMED, {}, ProviderResponseError, None),
        (Fault.MALFORMED, {"valid_json": True}, ProviderResponseError, None),
    ],
)
@pytest.mark.parametrize("streaming", [False, True], ids=["chat", "stream"])
async def test_error_table(
    fake: FakeAnthropic,
    provider: AnthropicProvider,
    fault: Fault,
    params: dict[str, Any],
    expected: type[ProviderError],
    retry: float | None,
    streaming: bool,
) -> None:
    fake.fail_next(fault, **params)
    # Only the hanging fault needs a short deadline; others must not race it.
    timeout = 0.5 if fault is Fault.TIMEOUT else 10

    with pytest.raises(ProviderError) as caught:
        await call(provider, ask(), streaming=streaming, timeout=timeout)

    assert type(caught.value) is expected
    assert len(fake.requests) == 1  # SDK retries are off: one fault, one request
    if isinstance(caught.value, ProviderRateLimitError):
        assert caught.value.retry_after == retry
    assert KEY not in str(caught.value)


async def test_bad_request_carries_the_vendor_message(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.fail_next(Fault.BAD_REQUEST, message="messages.0.content: bad block")

    with pytest.raises(ProviderBadRequestError, match=r"messages\.0\.content: bad block"):
        await provider.chat(ask(), timeout=10)


async def test_an_unknown_model_is_a_bad_request(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    with pytest.raises(ProviderBadRequestError, match="model: claude-nope"):
        await provider.chat(ask(model="claude-nope"), timeout=10)


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


async def test_refused_connection_is_a_connection_error() -> None:
    provider = AnthropicProvider(settings_for(f"http://127.0.0.1:{free_port()}"))
    try:
        with pytest.raises(ProviderConnectionError):
            await provider.chat(ask(), timeout=5)
    finally:
        await provider.close()


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


async def test_missing_key_fails_every_call_before_sending(
    fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)  # the SDK must not fall back to it
    claude = AnthropicProvider(settings_for(fake.url, key=""))
    try:
        for call in (
            claude.chat(ask(), timeout=5),
            claude.list_models(timeout=5),
            claude.validate_credentials(timeout=5),
        ):
            with pytest.raises(ProviderAuthError, match="no API key"):
                await call
        status = await claude.health(timeout=5)
    finally:
        await claude.close()
    assert (status.ok, status.error_key) == (False, "provider_auth")
    assert fake.requests == []


def test_repr_never_shows_the_key() -> None:
    provider = AnthropicProvider(settings_for("http://127.0.0.1:9"))

    assert KEY not in repr(provider)
    assert KEY not in str(provider)


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
