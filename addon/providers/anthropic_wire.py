"""Reading Anthropic's Messages answers from their JSON (SDK-free).

A one-shot ``message`` is decoded once from its bytes and read here, and so is each event of a
stream, instead of being built into the SDK's typed objects first; anything that is not the
documented shape is a ``ProviderResponseError``, never an exception from the hub's own code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from addon.errors import ProviderResponseError
from addon.models import ChatResponse, FinishReason, StreamDelta, ToolCall, Usage
from addon.providers.json_fields import as_count, as_mapping, as_text

STRUCTURED_TOOL: Final = "structured_output"
STOP_REASONS: Final[Mapping[str, FinishReason]] = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "refusal": FinishReason.CONTENT_FILTER,
    "pause_turn": FinishReason.OTHER,
}


def finish_reason(stop_reason: str | None, *, structured: bool = False) -> FinishReason:
    """Normalise Anthropic's ``stop_reason``; the forced structured tool is a normal stop."""
    if structured and stop_reason == "tool_use":
        return FinishReason.STOP
    return STOP_REASONS.get(stop_reason or "", FinishReason.OTHER)


def message_response(body: Any, provider: str, *, structured: bool) -> ChatResponse:
    """The hub's answer from a decoded ``message`` object."""
    bad = ProviderResponseError(f"{provider} answered with something other than a message")
    message = as_mapping(body, bad)
    if message.get("type", "message") != "message" or not isinstance(message.get("content"), list):
        raise bad
    texts: list[str] = []
    calls: list[ToolCall] = []
    answer: Any = None
    for item in message["content"]:
        block = as_mapping(item, bad)
        if block.get("type") == "text":
            texts.append(as_text(block.get("text"), bad))
        elif block.get("type") == "tool_use":
            name, arguments = as_text(block.get("name"), bad), as_mapping(block.get("input"), bad)
            if structured and name == STRUCTURED_TOOL:
                answer = arguments
            else:
                calls.append(
                    ToolCall(id=as_text(block.get("id"), bad), name=name, arguments=dict(arguments))
                )
    return ChatResponse(
        text=json.dumps(answer) if answer is not None else "".join(texts),
        model=as_text(message.get("model"), bad),
        usage=usage_of(as_mapping(message.get("usage"), bad), bad),
        finish_reason=finish_reason(
            as_text(message.get("stop_reason"), bad) or None, structured=answer is not None
        ),
        tool_calls=tuple(calls),
    )


def usage_of(usage: Mapping[str, Any], bad: ProviderResponseError) -> Usage:
    """Input counts cached tokens too (Anthropic reports them apart); output includes thinking."""
    cached = as_count(usage.get("cache_creation_input_tokens"), bad) + as_count(
        usage.get("cache_read_input_tokens"), bad
    )
    return Usage(
        input_tokens=as_count(usage.get("input_tokens"), bad) + cached,
        output_tokens=as_count(usage.get("output_tokens"), bad),
    )


class EventReader:
    """Folds the events of one streamed message into text pieces, calls and a final delta."""

    def __init__(self, provider: str, *, structured: bool) -> None:
        self._provider = provider
        self._bad = ProviderResponseError(f"{provider} sent an unreadable stream event")
        self._structured = structured
        self._model: str | None = None
        self._usage = Usage()
        self._stop_reason: str | None = None
        self._stopped = False
        self._answer_blocks: set[int] = set()
        self._calls: dict[int, tuple[str, str, list[str]]] = {}

    def feed(self, data: Any) -> StreamDelta | None:
        """Take one event's data; return the delta it completes (text, or a whole tool call)."""
        event = as_mapping(data, self._bad)
        kind = event.get("type")
        if kind == "message_start":
            message = as_mapping(event.get("message"), self._bad)
            self._model = as_text(message.get("model"), self._bad)
            self._usage = usage_of(as_mapping(message.get("usage"), self._bad), self._bad)
        elif kind == "content_block_start":
            self._start(self._index(event), as_mapping(event.get("content_block"), self._bad))
        elif kind == "content_block_delta":
            piece = self._piece(self._index(event), as_mapping(event.get("delta"), self._bad))
            return StreamDelta(text=piece) if piece else None
        elif kind == "content_block_stop" and self._index(event) in self._calls:
            return StreamDelta(tool_calls=(self._call(self._index(event)),))
        elif kind == "message_delta":
            self._delta(event)
        elif kind == "message_stop":
            self._stopped = True
        return None

    def final(self) -> StreamDelta:
        """The last delta: finish reason, usage and the model as the vendor reported it."""
        if self._model is None or not self._stopped:
            raise ProviderResponseError(f"{self._provider}'s stream ended before message_stop")
        structured = bool(self._answer_blocks)
        return StreamDelta(
            model=self._model,
            finish_reason=finish_reason(self._stop_reason, structured=structured),
            usage=self._usage,
        )

    def _index(self, event: Mapping[str, Any]) -> int:
        index = event.get("index")
        if isinstance(index, bool) or not isinstance(index, int):
            raise self._bad
        return index

    def _start(self, index: int, block: Mapping[str, Any]) -> None:
        if block.get("type") != "tool_use":
            return
        name = as_text(block.get("name"), self._bad)
        if self._structured and name == STRUCTURED_TOOL:
            self._answer_blocks.add(index)
        else:
            self._calls[index] = (as_text(block.get("id"), self._bad), name, [])

    def _piece(self, index: int, delta: Mapping[str, Any]) -> str:
        if delta.get("type") == "text_delta":
            return as_text(delta.get("text"), self._bad)
        if delta.get("type") != "input_json_delta":
            return ""
        fragment = as_text(delta.get("partial_json"), self._bad)
        if index in self._calls:
            self._calls[index][2].append(fragment)
        elif index in self._answer_blocks:
            return fragment  # the structured answer streams as the forced tool's JSON input
        return ""

    def _call(self, index: int) -> ToolCall:
        """The tool call of a finished ``tool_use`` block (its input came in JSON fragments)."""
        call_id, name, fragments = self._calls.pop(index)
        text = "".join(fragments)
        try:
            arguments = json.loads(text) if text else {}
        except ValueError as err:
            raise ProviderResponseError(
                f"{self._provider} streamed tool input that is not JSON"
            ) from err
        if not isinstance(arguments, dict):
            raise ProviderResponseError(
                f"{self._provider} streamed tool input that is not an object"
            )
        return ToolCall(id=call_id, name=name, arguments=arguments)

    def _delta(self, event: Mapping[str, Any]) -> None:
        self._stop_reason = as_text(
            as_mapping(event.get("delta"), self._bad).get("stop_reason"), self._bad
        )
        usage = as_mapping(event.get("usage") or {}, self._bad)
        output = as_count(usage.get("output_tokens"), self._bad)
        if usage.get("input_tokens") is not None:
            # message_delta counts are cumulative and, when present, authoritative.
            self._usage = usage_of(usage, self._bad)
        else:
            self._usage = Usage(input_tokens=self._usage.input_tokens, output_tokens=output)
