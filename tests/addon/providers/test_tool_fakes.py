"""The fakes refuse malformed tool requests the way each vendor does (raw wire, no SDK).

The provider tests trust the fakes to check definitions and results as the vendors do; these
tests keep the fakes honest: each body below is one the vendor answers with its 400 (the
wording is the vendor's own).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pytest

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.base import FakeServer
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
