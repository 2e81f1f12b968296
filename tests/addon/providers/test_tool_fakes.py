"""The fakes refuse malformed tool requests the way each vendor does (raw wire, no SDK).

The provider tests trust the fakes to check definitions and results as the vendors do; these
tests keep the fakes honest: each body below is one the vendor answers with its 400 (the
wording is the vendor's own).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pytest

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.base import FakeServer
from tests.fakes.gemini import FakeGemini
from tests.fakes.gemini_tools import SKIP_SIGNATURE
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI

TOOL = {"type": "function", "function": {"name": "turn_on", "parameters": {"type": "object"}}}
CALL = {"id": "call_1", "type": "function", "function": {"name": "turn_on", "arguments": "{}"}}
USER = {"role": "user", "content": "Porch light on"}
ASSISTANT = {"role": "assistant", "content": None, "tool_calls": [CALL]}


def openai_body(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-4.1-mini", "messages": [USER], **fields}


OPENAI_REFUSALS = [
    pytest.param(
        openai_body(messages=[USER, {"role": "tool", "tool_call_id": "call_9", "content": "{}"}]),
        "must be a response to a preceeding message with 'tool_calls'",
        id="result-without-call",
    ),
    pytest.param(
        openai_body(messages=[USER, ASSISTANT, USER]),
        "did not have response messages: call_1",
        id="call-without-result",
    ),
    pytest.param(
        openai_body(messages=[USER, {**ASSISTANT, "tool_calls": [{**CALL, "id": "c" * 41}]}]),
        "maximum length 40",
        id="id-too-long",
    ),
    pytest.param(openai_body(tool_choice="auto"), "only allowed when 'tools'", id="choice-alone"),
    pytest.param(
        openai_body(parallel_tool_calls=False), "only allowed when 'tools'", id="parallel-alone"
    ),
    pytest.param(
        openai_body(tools=[{"type": "function", "function": {"name": "turn on"}}]),
        "does not match pattern",
        id="bad-name",
    ),
    pytest.param(
        openai_body(
            tools=[{"type": "function", "function": {"name": "x", "parameters": {"type": "array"}}}]
        ),
        "schema must be a JSON Schema of 'type: \"object\"'",
        id="not-object",
    ),
    pytest.param(
        openai_body(tools=[TOOL], tool_choice={"type": "function", "function": {"name": "nope"}}),
        "function 'nope' not found",
        id="unknown-forced-tool",
    ),
]


@pytest.fixture
async def openai_fake() -> AsyncIterator[FakeServer]:
    fake = await FakeOpenAI().start()
    yield fake
    await fake.stop()


async def post(
    url: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=headers) as response,
    ):
        return response.status, await response.json()


@pytest.mark.parametrize(("body", "says"), OPENAI_REFUSALS)
async def test_openai_fake_refuses_like_openai(
    openai_fake: FakeServer, body: dict[str, Any], says: str
) -> None:
    status, answer = await post(f"{openai_fake.url}/v1/chat/completions", body)

    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error"
    assert says in answer["error"]["message"]


async def test_openai_fake_accepts_a_complete_round_trip(openai_fake: FakeServer) -> None:
    result = {"role": "tool", "tool_call_id": "call_1", "content": '{"ok": true}'}
    body = openai_body(messages=[USER, ASSISTANT, result], tools=[TOOL])

    status, answer = await post(f"{openai_fake.url}/v1/chat/completions", body)

    assert status == 200
    assert answer["choices"][0]["finish_reason"] == "stop"


# --- Anthropic ----------------------------------------------------------------------------
ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "k"}
A_TOOL = {"name": "turn_on", "input_schema": {"type": "object"}}
A_USE = {"type": "tool_use", "id": "toolu_1", "name": "turn_on", "input": {}}
A_RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}
A_USER = {"role": "user", "content": "Porch light on"}


def anthropic_body(*messages: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": list(messages), **fields}


ANTHROPIC_REFUSALS = [
    pytest.param(
        anthropic_body(A_USER, {"role": "user", "content": [A_RESULT]}),
        "unexpected `tool_use_id` found in `tool_result` blocks: toolu_1",
        id="result-without-call",
    ),
    pytest.param(
        anthropic_body(A_USER, {"role": "assistant", "content": [A_USE]}, A_USER),
        "`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1",
        id="call-without-result",
    ),
    pytest.param(
        anthropic_body(
            A_USER,
            {"role": "assistant", "content": [{**A_USE, "id": "functions.turn_on:0"}]},
            {"role": "user", "content": [{**A_RESULT, "tool_use_id": "functions.turn_on:0"}]},
        ),
        "String should match pattern '^[a-zA-Z0-9_-]+$'",
        id="id-pattern",
    ),
    pytest.param(
        anthropic_body(A_USER, tool_choice={"type": "any"}),
        "tool_choice may only be specified while providing tools",
        id="choice-alone",
    ),
    pytest.param(
        anthropic_body(A_USER, tools=[{**A_TOOL, "name": "turn on"}]),
        "String should match pattern",
        id="bad-name",
    ),
    pytest.param(
        anthropic_body(A_USER, tools=[{**A_TOOL, "input_schema": {"type": "array"}}]),
        "input_schema.type: Input should be 'object'",
        id="not-object",
    ),
    pytest.param(
        anthropic_body(A_USER, tools=[A_TOOL], tool_choice={"type": "tool", "name": "nope"}),
        "Tool 'nope' not found",
        id="unknown-forced-tool",
    ),
]


@pytest.fixture
async def anthropic_fake() -> AsyncIterator[FakeServer]:
    fake = await FakeAnthropic().start()
    yield fake
    await fake.stop()


@pytest.mark.parametrize(("body", "says"), ANTHROPIC_REFUSALS)
async def test_anthropic_fake_refuses_like_anthropic(
    anthropic_fake: FakeServer, body: dict[str, Any], says: str
) -> None:
    status, answer = await post(f"{anthropic_fake.url}/v1/messages", body, ANTHROPIC_HEADERS)

    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error"
    assert says in answer["error"]["message"]


async def test_anthropic_fake_accepts_a_complete_round_trip(anthropic_fake: FakeServer) -> None:
    body = anthropic_body(
        A_USER,
        {"role": "assistant", "content": [A_USE]},
        {"role": "user", "content": [A_RESULT]},
        tools=[A_TOOL],
    )

    status, answer = await post(f"{anthropic_fake.url}/v1/messages", body, ANTHROPIC_HEADERS)

    assert status == 200
    assert answer["stop_reason"] == "end_turn"


# --- Gemini -------------------------------------------------------------------------------
G_USER: dict[str, Any] = {"role": "user", "parts": [{"text": "Porch light on"}]}
G_FUNCTION_CALL: dict[str, Any] = {"functionCall": {"name": "turn_on", "args": {}}}
G_CALL: dict[str, Any] = {"role": "model", "parts": [G_FUNCTION_CALL]}
G_RESULT = {
    "role": "user",
    "parts": [{"functionResponse": {"name": "turn_on", "response": {"ok": True}}}],
}


def gemini_tools(parameters: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": "turn_on", **extra}
    if parameters is not None:
        declaration["parameters"] = parameters
    return {"tools": [{"functionDeclarations": [declaration]}]}


def gemini_object(**properties: Any) -> dict[str, Any]:
    return {"type": "OBJECT", "properties": properties}


GEMINI_REFUSALS = [
    pytest.param(
        "gemini-2.5-flash",
        {
            "contents": [G_USER],
            **gemini_tools(gemini_object(x={"type": "OBJECT", "additionalProperties": True})),
        },
        'Unknown name "additionalProperties"',
        id="json-schema-keyword",
    ),
    pytest.param(
        "gemini-2.5-flash",
        {"contents": [G_USER], **gemini_tools(gemini_object(x={"type": "string"}))},
        "generativelanguage.v1beta.Type",
        id="lower-case-type",
    ),
    pytest.param(
        "gemini-2.5-flash",
        {"contents": [G_USER], **gemini_tools(gemini_object(x={"type": "INTEGER", "enum": [1]}))},
        "(TYPE_STRING), 1",
        id="number-enum",
    ),
    pytest.param(
        "gemini-2.5-flash",
        {"contents": [G_USER], **gemini_tools(gemini_object(x={"type": "OBJECT"}))},
        "should be non-empty for OBJECT type",
        id="object-without-properties",
    ),
    pytest.param(
        "gemini-2.5-flash",
        {"contents": [G_USER], **gemini_tools(gemini_object(x={"type": "ARRAY"}))},
        "items: missing field",
        id="array-without-items",
    ),
    pytest.param(
        "gemini-2.5-flash",
        {"contents": [G_USER], **gemini_tools(name="1st")},
        "Invalid function name",
        id="bad-name",
    ),
    pytest.param(
        "gemini-2.5-flash",
        {
            "contents": [G_USER],
            **gemini_tools(),
            "toolConfig": {
                "functionCallingConfig": {"mode": "AUTO", "allowedFunctionNames": ["turn_on"]}
            },
        },
        "only be set when mode is ANY",
        id="names-without-any",
    ),
    pytest.param(
        "gemini-2.5-flash",
        {"contents": [G_USER, G_RESULT], **gemini_tools()},
        "function response turn comes immediately after a function call turn",
        id="result-without-call",
    ),
    pytest.param(
        "gemini-2.5-flash",
        {"contents": [G_USER, G_CALL, G_USER], **gemini_tools()},
        "number of function response parts is equal to the number of function call parts",
        id="call-without-result",
    ),
    pytest.param(
        "gemini-3-flash-preview",
        {"contents": [G_USER, G_CALL, G_RESULT], **gemini_tools()},
        "Function call is missing a thought_signature",
        id="gemini-3-unsigned-call",
    ),
    pytest.param(
        "gemini-3-flash-preview",
        {
            "contents": [
                G_USER,
                {"role": "model", "parts": [{**G_FUNCTION_CALL, "thoughtSignature": "AAAA"}]},
                G_RESULT,
            ],
            **gemini_tools(),
        },
        "Corrupted thought signature",
        id="gemini-3-forged-signature",
    ),
]


@pytest.fixture
async def gemini_fake() -> AsyncIterator[FakeServer]:
    fake = await FakeGemini(models=["gemini-2.5-flash", "gemini-3-flash-preview"]).start()
    yield fake
    await fake.stop()


def gemini_url(fake: FakeServer, model: str) -> str:
    return f"{fake.url}/v1beta/models/{model}:generateContent"


@pytest.mark.parametrize(("model", "body", "says"), GEMINI_REFUSALS)
async def test_gemini_fake_refuses_like_gemini(
    gemini_fake: FakeServer, model: str, body: dict[str, Any], says: str
) -> None:
    status, answer = await post(gemini_url(gemini_fake, model), body)

    assert status == 400
    assert answer["error"]["status"] == "INVALID_ARGUMENT"
    assert says in answer["error"]["message"]


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(base64.b64encode(SKIP_SIGNATURE).decode(), id="placeholder"),
        pytest.param(None, id="earlier-turn-unsigned"),
    ],
)
async def test_gemini_3_fake_accepts_what_gemini_3_accepts(
    gemini_fake: FakeServer, signature: str | None
) -> None:
    call = dict(G_FUNCTION_CALL)
    if signature is not None:
        call["thoughtSignature"] = signature
    contents = [G_USER, {"role": "model", "parts": [call]}, G_RESULT]
    if signature is None:  # only the current turn is checked: a new user turn starts one
        contents.append({"role": "model", "parts": [{"text": "Done."}]})
        contents.append({"role": "user", "parts": [{"text": "Thanks"}]})
    body = {"contents": contents, **gemini_tools()}

    status, answer = await post(gemini_url(gemini_fake, "gemini-3-flash-preview"), body)

    assert status == 200, answer


# --- Ollama -------------------------------------------------------------------------------
O_TOOL = {"type": "function", "function": {"name": "turn_on", "parameters": {"type": "object"}}}


@pytest.fixture
async def ollama_fake() -> AsyncIterator[FakeServer]:
    fake = await FakeOllama(models=["llama3.2:latest", "tinyllama:latest"]).start()
    yield fake
    await fake.stop()


@pytest.mark.parametrize(
    ("model", "capable"), [("llama3.2:latest", True), ("tinyllama:latest", False)]
)
async def test_ollama_fake_refuses_tools_to_a_model_without_them(
    ollama_fake: FakeServer, model: str, capable: bool
) -> None:
    body = {"model": model, "messages": [USER], "tools": [O_TOOL], "stream": False}

    status, answer = await post(f"{ollama_fake.url}/api/chat", body)
    _, shown = await post(f"{ollama_fake.url}/api/show", {"model": model})

    assert ("tools" in shown["capabilities"]) is capable
    if capable:
        assert status == 200
    else:
        assert status == 400
        assert answer == {"error": f"registry.ollama.ai/library/{model} does not support tools"}
