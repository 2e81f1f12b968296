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


async def post(url: str, body: Mapping[str, Any]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
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
