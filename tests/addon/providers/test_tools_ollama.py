"""Ollama's side of tool calling: what goes on the wire, and a model that says it has no tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from addon.errors import ProviderCapabilityError
from addon.models import ChatRequest, Message, Role, ToolCall, ToolSpec
from addon.providers.ollama import OllamaProvider
from addon.settings import ProviderSettings
from tests.fakes.ollama import FakeOllama

# As Home Assistant's LLM API writes it (voluptuous-openapi): nested objects, anyOf, enums.
PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "domain": {"type": "array", "items": {"type": "string", "enum": ["light", "fan"]}},
        "brightness": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
        "data": {"type": "object", "properties": {"color": {"type": "string"}}},
    },
    "required": ["name"],
}
TOOL = ToolSpec("HassTurnOn", "Turns on a device", PARAMETERS)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    server = FakeOllama(models=["llama3.2:latest", "tinyllama:latest"])
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def provider(fake: FakeOllama) -> AsyncIterator[OllamaProvider]:
    settings = ProviderSettings(name="ollama", type="ollama", model="llama3.2", base_url=fake.url)
    instance = OllamaProvider(settings)
    yield instance
    await instance.close()


def ask(*messages: Message, **kwargs: Any) -> ChatRequest:
    history = messages or (Message(Role.USER, "Kitchen light on"),)
    return ChatRequest(messages=history, **{"model": "llama3.2", "tools": (TOOL,), **kwargs})


def last_body(fake: FakeOllama) -> Any:
    return [r for r in fake.requests if r.path == "/api/chat"][-1].body


async def test_the_schema_goes_out_as_written(fake: FakeOllama, provider: OllamaProvider) -> None:
    await provider.chat(ask(), timeout=10)

    (tool,) = last_body(fake)["tools"]
    assert tool == {
        "type": "function",
        "function": {
            "name": "HassTurnOn",
            "description": "Turns on a device",
            "parameters": PARAMETERS,
        },
    }


async def test_no_tools_means_no_tools_field(fake: FakeOllama, provider: OllamaProvider) -> None:
    await provider.chat(ask(tools=()), timeout=10)

    assert "tools" not in last_body(fake)


async def test_results_are_named_after_their_call(
    fake: FakeOllama, provider: OllamaProvider
) -> None:
    call = ToolCall("call_9", "HassTurnOn", {"name": "kitchen light"})
    history = (
        Message(Role.USER, "Kitchen light on"),
        Message(Role.ASSISTANT, "", tool_calls=(call,)),
        Message(Role.TOOL, '{"success": true}', tool_call_id="call_9"),
    )

    await provider.chat(ask(*history), timeout=10)

    result = last_body(fake)["messages"][-1]
    assert result == {"role": "tool", "content": '{"success": true}', "tool_name": "HassTurnOn"}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_model_ollama_says_has_no_tools_is_a_capability_miss(
    fake: FakeOllama, provider: OllamaProvider, stream: bool
) -> None:
    """The traits know nothing against tinyllama; Ollama's own 400 says it has no tools."""
    request = ask(model="tinyllama")

    with pytest.raises(ProviderCapabilityError, match="does not support tools"):
        await ask_once(provider, request, stream=stream)
    assert len(fake.requests) == 1


async def ask_once(provider: OllamaProvider, request: ChatRequest, *, stream: bool) -> None:
    if stream:
        [delta async for delta in provider.chat_stream(request, timeout=10)]
    else:
        await provider.chat(request, timeout=10)
