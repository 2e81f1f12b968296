"""OpenAI's function calling on the Chat Completions wire, for ``FakeOpenAI``.

Definitions are ``tools: [{"type": "function", "function": {name, description, parameters}}]``
(names match ``^[a-zA-Z0-9_-]{1,64}$``, parameters are an object schema); ``tool_choice`` is
``"none" | "auto" | "required" | {"type": "function", "function": {"name"}}`` and, like
``parallel_tool_calls``, only allowed with ``tools``. An answer carries
``message.tool_calls: [{id, type: "function", function: {name, arguments}}]`` with the arguments
as a JSON *string*; a stream sends each call by ``index``: first its id, type and name with empty
arguments, then the arguments in fragments. Results come back as ``role: "tool"`` messages with
the ``tool_call_id`` of a call in the assistant message right before them, and every call must
be answered before the conversation goes on; ids are at most 40 characters. The 400s below are
the API's own wording.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from tests.fakes.tools import Choice, ToolPlan, plan_calls, split_json

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_ID_LENGTH = 40
_CHOICES = {"none": Choice.NONE, "auto": Choice.AUTO, "required": Choice.REQUIRED}

Problem = tuple[str, str | None]  # (message, param)


def tool_problem(body: Mapping[str, Any]) -> Problem | None:
    """The 400 the API answers for the tool parts of ``body``, else None."""
    return _definitions_problem(body) or _choice_problem(body) or _history_problem(body)


def _definitions_problem(body: Mapping[str, Any]) -> Problem | None:
    tools = body.get("tools")
    if tools is None:
        return None
    if not isinstance(tools, list) or not tools:
        return ("Invalid 'tools': empty array. Expected an array with minimum length 1.", "tools")
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or tool.get("type") != "function":
            return (f"Missing required parameter: 'tools[{index}].function'.", f"tools[{index}]")
        name = function.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            return (
                f"Invalid 'tools[{index}].function.name': string does not match pattern. "
                "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                f"tools[{index}].function.name",
            )
        kind = (function.get("parameters") or {"type": "object"}).get("type")
        if kind != "object":
            return (
                f"Invalid schema for function '{name}': schema must be a JSON Schema of "
                f"'type: \"object\"', got 'type: \"{kind}\"'.",
                f"tools[{index}].function.parameters",
            )
    return None


def _choice_problem(body: Mapping[str, Any]) -> Problem | None:
    tools = body.get("tools")
    for key in ("tool_choice", "parallel_tool_calls"):
        if key in body and not tools:
            return (
                f"Invalid value for '{key}': '{key}' is only allowed when 'tools' are specified.",
                key,
            )
    choice = body.get("tool_choice")
    if choice is None or (isinstance(choice, str) and choice in _CHOICES):
        return None
    name = (choice.get("function") or {}).get("name") if isinstance(choice, dict) else None
    if not isinstance(choice, dict) or choice.get("type") != "function" or not name:
        return ("Invalid value for 'tool_choice'.", "tool_choice")
    if name not in offered_tools(body):
        return (f"Invalid value for 'tool_choice': function '{name}' not found in 'tools'.", None)
    return None


def _history_problem(body: Mapping[str, Any]) -> Problem | None:
    """Each assistant ``tool_calls`` answered by the ``tool`` messages right after it."""
    pending: list[str] = []
    for index, message in enumerate(body.get("messages") or []):
        role = message.get("role")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not call_id:
                return (
                    "Missing parameter 'tool_call_id': messages with role 'tool' must have a "
                    "'tool_call_id'.",
                    f"messages.[{index}].tool_call_id",
                )
            if call_id not in pending:
                return (
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    f"messages.[{index}].role",
                )
            pending.remove(call_id)
            continue
        if pending:
            return _unanswered(pending, index - 1)
        pending = [str(call.get("id")) for call in message.get("tool_calls") or []]
        for number, call_id in enumerate(pending):
            if len(call_id) > MAX_ID_LENGTH:
                return (
                    f"Invalid 'messages[{index}].tool_calls[{number}].id': string too long. "
                    f"Expected a string with maximum length {MAX_ID_LENGTH}, but got a string "
                    f"with length {len(call_id)} instead.",
                    f"messages[{index}].tool_calls[{number}].id",
                )
    return _unanswered(pending, len(body.get("messages") or []) - 1) if pending else None


def _unanswered(pending: Sequence[str], index: int) -> Problem:
    return (
        "An assistant message with 'tool_calls' must be followed by tool messages responding to "
        "each 'tool_call_id'. The following tool_call_ids did not have response messages: "
        + ", ".join(pending),
        f"messages.[{index}].role",
    )


def offered_tools(body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Tool name -> parameter schema, as the request offers them."""
    return {
        str(tool["function"]["name"]): tool["function"].get("parameters") or {}
        for tool in body.get("tools") or []
    }


def planned_calls(body: Mapping[str, Any], script: Sequence[ToolPlan]) -> list[ToolPlan]:
    """The calls the model makes for ``body``."""
    choice = body.get("tool_choice", "auto")
    forced = None
    if isinstance(choice, dict):
        forced, mode = str(choice["function"]["name"]), Choice.TOOL
    else:
        mode = _CHOICES.get(str(choice), Choice.AUTO)
    messages = body.get("messages") or [{}]
    return plan_calls(
        offered_tools(body),
        script,
        choice=mode,
        forced=forced,
        parallel=body.get("parallel_tool_calls", True) is not False,
        answered=messages[-1].get("role") == "tool",
    )


def wire_calls(plans: Sequence[ToolPlan]) -> list[dict[str, Any]]:
    """``message.tool_calls`` for ``plans`` (ids as OpenAI makes them)."""
    return [
        {
            "id": plan.id or f"call_{secrets.token_hex(12)}",
            "type": "function",
            "function": {"name": plan.name, "arguments": json.dumps(dict(plan.arguments))},
        }
        for plan in plans
    ]


def legacy_plans(wire: Sequence[Mapping[str, Any]]) -> list[ToolPlan]:
    """Plans from wire-shaped calls (``FakeOpenAI.tool_calls``, the older way to steer)."""
    return [
        ToolPlan(
            name=str(call["function"]["name"]),
            arguments=json.loads(call["function"].get("arguments") or "{}"),
            id=call.get("id"),
        )
        for call in wire
    ]


def stream_deltas(calls: Sequence[Mapping[str, Any]], pieces: int) -> Iterator[dict[str, Any]]:
    """The ``delta`` objects that stream ``calls``: a head per index, then argument fragments."""
    for index, call in enumerate(calls):
        head = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
        yield {"tool_calls": [{"index": index, **head}]}
        arguments = json.loads(call["function"]["arguments"])
        for fragment in split_json(arguments, pieces):
            yield {"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}
