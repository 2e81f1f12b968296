"""The Ollama provider: what is Ollama's own (NDJSON, options, pulls), through the real SDK.

What every provider owes (answers, streams, vision, structured output, models, health, keys,
faults, Retry-After) is in the contract suite, ``tests/addon/providers/contract/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from addon.errors import (
    ProviderBadRequestError,
    ProviderCapabilityError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from addon.models import (
    ChatRequest,
    FinishReason,
    Message,
    Role,
    ToolCall,
    ToolSpec,
)
from addon.providers.ollama import OllamaProvider, wire_options
from addon.providers.traits import ModelTraits
from addon.settings import ProviderSettings, Secret
from tests.fakes.base import Fault
from tests.fakes.ollama import FakeOllama

MODELS = ["llama3.2", "llava:7b", "gemma3:4b"]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def ask(text: str = "Hi", *, model: str = "llama3.2", **fields: Any) -> ChatRequest:
    return ChatRequest(messages=(Message(Role.USER, text),), model=model, **fields)


def settings_for(url: str, *, api_key: str = "", timeout: float = 30) -> ProviderSettings:
    return ProviderSettings(
        name="local",
        type="ollama",
        model="llama3.2",
        vision_model="llava:7b",
        base_url=url,
        api_key=Secret(api_key),
        timeout=timeout,
    )


def chat_requests(fake: FakeOllama) -> list[Any]:
    return [r for r in fake.requests if r.path == "/api/chat"]


async def collect(provider: OllamaProvider, request: ChatRequest, timeout: float = 10) -> list[Any]:
    return [delta async for delta in provider.chat_stream(request, timeout=timeout)]


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK sends OLLAMA_API_KEY from the environment when no header is configured.
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    server = FakeOllama(models=list(MODELS))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def provider(fake: FakeOllama) -> AsyncIterator[OllamaProvider]:
    instance = OllamaProvider(settings_for(fake.url))
    yield instance
    await instance.close()


# --- chat -------------------------------------------------------------------------------
# Text, usage, the model and the finish reason: the contract suite.
async def test_a_plain_chat_sends_only_what_was_asked(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    await provider.chat(ask("Are the lights off?"), timeout=10)

    body = chat_requests(fake)[-1].body
    assert body["stream"] is False
    assert body["messages"] == [{"role": "user", "content": "Are the lights off?"}]
    assert "options" not in body
    assert "format" not in body


async def test_system_messages_lead_as_one_system_message(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    request = ChatRequest(
        messages=(
            Message(Role.SYSTEM, "You are a house assistant."),
            Message(Role.USER, "Hello"),
            Message(Role.ASSISTANT, "Hi! How can I help?"),
            Message(Role.SYSTEM, "Answer briefly."),
            Message(Role.USER, "Weather?"),
        ),
        model="llama3.2",
    )

    await provider.chat(request, timeout=10)

    assert chat_requests(fake)[-1].body["messages"] == [
        {"role": "system", "content": "You are a house assistant.\n\nAnswer briefly."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi! How can I help?"},
        {"role": "user", "content": "Weather?"},
    ]


async def test_sampling_options_go_into_options(provider: OllamaProvider, fake: FakeOllama) -> None:
    await provider.chat(
        ask(max_tokens=64, temperature=0.2, stop=("END", "\n\n")),
        timeout=10,
    )

    assert chat_requests(fake)[-1].body["options"] == {
        "num_predict": 64,
        "temperature": 0.2,
        "stop": ["END", "\n\n"],
    }


@pytest.mark.parametrize(
    ("traits", "fields", "expected"),
    [
        (ModelTraits(), {"temperature": 0.7}, {"temperature": 0.7}),
        (ModelTraits(temperature=False), {"temperature": 0.7}, None),
        (ModelTraits(default_max_tokens=256), {}, {"num_predict": 256}),
        (ModelTraits(default_max_tokens=256), {"max_tokens": 10}, {"num_predict": 10}),
        (ModelTraits(), {"max_tokens": 0}, {"num_predict": 0}),
        (ModelTraits(), {}, None),
    ],
)
def test_options_follow_the_model_traits(
    traits: ModelTraits, fields: dict[str, Any], expected: dict[str, Any] | None
) -> None:
    assert wire_options(ask(**fields), traits) == expected


@pytest.mark.parametrize(
    ("model", "vision", "tools", "thinking"),
    [
        ("llava:7b", True, False, False),
        ("gemma3:4b", True, False, False),
        ("qwen3-vl:8b", True, True, True),
        ("qwen3:8b", False, True, True),
        ("deepseek-r1:7b", False, True, True),
        ("llama3.2:latest", False, True, False),
    ],
)
def test_model_traits(
    provider: OllamaProvider, model: str, vision: bool, tools: bool, thinking: bool
) -> None:
    traits = provider.traits(model)
    assert (traits.vision, traits.tools, traits.thinking) == (vision, tools, thinking)


async def test_a_model_that_was_never_pulled_says_how_to_pull_it(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    with pytest.raises(ProviderBadRequestError) as caught:
        await provider.chat(ask(model="mistral:7b"), timeout=10)

    assert 'model "mistral:7b" not found, try pulling it first' in caught.value.message
    assert "ollama pull mistral:7b" in caught.value.message
    assert len(chat_requests(fake)) == 1


# --- structured output ------------------------------------------------------------------
# --- tools ------------------------------------------------------------------------------
LIGHT_TOOL = ToolSpec(
    name="turn_on",
    description="Turn on a light",
    parameters={
        "type": "object",
        "properties": {"entity_id": {"type": "string", "description": "The light"}},
        "required": ["entity_id"],
    },
)


async def test_tool_calls_come_back_as_tool_calls(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.tool_calls = [{"name": "turn_on", "arguments": {"entity_id": "light.porch"}}]

    response = await provider.chat(ask("Porch light on", tools=(LIGHT_TOOL,)), timeout=10)

    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert [(c.name, dict(c.arguments)) for c in response.tool_calls] == [
        ("turn_on", {"entity_id": "light.porch"})
    ]
    assert chat_requests(fake)[-1].body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "turn_on",
                "description": "Turn on a light",
                "parameters": {
                    "type": "object",
                    "properties": {"entity_id": {"type": "string", "description": "The light"}},
                    "required": ["entity_id"],
                },
            },
        }
    ]


async def test_tool_results_name_their_tool(provider: OllamaProvider, fake: FakeOllama) -> None:
    call = ToolCall(id="call_0", name="turn_on", arguments={"entity_id": "light.porch"})
    request = ChatRequest(
        messages=(
            Message(Role.USER, "Porch light on"),
            Message(Role.ASSISTANT, "", tool_calls=(call,)),
            Message(Role.TOOL, '{"ok": true}', tool_call_id="call_0"),
        ),
        model="llama3.2",
        tools=(LIGHT_TOOL,),
    )

    await provider.chat(request, timeout=10)

    messages = chat_requests(fake)[-1].body["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"function": {"name": "turn_on", "arguments": {"entity_id": "light.porch"}}}
        ],
    }
    assert messages[2] == {"role": "tool", "content": '{"ok": true}', "tool_name": "turn_on"}


async def test_tools_for_a_model_without_tool_support_are_refused(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    with pytest.raises(ProviderCapabilityError, match="cannot call tools"):
        await provider.chat(ask(model="llava:7b", tools=(LIGHT_TOOL,)), timeout=10)
    assert chat_requests(fake) == []


# --- streaming --------------------------------------------------------------------------
async def test_stream_of_tool_calls_finishes_with_tool_calls(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.tool_calls = [{"name": "turn_on", "arguments": {"entity_id": "light.porch"}}]

    deltas = await collect(provider, ask(tools=(LIGHT_TOOL,)))

    assert deltas[-1].finish_reason is FinishReason.TOOL_CALLS


async def test_error_line_in_the_stream_is_a_response_error(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.fail_next(Fault.SERVER_ERROR, mid_stream=True)

    with pytest.raises(ProviderResponseError, match="unexpected EOF"):
        await collect(provider, ask())
    assert len(chat_requests(fake)) == 1


# --- models, health, credentials --------------------------------------------------------
# Ids and vision flags: the contract suite.
async def test_list_models_names_the_size(provider: OllamaProvider, fake: FakeOllama) -> None:
    models = await provider.list_models(timeout=10)

    assert models[1].display_name == "llava:7b (7B)"
    assert fake.requests[-1].path == "/api/tags"


async def test_no_key_sends_no_authorization_header(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    await provider.chat(ask(), timeout=10)

    assert "Authorization" not in chat_requests(fake)[-1].headers


# --- errors -----------------------------------------------------------------------------


async def test_the_sdk_client_timeout_is_a_timeout_error(fake: FakeOllama) -> None:
    # The client's own timeout (the provider's ``timeout``) fires before the call's deadline.
    impatient = OllamaProvider(settings_for(fake.url, timeout=0.2))
    fake.fail_next(Fault.TIMEOUT)
    try:
        with pytest.raises(ProviderTimeoutError) as caught:
            await impatient.chat(ask(), timeout=30)
    finally:
        await impatient.close()

    assert type(caught.value.__cause__).__module__.startswith("httpx")


async def test_busy_server_is_retryable_with_ollamas_message(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.fail_next(Fault.OVERLOADED)

    with pytest.raises(ProviderRateLimitError) as caught:
        await provider.chat(ask(), timeout=10)

    assert caught.value.retryable is True
    assert "server busy" in caught.value.message
