"""Tools on ``/v1/chat/completions``, driven by the official ``openai`` client (sync and async)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from aiohttp.test_utils import TestClient
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
    ChatCompletionToolChoiceOptionParam,
    ChatCompletionToolParam,
)

from addon.api.openai_tools import ARGUMENT_PIECE
from tests.conftest import TOKEN, Fakes, HubClientFactory
from tests.fakes.tools import ToolPlan

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Name of the device"},
        "area": {"type": "string"},
        "domain": {"type": "array", "items": {"type": "string", "enum": ["light", "switch"]}},
    },
    "required": ["name"],
}
TOOLS: list[ChatCompletionToolParam] = [
    {
        "type": "function",
        "function": {"name": n, "description": f"{n} a device", "parameters": PARAMETERS},
    }
    for n in ("HassTurnOn", "HassTurnOff")
]
ASK: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You control a home."},
    {"role": "user", "content": "Kitchen light on, hall light off"},
]
# Long enough that the arguments stream in several pieces.
KITCHEN = ToolPlan(
    "HassTurnOn", {"name": "kitchen ceiling light", "area": "kitchen", "domain": ["light"]}
)
HALL = ToolPlan("HassTurnOff", {"name": "hall light"})


def base_url(client: TestClient[Any, Any]) -> str:
    return str(client.make_url("/v1"))


@pytest.fixture
async def hub_and_client(
    hub_client: HubClientFactory,
) -> AsyncIterator[tuple[TestClient[Any, Any], openai.AsyncOpenAI]]:
    client = await hub_client()
    async with openai.AsyncOpenAI(base_url=base_url(client), api_key=TOKEN, max_retries=0) as api:
        yield client, api


def function_calls(calls: list[Any] | None) -> list[ChatCompletionMessageFunctionToolCall]:
    """The calls of an answer, which the hub always sends as function calls."""
    assert all(isinstance(c, ChatCompletionMessageFunctionToolCall) for c in calls or ())
    return list(calls or ())


def assistant_turn(completion: ChatCompletion) -> ChatCompletionMessageParam:
    """The answer as the next request's assistant message (as OpenAI's docs show it)."""
    message = completion.choices[0].message
    turn: Any = message.model_dump(exclude_none=True, include={"role", "content", "tool_calls"})
    return turn  # type: ignore[no-any-return]


async def test_single_call_and_round_trip_async(
    hub_and_client: tuple[TestClient[Any, Any], openai.AsyncOpenAI], fakes: Fakes
) -> None:
    _, api = hub_and_client
    fakes.openai.script_tools(KITCHEN)
    completion = await api.chat.completions.create(model="auto", messages=ASK, tools=TOOLS)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call.type == "function"
    assert call.function.name == "HassTurnOn"
    assert json.loads(call.function.arguments) == KITCHEN.arguments
    assert completion.model == "openai/gpt-4.1-mini"
    sent = fakes.openai.requests[-1].body
    assert [t["function"]["name"] for t in sent["tools"]] == ["HassTurnOn", "HassTurnOff"]
    assert sent["tools"][0]["function"]["parameters"] == PARAMETERS

    history: list[ChatCompletionMessageParam] = [
        *ASK,
        assistant_turn(completion),
        {"role": "tool", "tool_call_id": call.id, "content": '{"success": true}'},
    ]
    final = await api.chat.completions.create(model="auto", messages=history, tools=TOOLS)
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content == fakes.openai.state.reply.text
    assert final.choices[0].message.tool_calls is None
    result = fakes.openai.requests[-1].body["messages"][-1]
    assert result["role"] == "tool"
    assert result["content"] == '{"success": true}'


async def test_parallel_calls_with_the_sync_client(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    fakes.openai.script_tools(KITCHEN, HALL)

    def ask() -> ChatCompletion:
        with openai.OpenAI(base_url=base_url(client), api_key=TOKEN, max_retries=0) as api:
            return api.chat.completions.create(model="auto", messages=ASK, tools=TOOLS)

    completion = await asyncio.to_thread(ask)
    calls = completion.choices[0].message.tool_calls or []
    assert [(c.function.name, json.loads(c.function.arguments)) for c in function_calls(calls)] == [
        ("HassTurnOn", KITCHEN.arguments),
        ("HassTurnOff", HALL.arguments),
    ]
    assert len({c.id for c in calls}) == 2


@pytest.mark.parametrize("plans", [(KITCHEN,), (KITCHEN, HALL)], ids=["single", "parallel"])
async def test_streamed_calls_reassemble_in_the_sdk(
    hub_and_client: tuple[TestClient[Any, Any], openai.AsyncOpenAI],
    fakes: Fakes,
    plans: tuple[ToolPlan, ...],
) -> None:
    _, api = hub_and_client
    fakes.openai.script_tools(*plans)
    pieces: dict[int, int] = {}
    async with api.chat.completions.stream(model="auto", messages=ASK, tools=TOOLS) as stream:
        async for event in stream:
            if event.type == "chunk":
                for delta in event.chunk.choices[0].delta.tool_calls or ():
                    pieces[delta.index] = pieces.get(delta.index, 0) + 1
        completion = await stream.get_final_completion()
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        (p.name, dict(p.arguments)) for p in plans
    ]
    assert all(c.id for c in calls)
    assert sorted(pieces) == list(range(len(plans)))
    assert len(json.dumps(KITCHEN.arguments)) > ARGUMENT_PIECE
    assert pieces[0] >= 3  # the name, then the arguments in pieces


async def test_streamed_round_trip_with_the_sync_client(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    fakes.openai.script_tools(KITCHEN)

    def loop() -> tuple[list[Any], str]:
        with openai.OpenAI(base_url=base_url(client), api_key=TOKEN, max_retries=0) as api:
            with api.chat.completions.stream(model="auto", messages=ASK, tools=TOOLS) as stream:
                first = stream.get_final_completion()
            calls = first.choices[0].message.tool_calls or []
            results: list[ChatCompletionMessageParam] = [
                {"role": "tool", "tool_call_id": c.id, "content": "done"} for c in calls
            ]
            history = [*ASK, assistant_turn(first), *results]
            chunks = api.chat.completions.create(
                model="auto", messages=history, tools=TOOLS, stream=True
            )
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            return list(calls), text

    calls, text = await asyncio.to_thread(loop)
    assert [c.function.name for c in calls] == ["HassTurnOn"]
    assert text == fakes.openai.state.reply.text


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("none", "none"),
        ("auto", "auto"),
        ("required", "required"),
        (
            {"type": "function", "function": {"name": "HassTurnOff"}},
            {"type": "function", "function": {"name": "HassTurnOff"}},
        ),
    ],
)
async def test_tool_choice_reaches_the_vendor(
    hub_and_client: tuple[TestClient[Any, Any], openai.AsyncOpenAI],
    fakes: Fakes,
    choice: ChatCompletionToolChoiceOptionParam,
    wire: Any,
) -> None:
    _, api = hub_and_client
    await api.chat.completions.create(
        model="auto", messages=ASK, tools=TOOLS, tool_choice=choice, parallel_tool_calls=False
    )
    sent = fakes.openai.requests[-1].body
    assert sent["tool_choice"] == wire
    assert sent["parallel_tool_calls"] is False


async def test_a_model_without_tools_is_422(
    hub_and_client: tuple[TestClient[Any, Any], openai.AsyncOpenAI], fakes: Fakes
) -> None:
    _, api = hub_and_client
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        await api.chat.completions.create(model="openai/o1-mini", messages=ASK, tools=TOOLS)
    assert caught.value.code == "no_capable_provider"
    assert not fakes.openai.requests


CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "HassTurnOn", "arguments": '{"name": "kitchen"}'},
}


def _with_call(**function: str) -> list[Any]:
    call = {**CALL, "function": {**CALL["function"], **function}}  # type: ignore[dict-item]
    return [*ASK, {"role": "assistant", "content": None, "tool_calls": [call]}]


BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("arguments not JSON", {"messages": [*_with_call(arguments="{name: kitchen"),
     {"role": "tool", "tool_call_id": "call_1", "content": "ok"}]},
     "messages.2.tool_calls.0.function.arguments", "not valid JSON"),
    ("arguments a list", {"messages": [*_with_call(arguments="[1]"),
     {"role": "tool", "tool_call_id": "call_1", "content": "ok"}]},
     "messages.2.tool_calls.0.function.arguments", "JSON object"),
    ("result for an unknown call", {"messages": [*_with_call(),
     {"role": "tool", "tool_call_id": "call_2", "content": "ok"}]},
     "messages.3.tool_call_id", "call_2"),
    ("call without a result", {"messages": [*_with_call(), {"role": "user", "content": "?"}]},
     "messages.2.tool_calls", "no tool result"),
    ("bad tool name", {"tools": [{"type": "function", "function": {"name": "turn on"}}]},
     "tools.0.function.name", "1-64"),
    ("parameters not an object", {"tools": [{"type": "function", "function": {
     "name": "f", "parameters": {"type": "array"}}}]},
     "tools.0.function.parameters", "object"),
    ("named tool not offered", {"tools": TOOLS, "tool_choice": {
     "type": "function", "function": {"name": "Nope"}}}, "tool_choice", "Nope"),
    ("legacy function message", {"messages": [{"role": "function", "name": "f", "content": "1"}]},
     "messages.0.role", "use role 'tool'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "param", "fragment"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
async def test_bad_tool_input_is_400_naming_the_parameter(
    hub_and_client: tuple[TestClient[Any, Any], openai.AsyncOpenAI],
    fakes: Fakes,
    body: dict[str, Any],
    param: str,
    fragment: str,
) -> None:
    _, api = hub_and_client
    request = {"model": "auto", "messages": ASK, **body}
    with pytest.raises(openai.BadRequestError) as caught:
        await api.chat.completions.create(**request)
    assert caught.value.code == "invalid_request"
    assert caught.value.param == param
    assert fragment in caught.value.message
    assert not any(fake.requests for fake in fakes.all.values())


# Vendors whose fakes are steered with ``script_tools`` and whose providers stream tool calls.
VENDORS = ["openai", "anthropic", "gemini", "ollama"]
# The configured Ollama model (gemma3:4b) calls no tools: the matrix pins one that does.
TOOL_MODELS = {"ollama": "ollama/llama3.2"}


async def _ask(
    api: openai.AsyncOpenAI, messages: list[ChatCompletionMessageParam], model: str, stream: bool
) -> ChatCompletion:
    if not stream:
        return await api.chat.completions.create(model=model, messages=messages, tools=TOOLS)
    async with api.chat.completions.stream(model=model, messages=messages, tools=TOOLS) as s:
        return await s.get_final_completion()


@pytest.mark.parametrize("plans", [(KITCHEN,), (KITCHEN, HALL)], ids=["single", "parallel"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("vendor", VENDORS)
async def test_every_vendor_calls_tools_in_openai_shape(
    hub_and_client: tuple[TestClient[Any, Any], openai.AsyncOpenAI],
    fakes: Fakes,
    vendor: str,
    stream: bool,
    plans: tuple[ToolPlan, ...],
) -> None:
    _, api = hub_and_client
    fake = fakes.all[vendor]
    fake.script_tools(*plans)
    model = TOOL_MODELS.get(vendor, vendor)
    first = await _ask(api, ASK, model, stream)
    assert first.model.startswith(f"{vendor}/")
    assert first.choices[0].finish_reason == "tool_calls"
    calls = function_calls(first.choices[0].message.tool_calls)
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        (p.name, dict(p.arguments)) for p in plans
    ]
    results: list[ChatCompletionMessageParam] = [
        {"role": "tool", "tool_call_id": c.id, "content": '{"success": true}'} for c in calls
    ]
    final = await _ask(api, [*ASK, assistant_turn(first), *results], model, stream)
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content == fake.state.reply.text
    assert not final.choices[0].message.tool_calls
