"""Tool calling shared by the providers: the checks every vendor makes, ids, the parallel switch.

Every vendor refuses the same malformed tool conversations (parameters that are not an object
schema, a result that answers no call, a call left without a result); ``check_tool_request``
refuses them before anything is sent, as the caller's error (``invalid_request``), so no
provider is blamed for them. Ids are the hub's to keep: a call id from one vendor is mapped,
deterministically, to what another vendor accepts (``vendor_id``), so a conversation can move
between vendors; vendors that give no ids get fresh unique ones (``new_call_id``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, Final

from addon.errors import InvalidRequestError
from addon.models import ChatRequest, Message, Role, ToolCall, ToolSpec

EMPTY_OBJECT: Final[Mapping[str, Any]] = {"type": "object", "properties": {}}
_HASH_CHARS: Final = 24

__all__ = [
    "check_tool_request",
    "first_call_only",
    "new_call_id",
    "object_schema",
    "tool_names",
    "vendor_id",
]


def check_tool_request(request: ChatRequest) -> None:
    """Refuse tool definitions and tool conversations that no vendor accepts."""
    for index, spec in enumerate(request.tools):
        object_schema(spec, where=f"tools[{index}]")
    _check_history(request.messages)


def object_schema(spec: ToolSpec, *, where: str = "tools") -> dict[str, Any]:
    """The tool's parameters as an object schema (vendors take nothing else at the root)."""
    schema = dict(spec.parameters)
    if not schema:
        return dict(EMPTY_OBJECT)
    kind = schema.get("type", "object")
    if kind != "object":
        raise InvalidRequestError(
            f"{where}.parameters: tool {spec.name!r} must take an object schema "
            f"(type: object), not type {kind!r}",
            param=f"{where}.parameters",
        )
    return {"type": "object", **schema}


def _check_history(messages: Sequence[Message]) -> None:
    """Each assistant turn's calls answered by the tool messages right after it, and only them."""
    pending: dict[str, str] = {}
    for index, message in enumerate(messages):
        if message.role is Role.TOOL:
            if message.tool_call_id not in pending:
                raise InvalidRequestError(
                    f"messages[{index}]: a tool result must answer a call of the assistant "
                    f"message before it (tool_call_id {message.tool_call_id!r} is not one)",
                    param=f"messages[{index}].tool_call_id",
                )
            del pending[message.tool_call_id]
            continue
        if message.role is Role.SYSTEM:
            continue
        _no_pending(pending, index)
        pending = {call.id: call.name for call in message.tool_calls}
    _no_pending(pending, len(messages))


def _no_pending(pending: Mapping[str, str], index: int) -> None:
    if pending:
        missing = ", ".join(f"{call_id} ({name})" for call_id, name in pending.items())
        raise InvalidRequestError(
            f"messages[{index}]: every tool call needs its result (a tool message) before the "
            f"conversation goes on; missing: {missing}",
            param=f"messages[{index}]",
        )


def tool_names(messages: Sequence[Message]) -> dict[str, str]:
    """Call id -> tool name, from the assistant messages' calls."""
    return {call.id: call.name for message in messages for call in message.tool_calls}


def new_call_id() -> str:
    """A fresh call id for a vendor that gives none (unique across the conversation)."""
    return f"call_{secrets.token_hex(_HASH_CHARS // 2)}"


def vendor_id(call_id: str, *, allowed: re.Pattern[str], max_length: int, prefix: str) -> str:
    """``call_id`` unchanged when the vendor accepts it, else a stable stand-in it accepts.

    The same id always maps to the same stand-in, so a call and its result still match.
    """
    if call_id and len(call_id) <= max_length and allowed.fullmatch(call_id):
        return call_id
    digest = hashlib.sha256(call_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{prefix}{digest[:_HASH_CHARS]}"


def first_call_only(calls: tuple[ToolCall, ...], request: ChatRequest) -> tuple[ToolCall, ...]:
    """At most one call when the caller turned parallel calls off (vendors without a switch)."""
    return calls[:1] if request.parallel_tool_calls is False else calls
