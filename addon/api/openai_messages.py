"""OpenAI chat-completions messages: their schema and conversion to the hub's messages.

Roles ``system``/``developer``, ``user``, ``assistant`` and ``tool``; content as text or parts
(``text``, ``image_url`` with a ``data:`` URL, user messages only); assistant ``tool_calls`` and
the ``tool_call_id`` of results (``openai_tools`` reads them). Images of every user message ride
on the last question, where the hub's image pipeline attaches them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any, Final

import voluptuous as vol

from addon.api.openai_tools import TOOL_CALL_SCHEMA, read_tool_calls
from addon.api.schemas import MAX_IMAGES
from addon.api.tools import MAX_TOOLS, link_tool_results
from addon.errors import InvalidRequestError
from addon.models import DETAILS, Message, RawImage, Role

ROLES: Final = {"system": Role.SYSTEM, "developer": Role.SYSTEM, "user": Role.USER}
ROLES_WITH_ASSISTANT: Final = {**ROLES, "assistant": Role.ASSISTANT, "tool": Role.TOOL}


def invalid(message: str, param: str | None = None) -> InvalidRequestError:
    """An ``invalid_request`` carrying the offending OpenAI parameter."""
    return InvalidRequestError(f"Invalid request: {message}", param=param)


def legacy(instead: str) -> Callable[[Any], Any]:
    """Refuse OpenAI's deprecated function-calling fields, naming their replacement."""

    def check(value: Any) -> Any:
        if value:
            raise vol.Invalid(
                f"the deprecated function-calling fields are not supported: {instead}"
            )
        return value

    return check


def _role(value: Any) -> str:
    if not isinstance(value, str):
        raise vol.Invalid(f"must be one of {', '.join(ROLES_WITH_ASSISTANT)}")
    if value == "function":
        raise vol.Invalid("deprecated function messages are not supported: use role 'tool'")
    if value not in ROLES_WITH_ASSISTANT:
        raise vol.Invalid(f"must be one of {', '.join(ROLES_WITH_ASSISTANT)}")
    return str(value)


PART_SCHEMAS: Final[Mapping[str, vol.Schema]] = {
    "text": vol.Schema({vol.Required("type"): "text", vol.Required("text"): str}),
    "image_url": vol.Schema(
        {
            vol.Required("type"): "image_url",
            vol.Required("image_url"): {
                vol.Required("url"): str,
                vol.Optional("detail"): vol.Any(None, vol.In(DETAILS)),
            },
        }
    ),
}


def _part(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise vol.Invalid("must be a content part object")
    kind = value.get("type")
    schema = PART_SCHEMAS.get(kind) if isinstance(kind, str) else None
    if schema is None:
        raise vol.Invalid(f"content part type {kind!r} is not supported (use text or image_url)")
    part: dict[str, Any] = schema(value)
    return part


MESSAGE_SCHEMA = vol.Schema(
    {
        vol.Required("role"): _role,
        vol.Optional("content"): vol.Any(None, str, vol.All([_part], vol.Length(min=1))),
        vol.Optional("name"): vol.Any(None, str),
        vol.Optional("refusal"): vol.Any(None, str),
        vol.Optional("tool_calls"): vol.Any(
            None, vol.All([TOOL_CALL_SCHEMA], vol.Length(max=MAX_TOOLS))
        ),
        vol.Optional("tool_call_id"): vol.Any(None, str),
        vol.Optional("function_call"): legacy("use tool_calls"),
    }
)


def convert_messages(
    raw: list[dict[str, Any]],
) -> tuple[tuple[Message, ...], tuple[RawImage, ...], str | None]:
    """Messages, the images of user messages (in order), and the first ``detail`` asked for.

    The hub's image pipeline prepares images per provider and attaches them to the last user
    message, so images from earlier turns travel with the latest question. Tool results are
    checked against the calls they answer.
    """
    messages: list[Message] = []
    images: list[RawImage] = []
    details: list[str] = []
    for index, entry in enumerate(raw):
        role = ROLES_WITH_ASSISTANT[entry["role"]]
        content = entry.get("content")
        if content is None and role is not Role.ASSISTANT:
            raise invalid(f"messages.{index}.content is required", f"messages.{index}.content")
        if isinstance(content, list):
            content = _parts_text(index, entry["role"], content, images, details)
        messages.append(_message(index, entry, role, content or ""))
    if len(images) > MAX_IMAGES:
        raise invalid(f"at most {MAX_IMAGES} images per request", "messages")
    return link_tool_results(messages), tuple(images), details[0] if details else None


def _message(index: int, entry: Mapping[str, Any], role: Role, content: str) -> Message:
    """One message with its tool fields (calls on assistant turns, the call id on results)."""
    calls = entry.get("tool_calls") or ()
    if calls and role is not Role.ASSISTANT:
        param = f"messages.{index}.tool_calls"
        raise invalid(f"{param}: only assistant messages carry tool calls", param)
    call_id = entry.get("tool_call_id")
    if call_id is not None and role is not Role.TOOL:
        param = f"messages.{index}.tool_call_id"
        raise invalid(f"{param}: only tool messages answer a tool call", param)
    return Message(
        role=role,
        content=content,
        tool_calls=read_tool_calls(calls, f"messages.{index}.tool_calls"),
        tool_call_id=call_id or None,
    )


def _parts_text(
    index: int, role: str, parts: list[dict[str, Any]], images: list[RawImage], details: list[str]
) -> str:
    texts: list[str] = []
    for position, part in enumerate(parts):
        if part["type"] == "text":
            texts.append(part["text"])
            continue
        param = f"messages.{index}.content.{position}.image_url.url"
        if role != "user":
            raise invalid(f"images can only be sent in user messages ({param})", param)
        image_url = part["image_url"]
        images.append(decode_data_url(image_url["url"], param))
        if image_url.get("detail"):
            details.append(image_url["detail"])
    return "\n".join(texts)


def decode_data_url(url: str, param: str) -> RawImage:
    """An image from a ``data:<type>;base64,<data>`` URL; other URLs are refused for now."""
    if url.startswith(("http://", "https://")):
        raise invalid(
            f"{param}: image URLs are not supported yet; send the image inline as a data URL "
            "(data:image/jpeg;base64,...)",
            param,
        )
    header, comma, payload = url.partition(",")
    if not url.startswith("data:") or not comma or not header.endswith(";base64"):
        raise invalid(f"{param}: must be a base64 data URL (data:image/jpeg;base64,...)", param)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as err:
        raise invalid(f"{param}: the data URL is not valid base64", param) from err
    if not data:
        raise invalid(f"{param}: the image is empty", param)
    declared = header[5:].split(";")[0] or None
    return RawImage(data=data, declared_type=declared)
