"""The OpenAI and OpenAI-compatible providers: what is OpenAI's own, through the real SDK.

What every provider owes (answers, streams, vision, structured output, models, health, keys,
faults, Retry-After) is in the contract suite, ``tests/addon/providers/contract/``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from addon.errors import (
    ConfigError,
    ProviderBadRequestError,
    ProviderCapabilityError,
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
from addon.providers.openai import (
    OpenAICompatibleProvider,
    OpenAIProvider,
    is_strict_schema,
    retry_after_seconds,
)
from addon.settings import ProviderSettings, Secret
from tests.fakes.base import Fault
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
# Text, usage, "stop" and "length": the contract suite (tests/addon/providers/contract/).
async def test_content_filter_finish_is_normalised(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.finish_reason = "content_filter"

    assert (await provider.chat(ask(), timeout=5)).finish_reason is FinishReason.CONTENT_FILTER
    assert (await collect(provider, ask()))[-1].finish_reason is FinishReason.CONTENT_FILTER


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
# The bytes and MIME types of the data URLs: the contract suite.
async def test_images_follow_the_text_with_detail_auto(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    images = (ImageInput(b"\xff\xd8\xff\xe0 fake jpeg"), ImageInput(b"\x89PNG", "image/png"))
    request = ChatRequest(
        messages=(Message(Role.USER, "What is at the door?", images=images),), model="gpt-4o"
    )

    await provider.chat(request, timeout=5)

    content = fake.requests[-1].body["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "What is at the door?"}
    assert [part["type"] for part in content[1:]] == ["image_url", "image_url"]
    assert {part["image_url"]["detail"] for part in content[1:]} == {"auto"}


# --- streaming ----------------------------------------------------------------------------
# Pieces, usage and the final delta: the contract suite.
async def test_streams_ask_for_usage(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    await collect(provider, ask())

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


async def raw_stream(fake: FakeOpenAI) -> tuple[aiohttp.ClientResponse, list[str]]:
    """POST a streamed chat straight to the fake; the response and its SSE data lines."""
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    headers = {"Authorization": f"Bearer {KEY}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.url}/v1/chat/completions", json=body, headers=headers) as response,
    ):
        raw = (await response.read()).decode()
    return response, [block.removeprefix("data: ") for block in raw.split("\n\n") if block]


async def test_fake_ends_a_failing_stream_with_an_error_frame(fake: FakeOpenAI) -> None:
    """OpenAI's mid-stream failure: a ``data:`` line holding ``{"error": {...}}``, no [DONE]."""
    fake.fail_next(Fault.SERVER_ERROR, mid_stream=True)

    response, events = await raw_stream(fake)

    assert response.status == 200
    first, *middle, last = (json.loads(event) for event in events)
    assert first["object"] == "chat.completion.chunk"
    assert [chunk["choices"][0]["delta"].get("content") for chunk in middle] == ["Hello f"]
    assert last["error"]["type"] == "server_error"
    assert last["error"]["message"].startswith("The server had an error")


async def test_an_error_frame_mid_stream_keeps_the_vendors_message(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.fail_next(Fault.SERVER_ERROR, mid_stream=True)

    with pytest.raises(ProviderResponseError, match="failed: The server had an error"):
        await collect(provider, ask())


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "stream"])
async def test_fake_answers_carry_rate_limit_headers(fake: FakeOpenAI, streaming: bool) -> None:
    fake.requests_left = 0
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.url}/v1/chat/completions",
            json={**body, "stream": streaming},
            headers={"Authorization": f"Bearer {KEY}"},
        ) as response,
    ):
        await response.read()

    assert response.status == 200
    assert response.headers["x-ratelimit-limit-requests"] == "500"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert response.headers["x-ratelimit-reset-requests"] == "1s"
    assert int(response.headers["x-ratelimit-remaining-tokens"]) > 0


# --- structured output --------------------------------------------------------------------
# The schema on the wire and the parsed data: the contract suite.
async def test_a_closed_schema_is_asked_for_strictly_under_a_valid_name(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    await provider.chat(ask(json_schema=LIGHT_SCHEMA), timeout=5)

    response_format = fake.requests[-1].body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["name"] == "response"


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
# --- errors -------------------------------------------------------------------------------
async def test_rate_limit_retry_after_from_the_body(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.fail_next(Fault.RATE_LIMIT, retry_after=3, omit_header=True)

    with pytest.raises(ProviderRateLimitError) as caught:
        await provider.chat(ask(), timeout=5)

    assert caught.value.retry_after == 3.0


# Our own key echoed back: the contract suite. Other OpenAI-looking keys are blanked too.
async def test_any_key_like_text_the_vendor_echoes_is_blanked(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.fail_next(Fault.BAD_REQUEST, message="Key sk-other123456 may not use model x")

    with pytest.raises(ProviderBadRequestError) as caught:
        await provider.chat(ask(), timeout=5)

    assert "sk-other123456" not in str(caught.value)
    assert "may not use model x (HTTP 400)" in str(caught.value)


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
def test_compatible_requires_a_base_url() -> None:
    settings = ProviderSettings(name="x", type="openai_compatible", model="llama3")

    with pytest.raises(ConfigError, match="base_url"):
        OpenAICompatibleProvider(settings)
