"""Reading OpenAI's Chat Completions answers from their JSON (SDK-free).

A one-shot answer is decoded once from its bytes and read here, and so is each chunk of a
stream, instead of being built into the SDK's typed objects first; anything that is not the
documented shape is a ``ProviderResponseError``, never an exception from the hub's own code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from addon.errors import ProviderResponseError
from addon.models import ChatResponse, FinishReason, StreamDelta, ToolCall, Usage
from addon.providers.json_fields import as_count, as_text
from addon.providers.tooling import new_call_id

FINISH_REASONS: Final = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
}


def finish_reason(reason: str | None) -> FinishReason:
    """The hub's finish reason for OpenAI's (unknown ones are ``other``)."""
    return FINISH_REASONS.get(reason or "", FinishReason.OTHER)


def parse_arguments(text: str | None, provider: str) -> dict[str, Any]:
    """A call's arguments: a JSON object in a string (empty means no arguments)."""
    try:
        arguments = json.loads(text or "{}")
    except ValueError as err:
        raise ProviderResponseError(
            f"{provider} sent tool call arguments that are not JSON"
        ) from err
    if not isinstance(arguments, dict):
        raise ProviderResponseError(f"{provider} sent tool call arguments that are not an object")
    return arguments


def completion_response(body: Any, provider: str) -> ChatResponse:
    """The hub's answer from a decoded ``chat.completion`` object."""
    unreadable = ProviderResponseError(f"{provider} sent an unreadable answer")
    if not isinstance(body, Mapping):
        raise unreadable
    choices = body.get("choices")
    if not choices:
        raise ProviderResponseError(f"{provider} answered without a choice")
    choice = choices[0] if isinstance(choices, list) else None
    if not isinstance(choice, Mapping) or not isinstance(message := choice.get("message"), Mapping):
        raise unreadable
    text = as_text(message.get("content"), unreadable)
    finish = finish_reason(as_text(choice.get("finish_reason"), unreadable) or None)
    refusal = as_text(message.get("refusal"), unreadable)
    if not text and refusal:
        text, finish = refusal, FinishReason.CONTENT_FILTER
    return ChatResponse(
        text=text,
        model=as_text(body.get("model"), unreadable),
        usage=usage_of(body.get("usage"), provider),
        finish_reason=finish,
        tool_calls=_tool_calls(message.get("tool_calls"), provider, unreadable),
    )


def usage_of(usage: Any, provider: str) -> Usage:
    """OpenAI's ``completion_tokens`` already include the reasoning tokens."""
    if usage is None:
        return Usage()
    if not isinstance(usage, Mapping):
        raise ProviderResponseError(f"{provider} sent an unreadable answer")
    bad = ProviderResponseError(f"{provider} sent an unreadable token count")
    return Usage(
        input_tokens=as_count(usage.get("prompt_tokens"), bad),
        output_tokens=as_count(usage.get("completion_tokens"), bad),
    )


def stream_error(chunk: Any) -> str | None:
    """The message of an ``{"error": ...}`` event inside a stream (as the SDK reads one)."""
    if not isinstance(chunk, Mapping) or not chunk.get("error"):
        return None
    error = chunk["error"]
    message = error.get("message") if isinstance(error, Mapping) else None
    return message if isinstance(message, str) and message else "An error occurred during streaming"


class ChunkReader:
    """The hub's deltas from a stream of ``chat.completion.chunk`` objects (first choice)."""

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._unreadable = ProviderResponseError(f"{provider} sent an unreadable stream chunk")
        self._calls = CallAssembler(provider)
        self._finish: FinishReason | None = None
        self._model = ""
        self.usage: Usage | None = None
        self.chunks = 0

    def feed(self, chunk: Any) -> list[StreamDelta]:
        """The deltas of one chunk: text, and the tool calls once the choice finished."""
        if not isinstance(chunk, Mapping) or not isinstance(chunk.get("choices", []), list):
            raise self._unreadable
        self.chunks += 1
        self._model = as_text(chunk.get("model"), self._unreadable) or self._model
        if chunk.get("usage") is not None:
            self.usage = usage_of(chunk["usage"], self._provider)
        out: list[StreamDelta] = []
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, Mapping) or not isinstance(choice.get("delta", {}), Mapping):
                raise self._unreadable
            if choice.get("index", 0) == 0:
                out += self._choice(choice)
        return out

    def end(self, model: str) -> list[StreamDelta]:
        """The last deltas: calls never said complete, then the finish, usage and model."""
        if not self.chunks:  # e.g. a JSON or HTML body where events were due: not an empty answer
            raise ProviderResponseError(f"{self._provider} sent a stream without a single event")
        out = [StreamDelta(tool_calls=calls)] if (calls := self._calls.complete()) else []
        finish = self._finish or FinishReason.OTHER
        out.append(StreamDelta(finish_reason=finish, usage=self.usage, model=self._model or model))
        return out

    def _choice(self, choice: Mapping[str, Any]) -> list[StreamDelta]:
        delta = choice.get("delta") or {}
        self._calls.add(delta.get("tool_calls") or (), self._unreadable)
        out = []
        if content := as_text(delta.get("content"), self._unreadable):
            out.append(StreamDelta(text=content))
        elif refusal := as_text(delta.get("refusal"), self._unreadable):
            self._finish = FinishReason.CONTENT_FILTER
            out.append(StreamDelta(text=refusal))
        if reason := as_text(choice.get("finish_reason"), self._unreadable):
            self._finish = self._finish or finish_reason(reason)
            if calls := self._calls.complete():
                out.append(StreamDelta(tool_calls=calls))
        return out


class CallAssembler:
    """Collects streamed tool calls: id and name first, then argument fragments, by ``index``."""

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._calls: dict[int, tuple[str, str, list[str]]] = {}

    def add(self, fragments: Any, unreadable: ProviderResponseError) -> None:
        """Take the tool-call fragments of one chunk."""
        if not isinstance(fragments, list | tuple):
            raise unreadable
        for fragment in fragments:
            index = fragment.get("index") if isinstance(fragment, Mapping) else None
            function = fragment.get("function") if isinstance(fragment, Mapping) else None
            if not isinstance(index, int) or not isinstance(function or {}, Mapping):
                raise unreadable
            call_id, name, arguments = self._calls.get(index, ("", "", []))
            if function:
                name = name or as_text(function.get("name"), unreadable)
                arguments.append(as_text(function.get("arguments"), unreadable))
            call_id = call_id or as_text(fragment.get("id"), unreadable)
            self._calls[index] = (call_id, name, arguments)

    def complete(self) -> tuple[ToolCall, ...]:
        """Every call collected so far, once (the stream says when they are complete)."""
        calls = tuple(
            ToolCall(
                id=call_id or new_call_id(),
                name=name,
                arguments=parse_arguments("".join(arguments), self._provider),
            )
            for _, (call_id, name, arguments) in sorted(self._calls.items())
        )
        self._calls.clear()
        if any(not call.name for call in calls):
            raise ProviderResponseError(f"{self._provider} streamed a tool call without a name")
        return calls


def _tool_calls(
    calls: Any, provider: str, unreadable: ProviderResponseError
) -> tuple[ToolCall, ...]:
    if not calls:
        return ()
    if not isinstance(calls, list):
        raise unreadable
    out = []
    for call in calls:
        if not isinstance(call, Mapping):
            raise unreadable
        if call.get("type") != "function":
            continue
        function = call.get("function")
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise unreadable
        out.append(
            ToolCall(
                id=as_text(call.get("id"), unreadable) or new_call_id(),  # some servers send none
                name=function["name"],
                arguments=parse_arguments(as_text(function.get("arguments"), unreadable), provider),
            )
        )
    return tuple(out)
