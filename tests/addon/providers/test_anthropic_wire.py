"""Reading a decoded Anthropic ``message`` and stream events: the documented shape, and
anything else refused."""

from __future__ import annotations

from typing import Any

import pytest

from addon.errors import ProviderResponseError
from addon.models import FinishReason, StreamDelta, Usage
from addon.providers.anthropic_wire import STRUCTURED_TOOL, EventReader, message_response


def message(*content: dict[str, Any], stop: str = "end_turn", **usage: int) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": list(content),
        "stop_reason": stop,
        "usage": {"input_tokens": 10, "output_tokens": 4, **usage},
    }


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool_use(name: str, arguments: dict[str, Any], call_id: str = "toolu_1") -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def test_text_usage_with_cached_tokens_and_finish_are_read() -> None:
    body = message(cache_read_input_tokens=5, cache_creation_input_tokens=1)
    body["content"] = [text("Hel"), text("lo")]
    answer = message_response(body, "anthropic", structured=False)
    assert (answer.text, answer.model) == ("Hello", "claude-haiku-4-5")
    assert answer.usage == Usage(input_tokens=16, output_tokens=4)
    assert answer.finish_reason is FinishReason.STOP


def test_tool_calls_and_the_structured_answer_are_told_apart() -> None:
    body = message(tool_use("turn_on", {"entity": "light.hall"}), stop="tool_use")
    answer = message_response(body, "anthropic", structured=False)
    assert [(c.id, c.name, dict(c.arguments)) for c in answer.tool_calls] == [
        ("toolu_1", "turn_on", {"entity": "light.hall"})
    ]
    assert answer.finish_reason is FinishReason.TOOL_CALLS
    structured = message(tool_use(STRUCTURED_TOOL, {"on": True}), stop="tool_use")
    answer = message_response(structured, "anthropic", structured=True)
    assert (answer.text, answer.tool_calls) == ('{"on": true}', ())
    assert answer.finish_reason is FinishReason.STOP


@pytest.mark.parametrize(
    "bad",
    [
        "text",
        {"type": "error", "content": []},
        {**message(), "content": "Hello"},
        {**message(), "content": ["Hello"]},
        message({"type": "text", "text": 5}),
        message({"type": "tool_use", "id": "t", "name": "f", "input": "{}"}),
        {**message(), "usage": None},
        message(input_tokens=-1),
        {**message(), "model": 4},
        {**message(), "stop_reason": 1},
    ],
)
def test_a_body_that_is_not_a_message_is_a_response_error(bad: Any) -> None:
    with pytest.raises(ProviderResponseError):
        message_response(bad, "anthropic", structured=False)


def events(*tail: dict[str, Any]) -> list[dict[str, Any]]:
    usage = {"input_tokens": 9, "output_tokens": 1}
    start = {"type": "message_start", "message": {**message(), "content": [], "usage": usage}}
    return [start, *tail]


def read(items: list[Any], *, structured: bool = False) -> list[StreamDelta]:
    reader = EventReader("anthropic", structured=structured)
    deltas = [delta for item in items if (delta := reader.feed(item)) is not None]
    return [*deltas, reader.final()]


def test_a_stream_gives_text_a_whole_call_and_the_final_usage() -> None:
    deltas = read(events(
        {"type": "content_block_start", "index": 0, "content_block": text("")},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "On"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1,
         "content_block": {"type": "tool_use", "id": "toolu_9", "name": "turn_on", "input": {}}},
        {"type": "content_block_delta", "index": 1,
         "delta": {"type": "input_json_delta", "partial_json": '{"entity": '}},
        {"type": "content_block_delta", "index": 1,
         "delta": {"type": "input_json_delta", "partial_json": '"light.hall"}'}},
        {"type": "content_block_stop", "index": 1},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
         "usage": {"output_tokens": 7}},
        {"type": "message_stop"},
    ))  # fmt: skip
    assert deltas[0] == StreamDelta(text="On")
    assert [(c.id, c.name, dict(c.arguments)) for c in deltas[1].tool_calls] == [
        ("toolu_9", "turn_on", {"entity": "light.hall"})
    ]
    assert deltas[-1].usage == Usage(input_tokens=9, output_tokens=7)
    assert (deltas[-1].finish_reason, deltas[-1].model) == (
        FinishReason.TOOL_CALLS,
        "claude-haiku-4-5",
    )


def test_a_stream_that_ends_before_message_stop_is_a_response_error() -> None:
    with pytest.raises(ProviderResponseError, match="before message_stop"):
        read(events())


@pytest.mark.parametrize(
    "bad",
    [
        "event",
        {"type": "message_start", "message": "m"},
        {"type": "content_block_start", "index": "0", "content_block": text("")},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": 1}},
        {"type": "content_block_delta", "index": 0, "delta": None},
        {"type": "message_delta", "delta": {"stop_reason": 3}},
        {"type": "message_delta", "delta": {}, "usage": {"output_tokens": "7"}},
    ],
)
def test_an_event_that_is_not_the_documented_shape_is_a_response_error(bad: Any) -> None:
    with pytest.raises(ProviderResponseError):
        read([*events(), bad, {"type": "message_stop"}])
