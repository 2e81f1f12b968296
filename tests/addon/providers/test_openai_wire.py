"""Reading a decoded ``chat.completion``: the documented shape, and anything else refused."""

from __future__ import annotations

from typing import Any

import pytest

from addon.errors import ProviderResponseError
from addon.models import FinishReason, Usage
from addon.providers.openai_wire import completion_response, usage_of


def completion(**message: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }


def test_text_model_usage_and_finish_are_read() -> None:
    answer = completion_response(completion(content="Hello"), "openai")
    assert answer.text == "Hello"
    assert answer.model == "gpt-4.1-mini-2025-04-14"
    assert answer.usage == Usage(input_tokens=12, output_tokens=5)
    assert answer.finish_reason is FinishReason.STOP
    assert answer.tool_calls == ()


def test_tool_calls_are_read_with_their_arguments_and_ids() -> None:
    calls = [
        {"id": "call_1", "type": "function",
         "function": {"name": "turn_on", "arguments": '{"entity": "light.hall"}'}},
        {"type": "function", "function": {"name": "status", "arguments": ""}},
        {"id": "x", "type": "custom", "custom": {"name": "grammar", "input": "..."}},
    ]  # fmt: skip
    body = completion(content=None, tool_calls=calls)
    body["choices"][0]["finish_reason"] = "tool_calls"
    answer = completion_response(body, "openai")
    assert [(c.name, dict(c.arguments)) for c in answer.tool_calls] == [
        ("turn_on", {"entity": "light.hall"}),
        ("status", {}),
    ]
    assert answer.tool_calls[0].id == "call_1"
    assert answer.tool_calls[1].id  # a server that sends no id gets a fresh one
    assert answer.finish_reason is FinishReason.TOOL_CALLS


def test_a_refusal_is_the_text_and_a_content_filter_finish() -> None:
    answer = completion_response(completion(content=None, refusal="I cannot help."), "openai")
    assert (answer.text, answer.finish_reason) == ("I cannot help.", FinishReason.CONTENT_FILTER)


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (None, Usage()),
        ({}, Usage()),
        ({"prompt_tokens": 3, "completion_tokens": 0}, Usage(3, 0)),
    ],
)
def test_missing_usage_counts_nothing(usage: Any, expected: Usage) -> None:
    assert usage_of(usage, "openai") == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "unreadable"),
        ("text", "unreadable"),
        ({"choices": []}, "without a choice"),
        ({"choices": None}, "without a choice"),
        ({"choices": "abc"}, "unreadable"),
        ({"choices": [None]}, "unreadable"),
        ({"choices": [{"message": "hi"}]}, "unreadable"),
        ({"choices": [{"message": {"content": 5}}]}, "unreadable"),
        ({"choices": [{"message": {"content": "x"}, "finish_reason": 1}]}, "unreadable"),
        ({"choices": [{"message": {"content": "x"}}], "model": ["m"]}, "unreadable"),
        ({"choices": [{"message": {"content": "x"}}], "usage": 7}, "unreadable"),
        ({"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": -1}}, "token"),
        ({"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": "9"}}, "token"),
        ({"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": True}}, "token"),
        ({"choices": [{"message": {"tool_calls": "call"}}]}, "unreadable"),
        ({"choices": [{"message": {"tool_calls": [7]}}]}, "unreadable"),
        ({"choices": [{"message": {"tool_calls": [{"type": "function"}]}}]}, "unreadable"),
        (
            {"choices": [{"message": {"tool_calls": [
                {"type": "function", "function": {"name": "f", "arguments": "[1]"}}]}}]},
            "not an object",
        ),
        (
            {"choices": [{"message": {"tool_calls": [
                {"type": "function", "function": {"name": "f", "arguments": "{"}}]}}]},
            "not JSON",
        ),
    ],
)  # fmt: skip
def test_a_body_that_is_not_the_documented_shape_is_a_response_error(
    body: Any, message: str
) -> None:
    with pytest.raises(ProviderResponseError, match=message) as caught:
        completion_response(body, "openai")
    assert "openai" in caught.value.message
