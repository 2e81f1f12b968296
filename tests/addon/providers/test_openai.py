"""The OpenAI and OpenAI-compatible providers: the real ``openai`` SDK against ``FakeOpenAI``."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from addon.errors import (
    ConfigError,
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderCapabilityError,
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
)
from addon.providers import create_provider
from addon.providers.openai import (
    OpenAICompatibleProvider,
    OpenAIProvider,
    is_strict_schema,
    retry_after_seconds,
)
from addon.settings import ProviderSettings, Secret
from tests.fakes.base import Fault, Reply, free_port
from tests.fakes.openai import FakeOpenAI, example_for_schema

KEY = "sk-proj-test0123456789abcdefXYZ"
MODELS = ["gpt-4.1-mini", "gpt-5", "gpt-4o", "text-embedding-3-small", "whisper-1", "tts-1"]
LIGHT_SCHEMA = {
    "type": "object",
    "properties": {"room": {"type": "string"}, "on": {"type": "boolean"}},
    "required": ["room", "on"],
    "additionalProperties": False,
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI(api_key=KEY, models=MODELS)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def keyless_fake() -> AsyncIterator[FakeOpenAI]:
    """A local server (llama.cpp, vLLM...) that takes any key."""
    server = FakeOpenAI(models=["llama-3.1-8b-instruct", "qwen2.5-vl-7b"])
    await server.start()
    yield server
    await server.stop()


def openai_settings(fake: FakeOpenAI, **overrides: Any) -> ProviderSettings:
    values: dict[str, Any] = {
        "name": "openai",
        "type": "openai",
        "model": "gpt-4.1-mini",
        "api_key": Secret(KEY),
        "base_url": f"{fake.url}/v1",
        **overrides,
    }
    return ProviderSettings(**values)


@pytest.fixture
async def provider(fake: FakeOpenAI) -> AsyncIterator[OpenAIProvider]:
    instance = OpenAIProvider(openai_settings(fake))
    yield instance
    await instance.close()


@pytest.fixture
async def compatible(keyless_fake: FakeOpenAI) -> AsyncIterator[OpenAICompatibleProvider]:
    settings = ProviderSettings(
        name="local",
        type="openai_compatible",
        model="llama-3.1-8b-instruct",
        base_url=f"{keyless_fake.url}/v1",
    )
    instance = OpenAICompatibleProvider(settings)
    yield instance
    await instance.close()


def ask(text: str = "Hello?", model: str = "gpt-4.1-mini", **kwargs: Any) -> ChatRequest:
    return ChatRequest(messages=(Message(Role.USER, text),), model=model, **kwargs)


def chat_requests(fake: FakeOpenAI) -> list[Any]:
    return [r for r in fake.requests if r.path == "/v1/chat/completions"]


async def collect(provider: OpenAIProvider, request: ChatRequest) -> list[StreamDelta]:
    return [delta async for delta in provider.chat_stream(request, timeout=5)]


# --- chat ---------------------------------------------------------------------------------
async def test_chat_returns_text_usage_and_the_vendor_model(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.state.reply = Reply(text="It is sunny.", input_tokens=31, output_tokens=7)
    fake.model_aliases["gpt-4.1-mini"] = "gpt-4.1-mini-2025-04-14"

    response = await provider.chat(ask(), timeout=5)

    assert response.text == "It is sunny."
    assert response.model == "gpt-4.1-mini-2025-04-14"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (31, 7)
    assert response.finish_reason is FinishReason.STOP
    assert response.data is None
    assert fake.requests[-1].headers["Authorization"] == f"Bearer {KEY}"


async def test_reasoning_tokens_count_as_output(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    fake.state.reply = Reply(output_tokens=5, thinking_tokens=40)

    response = await provider.chat(ask(model="gpt-5"), timeout=5)

    assert response.usage.output_tokens == 45


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("length", FinishReason.LENGTH),
        ("content_filter", FinishReason.CONTENT_FILTER),
        ("stop", FinishReason.STOP),
    ],
)
async def test_finish_reasons_are_normalised(
    fake: FakeOpenAI, provider: OpenAIProvider, wire: str, expected: FinishReason
) -> None:
    fake.finish_reason = wire

    assert (await provider.chat(ask(), timeout=5)).finish_reason is expected
    assert (await collect(provider, ask()))[-1].finish_reason is expected


async def test_per_call_timeout_reaches_the_sdk(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    await provider.chat(ask(), timeout=7)

    assert fake.requests[-1].headers["x-stainless-read-timeout"] == "7"
    assert fake.requests[-1].headers["x-stainless-retry-count"] == "0"


async def test_system_prompt_leads_the_messages(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    request = ChatRequest(
        messages=(
            Message(Role.SYSTEM, "You are terse."),
            Message(Role.USER, "Hi"),
            Message(Role.ASSISTANT, "Hello."),
            Message(Role.SYSTEM, "Answer in French."),
            Message(Role.USER, "Weather?"),
        ),
        model="gpt-4.1-mini",
    )

    await provider.chat(request, timeout=5)

    assert fake.requests[-1].body["messages"] == [
        {"role": "system", "content": "You are terse.\n\nAnswer in French."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Weather?"},
    ]


async def test_stop_sequences_are_sent(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    await provider.chat(ask(stop=("\n\n", "END")), timeout=5)

    assert fake.requests[-1].body["stop"] == ["\n\n", "END"]


# --- images -------------------------------------------------------------------------------
async def test_images_ride_as_base64_data_urls(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    jpeg, png = b"\xff\xd8\xff\xe0 fake jpeg", b"\x89PNG fake png"
    request = ChatRequest(
        messages=(
            Message(
                Role.USER,
                "What is at the door?",
                images=(ImageInput(jpeg), ImageInput(png, "image/png")),
            ),
        ),
        model="gpt-4o",
    )

    await provider.chat(request, timeout=5)

    content = fake.requests[-1].body["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "What is at the door?"}
    urls = [part["image_url"]["url"] for part in content[1:]]
    assert [part["type"] for part in content[1:]] == ["image_url", "image_url"]
    assert {part["image_url"]["detail"] for part in content[1:]} == {"auto"}
    assert urls[0].startswith("data:image/jpeg;base64,")
    assert urls[1].startswith("data:image/png;base64,")
    assert base64.b64decode(urls[0].split(",", 1)[1]) == jpeg
    assert base64.b64decode(urls[1].split(",", 1)[1]) == png


async def test_images_for_a_text_only_model_are_refused(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    request = ChatRequest(
        messages=(Message(Role.USER, "What?", images=(ImageInput(b"x"),)),), model="gpt-3.5-turbo"
    )

    with pytest.raises(ProviderBadRequestError, match="does not accept images"):
        await provider.chat(request, timeout=5)
    assert chat_requests(fake) == []


# --- streaming ----------------------------------------------------------------------------
async def test_stream_pieces_concatenate_and_end_with_usage(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.state.reply = Reply(
        text="The porch light is on.", input_tokens=9, output_tokens=6, chunks=4
    )
    fake.model_aliases["gpt-4.1-mini"] = "gpt-4.1-mini-2025-04-14"

    deltas = await collect(provider, ask())

    pieces = [d.text for d in deltas[:-1]]
    assert len(pieces) == 4
    assert "".join(pieces) == "The porch light is on."
    final = deltas[-1]
    assert final.text == ""
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens) == (9, 6)
    assert final.finish_reason is FinishReason.STOP
    assert final.model == "gpt-4.1-mini-2025-04-14"
    body = fake.requests[-1].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


async def test_fake_stream_framing_is_openai_sse(fake: FakeOpenAI) -> None:
    """The fake itself: ``data:`` lines, usage chunk with empty choices, then ``[DONE]``."""
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    headers = {"Authorization": f"Bearer {KEY}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.url}/v1/chat/completions", json=body, headers=headers) as response,
    ):
        assert response.content_type == "text/event-stream"
        raw = (await response.read()).decode()

    events = [block for block in raw.split("\n\n") if block]
    assert all(block.startswith("data: ") for block in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(block.removeprefix("data: ")) for block in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 5
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"


async def test_stalled_stream_ends_with_a_timeout(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.fail_next(Fault.STALL_STREAM)
    received: list[StreamDelta] = []

    async def consume() -> None:
        async for delta in provider.chat_stream(ask(), timeout=0.5):
            received.append(delta)

    with pytest.raises(ProviderTimeoutError):
        await consume()

    assert len(received) == 1
    assert received[0].text


# --- structured output --------------------------------------------------------------------
async def test_structured_output_is_parsed_into_data(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    response = await provider.chat(ask(json_schema=LIGHT_SCHEMA), timeout=5)

    assert response.data == {"room": "example", "on": False}
    response_format = fake.requests[-1].body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"] == LIGHT_SCHEMA
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["name"] == "response"


async def test_invalid_json_from_the_model_is_a_response_error(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.state.reply = Reply(text="Sure! The light is on.")

    with pytest.raises(ProviderResponseError, match="valid JSON"):
        await provider.chat(ask(json_schema=LIGHT_SCHEMA), timeout=5)


@pytest.mark.parametrize(
    ("schema", "strict"),
    [
        (LIGHT_SCHEMA, True),
        ({"type": "object", "properties": {"a": {"type": "string"}}}, False),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "required": [],
                "additionalProperties": False,
            },
            False,
        ),
        (
            {
                "type": "object",
                "properties": {"items": {"type": "array", "items": {"type": "object"}}},
                "required": ["items"],
                "additionalProperties": False,
            },
            False,
        ),
        ({"type": "array", "items": {"type": "string"}}, True),
    ],
)
def test_strict_mode_only_for_closed_schemas(schema: dict[str, Any], strict: bool) -> None:
    assert is_strict_schema(schema) is strict


async def test_json_object_fallback_where_json_schema_is_unsupported(
    keyless_fake: FakeOpenAI, compatible: OpenAICompatibleProvider
) -> None:
    request = ask(model="deepseek-reasoner", json_schema=LIGHT_SCHEMA, temperature=0.2)

    response = await compatible.chat(request, timeout=5)

    body = keyless_fake.requests[-1].body
    assert body["response_format"] == {"type": "json_object"}
    system = body["messages"][0]
    assert system["role"] == "system"
    assert "JSON" in system["content"]
    assert json.dumps(LIGHT_SCHEMA, separators=(",", ":")) in system["content"]
    assert "temperature" not in body
    assert response.data == {"room": "example", "on": False}


def test_fake_builds_examples_from_schemas() -> None:
    schema = {
        "type": "object",
        "properties": {
            "kind": {"enum": ["car", "person"]},
            "count": {"type": "integer"},
            "where": {"$ref": "#/$defs/place"},
        },
        "required": ["kind", "count", "where"],
        "$defs": {"place": {"type": "object", "properties": {"x": {"type": "number"}}}},
    }

    assert example_for_schema(schema) == {"kind": "car", "count": 0, "where": {}}


# --- quirks -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "token_param", "keeps_temperature"),
    [
        ("gpt-5", "max_completion_tokens", False),
        ("gpt-5-mini", "max_completion_tokens", False),
        ("o4-mini", "max_completion_tokens", False),
        ("gpt-4.1", "max_completion_tokens", True),
        ("gpt-4o-mini", "max_completion_tokens", True),
        ("gpt-4-turbo", "max_tokens", True),
    ],
)
async def test_openai_model_quirks(
    fake: FakeOpenAI,
    provider: OpenAIProvider,
    model: str,
    token_param: str,
    keeps_temperature: bool,
) -> None:
    await provider.chat(ask(model=model, max_tokens=64, temperature=0.2), timeout=5)

    body = fake.requests[-1].body
    other = {"max_tokens", "max_completion_tokens"} - {token_param}
    assert body[token_param] == 64
    assert other.isdisjoint(body)
    assert ("temperature" in body) is keeps_temperature


@pytest.mark.parametrize("model", ["llama-3.1-8b-instruct", "meta-llama/llama-3.3-70b"])
async def test_compatible_models_get_max_tokens(
    keyless_fake: FakeOpenAI, compatible: OpenAICompatibleProvider, model: str
) -> None:
    await compatible.chat(ask(model=model, max_tokens=64, temperature=0.2), timeout=5)

    body = keyless_fake.requests[-1].body
    assert body["max_tokens"] == 64
    assert "max_completion_tokens" not in body
    assert body["temperature"] == 0.2


async def test_no_token_cap_is_sent_unless_asked(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    await provider.chat(ask(), timeout=5)

    assert {"max_tokens", "max_completion_tokens", "temperature"}.isdisjoint(fake.requests[-1].body)


async def test_tools_for_a_model_without_tools_are_refused(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    with pytest.raises(ProviderCapabilityError, match="cannot call tools"):
        await provider.chat(ask(model="o1-mini", tools=(ToolSpec("noop"),)), timeout=5)
    assert chat_requests(fake) == []


# --- tools --------------------------------------------------------------------------------
async def test_tool_definitions_and_calls(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    parameters = {"type": "object", "properties": {"entity_id": {"type": "string"}}}
    fake.tool_calls = [
        {
            "id": "call_abc123",
            "type": "function",
            "function": {"name": "turn_on", "arguments": '{"entity_id": "light.porch"}'},
        }
    ]
    request = ask(tools=(ToolSpec("turn_on", "Turn a light on", parameters),))

    response = await provider.chat(request, timeout=5)

    assert fake.requests[-1].body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "turn_on",
                "description": "Turn a light on",
                "parameters": parameters,
            },
        }
    ]
    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert response.tool_calls == (
        ToolCall(id="call_abc123", name="turn_on", arguments={"entity_id": "light.porch"}),
    )


async def test_tool_results_go_back_on_the_wire(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    call = ToolCall(id="call_1", name="turn_on", arguments={"entity_id": "light.porch"})
    request = ChatRequest(
        messages=(
            Message(Role.USER, "Porch light on"),
            Message(Role.ASSISTANT, "", tool_calls=(call,)),
            Message(Role.TOOL, '{"ok": true}', tool_call_id="call_1"),
        ),
        model="gpt-4.1-mini",
        tools=(ToolSpec("turn_on"),),
    )

    await provider.chat(request, timeout=5)

    messages = fake.requests[-1].body["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "turn_on", "arguments": '{"entity_id": "light.porch"}'},
            }
        ],
    }
    assert messages[2] == {"role": "tool", "tool_call_id": "call_1", "content": '{"ok": true}'}


# --- models, health, credentials ----------------------------------------------------------
async def test_list_models_keeps_chat_models(provider: OpenAIProvider) -> None:
    models = await provider.list_models(timeout=5)

    assert [m.id for m in models] == ["gpt-4.1-mini", "gpt-4o", "gpt-5"]
    assert all(m.vision for m in models)


async def test_compatible_list_models_keeps_everything(
    compatible: OpenAICompatibleProvider,
) -> None:
    models = await compatible.list_models(timeout=5)

    assert {m.id: m.vision for m in models} == {
        "llama-3.1-8b-instruct": False,
        "qwen2.5-vl-7b": True,
    }


async def test_health_ok(provider: OpenAIProvider) -> None:
    status = await provider.health(timeout=5)

    assert status.ok
    assert status.error_key is None


@pytest.mark.parametrize(
    ("fault", "error_key"),
    [(Fault.SERVER_ERROR, "provider_bad_response"), (Fault.AUTH, "provider_auth")],
)
async def test_health_failing(
    fake: FakeOpenAI, provider: OpenAIProvider, fault: Fault, error_key: str
) -> None:
    fake.fail_always(fault)

    status = await provider.health(timeout=5)

    assert not status.ok
    assert status.error_key == error_key


async def test_health_when_nothing_listens() -> None:
    settings = ProviderSettings(
        name="gone",
        type="openai",
        model="gpt-4o",
        api_key=Secret(KEY),
        base_url=f"http://127.0.0.1:{free_port()}/v1",
    )
    provider = OpenAIProvider(settings)
    try:
        status = await provider.health(timeout=5)
    finally:
        await provider.close()

    assert not status.ok
    assert status.error_key == "provider_connection"


async def test_validate_credentials_accepts_the_right_key(provider: OpenAIProvider) -> None:
    await provider.validate_credentials(timeout=5)


async def test_validate_credentials_rejects_a_wrong_key(fake: FakeOpenAI) -> None:
    wrong = "sk-proj-wrongkey987654321abcdef"
    provider = OpenAIProvider(openai_settings(fake, api_key=Secret(wrong)))
    try:
        with pytest.raises(ProviderAuthError) as caught:
            await provider.validate_credentials(timeout=5)
    finally:
        await provider.close()

    assert "Incorrect API key" in caught.value.message
    assert wrong not in str(caught.value)
    assert wrong[8:-4] not in str(caught.value)
    assert fake.requests[-1].path == "/v1/models"


async def test_openai_without_a_key_fails_before_calling(fake: FakeOpenAI) -> None:
    provider = OpenAIProvider(openai_settings(fake, api_key=Secret("")))
    try:
        with pytest.raises(ProviderAuthError, match="no API key"):
            await provider.chat(ask(), timeout=5)
        with pytest.raises(ProviderAuthError):
            await provider.validate_credentials(timeout=5)
    finally:
        await provider.close()

    assert fake.requests == []


# --- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fault", "params", "expected"),
    [
        (Fault.DISCONNECT, {}, ProviderConnectionError),
        (Fault.TIMEOUT, {}, ProviderTimeoutError),
        (Fault.RATE_LIMIT, {"retry_after": 7}, ProviderRateLimitError),
        (Fault.SERVER_ERROR, {}, ProviderResponseError),
        (Fault.OVERLOADED, {}, ProviderRateLimitError),
        (Fault.AUTH, {}, ProviderAuthError),
        (Fault.BAD_REQUEST, {"message": "Invalid 'messages[0]'"}, ProviderBadRequestError),
        (Fault.MALFORMED, {}, ProviderResponseError),
    ],
)
async def test_faults_map_to_hub_errors_without_sdk_retries(
    fake: FakeOpenAI,
    provider: OpenAIProvider,
    fault: Fault,
    params: dict[str, Any],
    expected: type[ProviderError],
) -> None:
    fake.fail_next(fault, **params)

    with pytest.raises(ProviderError) as caught:
        await provider.chat(ask(), timeout=0.5)

    assert type(caught.value) is expected
    assert len(chat_requests(fake)) == 1
    assert KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("fault", "params", "expected"),
    [
        (Fault.RATE_LIMIT, {"retry_after": 7}, ProviderRateLimitError),
        (Fault.AUTH, {}, ProviderAuthError),
        (Fault.SERVER_ERROR, {}, ProviderResponseError),
        (Fault.DISCONNECT, {}, ProviderConnectionError),
    ],
)
async def test_stream_faults_map_to_hub_errors(
    fake: FakeOpenAI,
    provider: OpenAIProvider,
    fault: Fault,
    params: dict[str, Any],
    expected: type[ProviderError],
) -> None:
    fake.fail_next(fault, **params)

    with pytest.raises(expected):
        await collect(provider, ask())
    assert len(chat_requests(fake)) == 1


async def test_rate_limit_carries_retry_after(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    fake.fail_next(Fault.RATE_LIMIT, retry_after=7)

    with pytest.raises(ProviderRateLimitError) as caught:
        await provider.chat(ask(), timeout=5)

    assert caught.value.retry_after == 7.0
    assert "Rate limit reached" in caught.value.message


async def test_rate_limit_retry_after_from_the_body(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.fail_next(Fault.RATE_LIMIT, retry_after=3, omit_header=True)

    with pytest.raises(ProviderRateLimitError) as caught:
        await provider.chat(ask(), timeout=5)

    assert caught.value.retry_after == 3.0


async def test_bad_request_keeps_the_vendor_message(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.fail_next(Fault.BAD_REQUEST, message="Invalid 'messages[0].content': string too long.")

    with pytest.raises(ProviderBadRequestError, match=r"string too long\. \(HTTP 400\)"):
        await provider.chat(ask(), timeout=5)


async def test_a_key_echoed_by_the_vendor_is_blanked(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.fail_next(Fault.BAD_REQUEST, message=f"Key {KEY} may not use model x; nor sk-other123456")

    with pytest.raises(ProviderBadRequestError) as caught:
        await provider.chat(ask(), timeout=5)

    assert KEY not in str(caught.value)
    assert "sk-other123456" not in str(caught.value)
    assert "may not use model x" in str(caught.value)


async def test_vendor_refuses_wrong_parameters_as_bad_request(keyless_fake: FakeOpenAI) -> None:
    """A compatible provider pointed at a reasoning model sends max_tokens; the API says 400."""
    settings = ProviderSettings(
        name="proxy", type="openai_compatible", model="gpt-5", base_url=f"{keyless_fake.url}/v1"
    )
    provider = OpenAICompatibleProvider(settings)
    try:
        with pytest.raises(ProviderBadRequestError, match="max_completion_tokens"):
            await provider.chat(ask(model="o3-mini", max_tokens=10), timeout=5)
    finally:
        await provider.close()


async def test_refused_connection_is_a_connection_error() -> None:
    settings = ProviderSettings(
        name="gone",
        type="openai",
        model="gpt-4o",
        api_key=Secret(KEY),
        base_url=f"http://127.0.0.1:{free_port()}/v1",
    )
    provider = OpenAIProvider(settings)
    try:
        with pytest.raises(ProviderConnectionError):
            await provider.chat(ask(), timeout=5)
    finally:
        await provider.close()


@pytest.mark.parametrize(
    ("headers", "message", "expected"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, "", 1.5),
        ({"retry-after": "2"}, "", 2.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, "", 0.0),
        ({"retry-after": "soon"}, "Please try again in 250ms.", 0.25),
        ({}, "Please try again in 20s. Visit ...", 20.0),
        ({}, "Rate limit reached", None),
    ],
)
def test_retry_after_sources(headers: dict[str, str], message: str, expected: float | None) -> None:
    assert retry_after_seconds(headers, message) == expected


# --- construction and secrets -------------------------------------------------------------
def test_repr_never_shows_the_key(fake: FakeOpenAI) -> None:
    provider = OpenAIProvider(openai_settings(fake))

    assert KEY not in repr(provider)
    assert KEY not in str(provider)
    assert KEY not in repr(provider.settings)


async def test_compatible_sends_a_placeholder_key(
    keyless_fake: FakeOpenAI, compatible: OpenAICompatibleProvider
) -> None:
    response = await compatible.chat(ask(model="llama-3.1-8b-instruct"), timeout=5)

    assert response.text == "Hello from the fake."
    assert keyless_fake.requests[-1].path == "/v1/chat/completions"
    assert keyless_fake.requests[-1].headers["Authorization"] == "Bearer not-needed"


def test_compatible_requires_a_base_url() -> None:
    settings = ProviderSettings(name="x", type="openai_compatible", model="llama3")

    with pytest.raises(ConfigError, match="base_url"):
        OpenAICompatibleProvider(settings)


async def test_registry_builds_both_types(fake: FakeOpenAI) -> None:
    built = create_provider(openai_settings(fake))
    other = create_provider(
        ProviderSettings(name="c", type="openai_compatible", model="m", base_url=fake.url)
    )
    try:
        assert type(built) is OpenAIProvider
        assert type(other) is OpenAICompatibleProvider
    finally:
        await built.close()
        await other.close()
