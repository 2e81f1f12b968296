"""Tools in OpenAI's chat-completions wire format, both ways.

Requests: ``tools: [{type: "function", function: {name, description?, parameters?, strict?}}]``,
``tool_choice`` (``none``/``auto``/``required``/``{type: "function", function: {name}}``),
assistant messages with ``tool_calls`` whose ``arguments`` is a JSON string, ``role: "tool"``
messages with ``tool_call_id``. Answers: ``message.tool_calls`` with the arguments as a JSON
string, and in streams ``delta.tool_calls`` items keyed by ``index``: the first names the call
(id, type, name, empty arguments), the next ones carry the arguments in pieces, as OpenAI
streams them. The checks shared by every door are in ``addon.api.tools``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import voluptuous as vol

from addon.api.tools import MAX_ID_LENGTH, check_name, invalid, tool_choice, tool_specs
from addon.models import ToolCall, ToolChoice, ToolSpec
from addon.validation import whole

ARGUMENT_PIECE: Final = 48  # characters of arguments per streamed chunk


def _function_type(value: Any) -> str:
    if value != "function":
        raise vol.Invalid("only 'function' tools are supported")
    return "function"


FUNCTION_SCHEMA = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Optional("description"): vol.Any(None, str),
        vol.Optional("parameters"): vol.Any(None, dict),
        # Accepted, not enforced: the hub checks that arguments are a JSON object only.
        vol.Optional("strict"): vol.Any(None, bool),
    }
)
TOOL_SCHEMA = vol.Schema(
    {vol.Required("type"): _function_type, vol.Required("function"): FUNCTION_SCHEMA}
)
TOOL_CHOICE_SCHEMA = vol.Any(
    None,
    vol.In(["none", "auto", "required"]),
    {vol.Required("type"): "function", vol.Required("function"): {vol.Required("name"): str}},
    msg="must be 'none', 'auto', 'required' or {'type': 'function', 'function': {'name': ...}}",
)
TOOL_CALL_SCHEMA = vol.Schema(
    {
        vol.Required("id"): str,
        vol.Optional("type"): _function_type,
        # Clients that keep a streamed answer send its call positions back; harmless.
        vol.Optional("index"): vol.Any(whole(), None),
        vol.Required("function"): {vol.Required("name"): str, vol.Required("arguments"): str},
    }
)


# --- requests -------------------------------------------------------------------------------
def read_tools(entries: Sequence[Mapping[str, Any]] | None) -> tuple[ToolSpec, ...]:
    """The offered tools."""
    return tool_specs([entry["function"] for entry in entries or ()], "tools", ".function")


def read_tool_choice(value: Any, tools: Sequence[ToolSpec]) -> ToolChoice | None:
    """``tool_choice`` as the hub's choice (a named function is checked against ``tools``)."""
    if isinstance(value, Mapping):
        return tool_choice("tool", value["function"]["name"], tools)
    return tool_choice(value, None, tools)


def read_tool_calls(entries: Sequence[Mapping[str, Any]], param: str) -> tuple[ToolCall, ...]:
    """An assistant message's ``tool_calls``; ``arguments`` must be a JSON object's text."""
    calls = []
    for index, entry in enumerate(entries):
        where = f"{param}.{index}"
        call_id = entry["id"]
        if not call_id.strip() or len(call_id) > MAX_ID_LENGTH:
            raise invalid(f"{where}.id", f"must be a non-empty string of at most {MAX_ID_LENGTH}")
        name = check_name(entry["function"]["name"], f"{where}.function.name")
        arguments = decode_arguments(entry["function"]["arguments"], f"{where}.function.arguments")
        calls.append(ToolCall(id=call_id, name=name, arguments=arguments))
    return tuple(calls)


def decode_arguments(text: str, param: str) -> dict[str, Any]:
    """The arguments object from its JSON text (blank means no arguments)."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as err:
        raise invalid(param, f"is not valid JSON ({err})") from err
    if not isinstance(value, dict):
        raise invalid(param, "must be a JSON object")
    return value


# --- answers --------------------------------------------------------------------------------
def encode_arguments(call: ToolCall) -> str:
    """The arguments as OpenAI sends them: compact JSON text."""
    return json.dumps(dict(call.arguments), ensure_ascii=False, separators=(",", ":"))


def message_tool_calls(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    """``message.tool_calls`` of a ``chat.completion``."""
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": encode_arguments(call)},
        }
        for call in calls
    ]


def stream_tool_deltas(call: ToolCall, index: int) -> list[dict[str, Any]]:
    """The ``delta`` objects that stream one complete call as choice tool call ``index``."""
    header = {
        "index": index,
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }
    text = encode_arguments(call)
    pieces = [text[i : i + ARGUMENT_PIECE] for i in range(0, len(text), ARGUMENT_PIECE)]
    return [{"tool_calls": [header]}] + [
        {"tool_calls": [{"index": index, "function": {"arguments": piece}}]} for piece in pieces
    ]
