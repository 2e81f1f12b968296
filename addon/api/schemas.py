"""Edge validation of chat and vision requests (voluptuous), and their conversion to models."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Final

import voluptuous as vol

from addon.api.security import parse_json
from addon.api.tools import (
    MAX_TOOLS,
    check_name,
    invalid,
    link_tool_results,
    tool_call,
    tool_choice,
    tool_specs,
)
from addon.errors import InvalidRequestError
from addon.models import (
    DETAILS,
    ChatRequest,
    HubRequest,
    Message,
    RawImage,
    Role,
    ToolChoice,
    ToolSpec,
)
from addon.settings import STRATEGIES
from addon.validation import caller_tag, humanize, number, whole

MAX_IMAGES: Final = 10
MAX_MESSAGES: Final = 200


def _non_blank(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("must be a non-empty string")
    return value


def _json_schema(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise vol.Invalid(
            "must be a JSON schema object, e.g. {'type': 'object', 'properties': ...}"
        )
    if "type" not in value and "properties" not in value and "anyOf" not in value:
        raise vol.Invalid("must be a JSON schema: give at least 'type' or 'properties'")
    return value


TOOL_CALL_SCHEMA = vol.Schema(
    {
        vol.Required("id"): str,
        vol.Required("name"): str,
        vol.Optional("arguments"): vol.Any(None, dict),
    }
)

MESSAGE_SCHEMA = vol.Schema(
    {
        vol.Required("role"): vol.In([r.value for r in Role]),
        vol.Optional("content"): vol.Any(None, str),
        vol.Optional("tool_calls"): vol.All([TOOL_CALL_SCHEMA], vol.Length(max=MAX_TOOLS)),
        vol.Optional("tool_call_id"): vol.Any(None, str),
        vol.Optional("name"): vol.Any(None, str),
    }
)

TOOL_SCHEMA = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Optional("description"): vol.Any(None, str),
        vol.Optional("parameters"): vol.Any(None, dict),
    }
)

TOOL_CHOICE_SCHEMA = vol.Any(
    None,
    vol.In(["auto", "none", "required"]),
    {vol.Required("name"): str},
    msg="must be 'auto', 'none', 'required' or {'name': <tool>}",
)

COMMON_FIELDS: Final[dict[vol.Marker, Any]] = {
    vol.Optional("prompt"): _non_blank,
    vol.Optional("messages"): vol.All([MESSAGE_SCHEMA], vol.Length(min=1, max=MAX_MESSAGES)),
    vol.Optional("system"): str,
    vol.Optional("provider"): vol.Any(None, _non_blank),
    vol.Optional("model"): vol.Any(None, _non_blank),
    vol.Optional("max_tokens"): vol.Any(whole(1, 1_000_000), None),
    vol.Optional("temperature"): vol.Any(number(0, 2), None),
    vol.Optional("stop"): vol.All([str], vol.Length(max=4)),
    vol.Optional("structure"): vol.Any(None, _json_schema),
    vol.Optional("tag"): vol.Any(caller_tag, None),
    vol.Optional("strategy"): vol.Any(None, vol.In(STRATEGIES)),
    vol.Optional("cache"): bool,
    vol.Optional("stream"): bool,
    vol.Optional("tools"): vol.All([TOOL_SCHEMA], vol.Length(max=MAX_TOOLS)),
    vol.Optional("tool_choice"): TOOL_CHOICE_SCHEMA,
    vol.Optional("parallel_tool_calls"): vol.Any(None, bool),
}

IMAGE_SCHEMA = vol.Schema(
    {vol.Required("data"): _non_blank, vol.Optional("mime_type"): vol.Any(None, str)}
)

CHAT_SCHEMA = vol.Schema(COMMON_FIELDS)
# Multipart vision requests carry their images as file parts, so only the fields are checked.
VISION_FORM_SCHEMA = vol.Schema(
    {**COMMON_FIELDS, vol.Optional("detail"): vol.Any(None, vol.In(DETAILS))}
)
VISION_SCHEMA = VISION_FORM_SCHEMA.extend(
    {vol.Required("images"): vol.All([IMAGE_SCHEMA], vol.Length(min=1, max=MAX_IMAGES))}
)

# Multipart form fields arrive as text: these are decoded before validation.
FORM_CONVERTERS: Final[Mapping[str, Any]] = {
    "messages": parse_json,
    "structure": parse_json,
    "stop": parse_json,
    "tools": parse_json,
    "tool_choice": lambda v: parse_json(v) if v.lstrip().startswith("{") else v.strip(),
    "parallel_tool_calls": lambda v: v.strip().lower() in ("1", "true", "yes", "on"),
    "max_tokens": int,
    "temperature": float,
    "cache": lambda v: v.strip().lower() in ("1", "true", "yes", "on"),
    "stream": lambda v: v.strip().lower() in ("1", "true", "yes", "on"),
}


def validate_object(schema: vol.Schema, body: Any) -> dict[str, Any]:
    """Validate a JSON object ``body`` against ``schema``; errors say which field to fix."""
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object")
    try:
        data: dict[str, Any] = schema(body)
    except vol.Invalid as err:
        raise InvalidRequestError(f"Invalid request: {humanize(err)}") from err
    return data


def validate(schema: vol.Schema, body: Any) -> dict[str, Any]:
    """Validate a chat or vision request ``body``: the schema, and a prompt or messages."""
    data = validate_object(schema, body)
    if "prompt" not in data and "messages" not in data:
        raise InvalidRequestError("Invalid request: give 'prompt' or 'messages'")
    return data


def convert_form_field(name: str, value: str) -> Any:
    """Decode one multipart form field into its JSON type."""
    converter = FORM_CONVERTERS.get(name)
    if converter is None:
        return value
    try:
        return converter(value)
    except (ValueError, InvalidRequestError) as err:
        raise InvalidRequestError(f"Invalid request: form field {name!r} is malformed") from err


def decode_image(index: int, entry: Mapping[str, Any]) -> RawImage:
    """Decode one ``{data: base64 | data URL, mime_type?}`` entry."""
    text: str = entry["data"]
    declared = entry.get("mime_type")
    if text.startswith("data:"):
        header, _, text = text.partition(",")
        declared = declared or header[5:].split(";")[0] or None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidRequestError(
            f"Invalid request: images.{index}.data is not valid base64"
        ) from err
    if not data:
        raise InvalidRequestError(f"Invalid request: images.{index}.data is empty")
    return RawImage(data=data, declared_type=declared)


def to_hub_request(
    data: Mapping[str, Any], request_id: str, images: tuple[RawImage, ...] = ()
) -> HubRequest:
    """Build the manager's request from validated fields."""
    tools = tool_specs(data.get("tools") or ())
    chat = ChatRequest(
        messages=conversation(data),
        model=data.get("model") or "",
        max_tokens=data.get("max_tokens"),
        temperature=data.get("temperature"),
        stop=tuple(data.get("stop", ())),
        json_schema=data.get("structure"),
        tools=tools,
        tool_choice=native_tool_choice(data.get("tool_choice"), tools),
        parallel_tool_calls=data.get("parallel_tool_calls"),
    )
    return HubRequest(
        chat=chat,
        request_id=request_id,
        images=images,
        provider=data.get("provider"),
        tag=data.get("tag"),
        strategy=data.get("strategy"),
        detail=data.get("detail"),
        cache=data.get("cache"),
    )


def conversation(data: Mapping[str, Any]) -> tuple[Message, ...]:
    """``system``, ``messages`` and ``prompt`` as one checked conversation.

    A leading ``system`` comes first and ``prompt`` last, so the positions in errors about
    ``messages`` are shifted by one when ``system`` is given; errors name the field.
    """
    messages: list[Message] = []
    if data.get("system"):
        messages.append(Message(role=Role.SYSTEM, content=data["system"]))
    offset = len(messages)
    messages.extend(native_message(i, m) for i, m in enumerate(data.get("messages", [])))
    if data.get("prompt"):
        messages.append(Message(role=Role.USER, content=data["prompt"]))
    checked = link_tool_results(messages[offset:], "messages")
    return (*messages[:offset], *checked)


def native_message(index: int, entry: Mapping[str, Any]) -> Message:
    """One native message; tool fields only where their role allows them."""
    role = Role(entry["role"])
    param = f"messages.{index}"
    calls = tuple(
        tool_call(call, f"{param}.tool_calls.{n}")
        for n, call in enumerate(entry.get("tool_calls", ()))
    )
    content = entry.get("content")
    if content is None and not (role is Role.ASSISTANT and calls):
        raise invalid(f"{param}.content", "is required")
    if calls and role is not Role.ASSISTANT:
        raise invalid(f"{param}.tool_calls", "only assistant messages carry tool calls")
    call_id, name = entry.get("tool_call_id"), entry.get("name")
    if role is not Role.TOOL and (call_id is not None or name is not None):
        key = "tool_call_id" if call_id is not None else "name"
        raise invalid(f"{param}.{key}", "only tool messages answer a tool call")
    if call_id is not None and not call_id.strip():
        raise invalid(f"{param}.tool_call_id", "must not be empty")
    return Message(
        role=role,
        content=content or "",
        tool_calls=calls,
        tool_call_id=call_id,
        tool_name=None if name is None else check_name(name, f"{param}.name"),
    )


def native_tool_choice(
    value: str | Mapping[str, str] | None, tools: tuple[ToolSpec, ...]
) -> ToolChoice | None:
    """``auto`` / ``none`` / ``required`` / ``{"name": tool}`` as the hub's tool choice."""
    if isinstance(value, Mapping):
        return tool_choice("tool", value["name"], tools)
    return tool_choice(value, None, tools)
