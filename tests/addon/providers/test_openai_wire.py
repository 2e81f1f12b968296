"""Reading a decoded ``chat.completion``: the documented shape, and anything else refused."""

from __future__ import annotations

from typing import Any

import pytest

from addon.errors import ProviderResponseError
from addon.models import FinishReason, StreamDelta, Usage
from addon.providers.openai_wire import ChunkReader, completion_response, stream_error, usage_of


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


# --- streams ---------------------------------------------------------------------------------
def chunk(delta: dict[str, Any] | None = None, finish: Any = None, **extra: Any) -> Any:
    choice = {"index": 0, "delta": delta or {}, "finish_reason": finish}
    return {
        "object": "chat.completion.chunk",
        "model": "gpt-4.1-mini",
        "choices": [choice],
        **extra,
    }


def read_stream(*chunks: Any) -> list[StreamDelta]:
    reader = ChunkReader("openai")
    deltas = [delta for item in chunks for delta in reader.feed(item)]
    return deltas + reader.end("asked-model")


def test_a_stream_gives_text_then_calls_then_finish_with_usage() -> None:
    call = {"index": 0, "id": "call_1", "type": "function",
            "function": {"name": "turn_on", "arguments": '{"entity"'}}  # fmt: skip
    deltas = read_stream(
        chunk({"role": "assistant", "content": "On it"}),
        chunk({"tool_calls": [call]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": ': "light.hall"}'}}]}),
        chunk(finish="tool_calls"),
        {
            "choices": [],
            "model": "gpt-4.1-mini",
            "usage": {"prompt_tokens": 3, "completion_tokens": 2},
        },
    )
    assert deltas[0] == StreamDelta(text="On it")
    assert [(c.id, c.name, dict(c.arguments)) for c in deltas[1].tool_calls] == [
        ("call_1", "turn_on", {"entity": "light.hall"})
    ]
    assert deltas[-1].finish_reason is FinishReason.TOOL_CALLS
    assert deltas[-1].usage == Usage(input_tokens=3, output_tokens=2)
    assert deltas[-1].model == "gpt-4.1-mini"


def test_other_choices_are_ignored_and_a_refusal_is_a_content_filter() -> None:
    other = chunk({"content": "second choice"})
    other["choices"][0]["index"] = 1
    deltas = read_stream(other, chunk({"refusal": "No."}), chunk(finish="stop"))
    assert [d.text for d in deltas if d.text] == ["No."]
    assert deltas[-1].finish_reason is FinishReason.CONTENT_FILTER


@pytest.mark.parametrize(
    "bad",
    [
        "a string",
        {"choices": "none"},
        {"choices": ["x"]},
        {"choices": [{"index": 0, "delta": "text"}]},
        chunk({"content": 5}),
        chunk({"tool_calls": {"index": 0}}),
        chunk({"tool_calls": [{"function": {"name": "f"}}]}),  # no index
        chunk({"tool_calls": [{"index": 0, "function": {"name": 7}}]}),
        chunk(finish=3),
        chunk(model=5),
    ],
)
def test_a_chunk_that_is_not_the_documented_shape_is_a_response_error(bad: Any) -> None:
    with pytest.raises(ProviderResponseError):
        read_stream(bad)


def test_a_stream_without_a_single_chunk_is_a_response_error() -> None:
    with pytest.raises(ProviderResponseError, match="without a single event"):
        read_stream()


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"error": {"message": "overloaded", "type": "server_error"}}, "overloaded"),
        ({"error": {"message": ""}}, "An error occurred during streaming"),
        ({"error": "boom"}, "An error occurred during streaming"),
        ({"error": None, "choices": []}, None),
        (chunk({"content": "hi"}), None),
    ],
)
def test_an_error_event_inside_a_stream_is_recognised(event: Any, expected: str | None) -> None:
    assert stream_error(event) == expected
