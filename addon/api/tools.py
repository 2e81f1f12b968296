"""Edge validation of tools, shared by every door (native API, OpenAI- and Ollama-compatible).

Each door reads its own wire format into the hub's vocabulary (``ToolSpec``, ``ToolChoice``,
``Message`` with ``tool_calls`` or ``Role.TOOL``); the checks that do not depend on the wire
live here, so the three doors refuse the same mistakes with the same words:

* tool names match ``^[a-zA-Z0-9_-]{1,64}$`` (what every vendor accepts) and are unique;
* parameters are a JSON-schema object describing an object;
* a named tool choice names an offered tool; ``required`` or a named choice needs tools;
* a conversation has a turn besides system instructions;
* a tool result answers a call of the assistant turn right before it (by id; without an id by
  tool name, else in order), each call is answered once, and no call is left unanswered when
  the conversation moves on. The result's ``tool_name`` is filled from the call it answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from addon.errors import InvalidRequestError
from addon.models import Message, Role, ToolCall, ToolChoice, ToolChoiceMode, ToolSpec

TOOL_NAME: Final = re.compile(r"[a-zA-Z0-9_-]{1,64}")
MAX_TOOLS: Final = 128
MAX_ID_LENGTH: Final = 256


def invalid(param: str, message: str) -> InvalidRequestError:
    """An ``invalid_request`` naming the offending field (``param``, as OpenAI's errors do)."""
    return InvalidRequestError(f"Invalid request: {param}: {message}", param=param)


def check_name(name: Any, param: str) -> str:
    """A tool name every vendor accepts."""
    if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
        raise invalid(param, "a tool name is 1-64 letters, digits, '_' or '-'")
    return name


def check_parameters(schema: Any, param: str) -> dict[str, Any]:
    """A JSON schema of an object (``{}`` means no parameters)."""
    if schema is None:
        return {}
    if not isinstance(schema, dict):
        raise invalid(param, "must be a JSON-schema object")
    if not schema:
        return {}
    kind = schema.get("type", "object")
    if kind != "object":
        raise invalid(param, f"must describe an object (type 'object'), not {kind!r}")
    # Imported on first use, as in ``addon.structure``: not needed to start.
    from jsonschema import Draft202012Validator, SchemaError, validators

    validator = validators.validator_for(schema, default=Draft202012Validator)
    try:
        validator.check_schema(schema)
    except SchemaError as err:
        where = ".".join(str(p) for p in err.path)
        raise invalid(
            f"{param}.{where}" if where else param, f"not a valid JSON schema: {err.message}"
        ) from err
    return schema


def tool_specs(
    entries: Sequence[Mapping[str, Any]], param: str = "tools", inner: str = ""
) -> tuple[ToolSpec, ...]:
    """Tool definitions from ``{name, description?, parameters?}`` entries.

    The fields of entry ``i`` are reported as ``<param>.<i><inner>.<field>`` (``inner`` is e.g.
    ``.function`` where a wire format nests them).
    """
    if len(entries) > MAX_TOOLS:
        raise invalid(param, f"at most {MAX_TOOLS} tools per request")
    specs: list[ToolSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{param}.{index}{inner}"
        name = check_name(entry.get("name"), f"{where}.name")
        if name in seen:
            raise invalid(f"{where}.name", f"tool {name!r} is defined twice")
        seen.add(name)
        description = entry.get("description") or ""
        if not isinstance(description, str):
            raise invalid(f"{where}.description", "must be a string")
        parameters = check_parameters(entry.get("parameters"), f"{where}.parameters")
        specs.append(ToolSpec(name=name, description=description, parameters=parameters))
    return tuple(specs)


def tool_choice(
    mode: str | None, name: str | None, tools: Sequence[ToolSpec], param: str = "tool_choice"
) -> ToolChoice | None:
    """The caller's tool choice, checked against the offered tools (None: not given)."""
    if mode is None:
        return None
    choice = ToolChoice(ToolChoiceMode(mode), name)
    if choice.mode is ToolChoiceMode.TOOL:
        if name not in {spec.name for spec in tools}:
            raise invalid(param, f"names tool {name!r}, which is not among the offered tools")
    elif choice.mode is ToolChoiceMode.REQUIRED and not tools:
        raise invalid(param, "'required' needs at least one tool in 'tools'")
    return choice


def tool_call(entry: Mapping[str, Any], param: str) -> ToolCall:
    """One assistant tool call ``{id, name, arguments: object}``."""
    call_id = entry.get("id")
    if not isinstance(call_id, str) or not call_id.strip() or len(call_id) > MAX_ID_LENGTH:
        raise invalid(f"{param}.id", f"must be a non-empty string of at most {MAX_ID_LENGTH}")
    name = check_name(entry.get("name"), f"{param}.name")
    arguments = entry.get("arguments")
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise invalid(f"{param}.arguments", "must be a JSON object")
    return ToolCall(id=call_id, name=name, arguments=arguments)


@dataclass(slots=True)
class _OpenTurn:
    """The calls of the latest assistant turn that still wait for their results."""

    index: int
    waiting: list[ToolCall] = field(default_factory=list)


def link_tool_results(messages: Sequence[Message], param: str = "messages") -> tuple[Message, ...]:
    """Check the tool conversation and name every result's call and tool.

    ``param`` names the messages field in errors (positions count in ``messages``). A
    conversation of system instructions alone is refused too: there is nothing to answer.
    """
    if not any(message.role is not Role.SYSTEM for message in messages):
        raise invalid(param, "needs a user, assistant or tool message besides system instructions")
    linked: list[Message] = []
    turn: _OpenTurn | None = None
    for index, message in enumerate(messages):
        if message.role is Role.TOOL:
            if turn is None:
                raise invalid(
                    f"{param}.{index}",
                    "a tool result must follow an assistant message with tool_calls",
                )
            linked.append(_answer(turn, message, f"{param}.{index}"))
            continue
        _close(turn, param)
        turn = None
        if message.tool_calls:
            _unique_ids(message.tool_calls, f"{param}.{index}.tool_calls")
            turn = _OpenTurn(index, list(message.tool_calls))
        linked.append(message)
    _close(turn, param)
    return tuple(linked)


def _answer(turn: _OpenTurn, message: Message, param: str) -> Message:
    call = _match(turn, message, param)
    if message.tool_name is not None and message.tool_name != call.name:
        raise invalid(
            f"{param}.name", f"{message.tool_name!r} is not {call.name!r}, the tool of {call.id!r}"
        )
    turn.waiting.remove(call)
    return replace(message, tool_call_id=call.id, tool_name=call.name)


def _match(turn: _OpenTurn, message: Message, param: str) -> ToolCall:
    if message.tool_call_id is not None:
        for call in turn.waiting:
            if call.id == message.tool_call_id:
                return call
        raise invalid(
            f"{param}.tool_call_id",
            f"{message.tool_call_id!r} answers no open tool call of message {turn.index} "
            f"(waiting: {_names(turn.waiting, ids=True)})",
        )
    for call in turn.waiting:
        if message.tool_name in (None, call.name):
            return call
    raise invalid(
        param,
        f"answers no open tool call of message {turn.index} "
        f"(waiting: {_names(turn.waiting, ids=False)})",
    )


def _close(turn: _OpenTurn | None, param: str) -> None:
    if turn is not None and turn.waiting:
        raise invalid(
            f"{param}.{turn.index}.tool_calls",
            f"tool call(s) {_names(turn.waiting, ids=True)} have no tool result; send one "
            "tool message per call right after the assistant message",
        )


def _unique_ids(calls: Sequence[ToolCall], param: str) -> None:
    ids = [call.id for call in calls]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise invalid(param, f"tool call ids must be unique ({', '.join(duplicates)})")


def _names(calls: Sequence[ToolCall], *, ids: bool) -> str:
    if not calls:
        return "none"
    return ", ".join(f"{c.id} ({c.name})" if ids else c.name for c in calls)
