"""Reading OpenAI's Chat Completions answers from their JSON (SDK-free, pure functions).

A one-shot answer is decoded once from its bytes and read here, instead of being built into
the SDK's typed objects first; anything that is not the documented shape is a
``ProviderResponseError``, never an exception from the hub's own code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from addon.errors import ProviderResponseError
from addon.models import ChatResponse, FinishReason, ToolCall, Usage
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
    text = _text(message.get("content"), unreadable)
    finish = finish_reason(_text(choice.get("finish_reason"), unreadable) or None)
    refusal = _text(message.get("refusal"), unreadable)
    if not text and refusal:
        text, finish = refusal, FinishReason.CONTENT_FILTER
    return ChatResponse(
        text=text,
        model=_text(body.get("model"), unreadable),
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
    return Usage(
        input_tokens=_count(usage.get("prompt_tokens"), provider),
        output_tokens=_count(usage.get("completion_tokens"), provider),
    )


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
                id=_text(call.get("id"), unreadable) or new_call_id(),  # some servers send none
                name=function["name"],
                arguments=parse_arguments(_text(function.get("arguments"), unreadable), provider),
            )
        )
    return tuple(out)


def _text(value: Any, unreadable: ProviderResponseError) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise unreadable
    return value


def _count(value: Any, provider: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProviderResponseError(f"{provider} sent an unreadable token count")
    return value
