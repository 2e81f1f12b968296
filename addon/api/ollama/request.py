"""``POST /api/chat`` bodies: edge validation (voluptuous) and conversion to a ``HubRequest``.

Ollama's chat request: ``model``, ``messages`` (``role``, ``content``, ``images`` as base64,
``tool_calls`` with object arguments, ``tool_name`` on results), ``tools``, ``format`` (``"json"``
or a JSON schema), ``options``, ``stream`` (default true), ``keep_alive``, ``think``. Ollama's
tool calls carry no ids: the door numbers them by position (``call_<message>_<n>``) and tool
results answer them in order (or by ``tool_name``). Of ``options`` the hub honours
``num_predict``, ``temperature`` and ``stop``; the others (``num_ctx``, ``top_k``, ``seed``...)
tune a local runner and are ignored, as is ``think``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

import voluptuous as vol

from addon.api.ollama.names import resolve
from addon.api.openai_tools import TOOL_SCHEMA, read_tools
from addon.api.schemas import MAX_IMAGES, MAX_MESSAGES
from addon.api.tools import MAX_TOOLS, invalid, link_tool_results, tool_call
from addon.errors import InvalidRequestError
from addon.models import ChatRequest, HubRequest, Message, RawImage, Role
from addon.validation import humanize

UNLIMITED: Final = (-1, -2)  # num_predict: no cap / fill the context

TOOL_CALL_SCHEMA = vol.Schema(
    {
        vol.Optional("id"): vol.Any(None, str),
        vol.Optional("type"): vol.Any(None, "function"),
        vol.Required("function"): {
            vol.Required("name"): str,
            vol.Optional("arguments"): vol.Any(None, dict),
            vol.Optional("index"): vol.Any(None, int),
        },
    }
)
MESSAGE_SCHEMA = vol.Schema(
    {
        vol.Required("role"): vol.In([r.value for r in Role]),
        vol.Optional("content"): vol.Any(None, str),
        vol.Optional("images"): vol.Any(None, [str]),
        vol.Optional("tool_calls"): vol.Any(
            None, vol.All([TOOL_CALL_SCHEMA], vol.Length(max=MAX_TOOLS))
        ),
        vol.Optional("tool_name"): vol.Any(None, str),
        vol.Optional("tool_call_id"): vol.Any(None, str),
        vol.Optional("thinking"): vol.Any(None, str),
    }
)
OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Optional("num_predict"): vol.Any(None, vol.All(int, vol.Range(min=-2, max=1_000_000))),
        vol.Optional("temperature"): vol.Any(
            None, vol.All(vol.Coerce(float), vol.Range(min=0, max=2))
        ),
        vol.Optional("stop"): vol.Any(None, vol.All([str], vol.Length(max=4))),
    },
    extra=vol.ALLOW_EXTRA,
)
CHAT_SCHEMA = vol.Schema(
    {
        vol.Required("model"): vol.All(str, vol.Length(min=1)),
        vol.Optional("messages"): vol.Any(
            None, vol.All([MESSAGE_SCHEMA], vol.Length(max=MAX_MESSAGES))
        ),
        vol.Optional("tools"): vol.Any(None, vol.All([TOOL_SCHEMA], vol.Length(max=MAX_TOOLS))),
        vol.Optional("format"): vol.Any(None, "", "json", dict),
        vol.Optional("options"): vol.Any(None, OPTIONS_SCHEMA),
        vol.Optional("stream"): vol.Any(None, bool),
        vol.Optional("keep_alive"): vol.Any(None, str, int, float),
        vol.Optional("think"): vol.Any(None, bool, str),
        vol.Optional("logprobs"): vol.Any(None, False),
        vol.Optional("top_logprobs"): vol.Any(None, 0),
    }
)


@dataclass(frozen=True, slots=True)
class OllamaChat:
    """A validated chat request: the hub's request plus how to answer it."""

    hub_request: HubRequest | None  # None: no messages, Ollama's "load the model" call
    model: str
    stream: bool
    wants_json: bool


def validate_chat(body: Any) -> dict[str, Any]:
    """Validate the body; errors name the field."""
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object")
    try:
        data: dict[str, Any] = CHAT_SCHEMA(body)
    except vol.Invalid as err:
        raise InvalidRequestError(f"Invalid request: {humanize(err)}") from err
    return data


def to_ollama_chat(
    data: Mapping[str, Any], request_id: str, providers: Collection[str]
) -> OllamaChat:
    """Build the manager's request from a validated chat body."""
    stream = data.get("stream") is not False
    schema = json_schema_of(data.get("format"))
    if not data.get("messages"):
        return OllamaChat(None, data["model"], stream, wants_json=False)
    messages, images = convert_messages(data["messages"])
    target = resolve(data["model"], providers)
    options = data.get("options") or {}
    tools = read_tools(data.get("tools"))
    chat = ChatRequest(
        messages=messages,
        model=target.model,
        max_tokens=_max_tokens(options.get("num_predict")),
        temperature=options.get("temperature"),
        stop=tuple(options.get("stop") or ()),
        json_schema=schema,
        tools=tools,
        keep_alive=data.get("keep_alive"),
    )
    hub_request = HubRequest(
        chat=chat, request_id=request_id, images=images, provider=target.provider
    )
    return OllamaChat(hub_request, data["model"], stream, wants_json=schema is not None)


def json_schema_of(value: str | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``format``: ``"json"`` asks for a JSON object, a schema for that structure."""
    if not value:
        return None
    if value == "json":
        return {"type": "object"}
    return dict(value)  # type: ignore[arg-type]


def _max_tokens(value: int | None) -> int | None:
    if value is None or value in UNLIMITED:
        return None
    if value < 1:
        raise invalid("options.num_predict", "must be at least 1 (or -1 for no limit)")
    return value


def convert_messages(raw: list[dict[str, Any]]) -> tuple[tuple[Message, ...], tuple[RawImage, ...]]:
    """Messages, and the images of user messages in order (they ride on the last question)."""
    messages: list[Message] = []
    images: list[RawImage] = []
    for index, entry in enumerate(raw):
        role = Role(entry["role"])
        param = f"messages.{index}"
        for position, text in enumerate(entry.get("images") or ()):
            if role is not Role.USER:
                raise invalid(f"{param}.images", "images can only be sent in user messages")
            images.append(decode_image(text, f"{param}.images.{position}"))
        messages.append(_message(index, entry, role))
    if len(images) > MAX_IMAGES:
        raise invalid("messages", f"at most {MAX_IMAGES} images per request")
    return link_tool_results(messages), tuple(images)


def _message(index: int, entry: Mapping[str, Any], role: Role) -> Message:
    param = f"messages.{index}"
    calls = entry.get("tool_calls") or ()
    if calls and role is not Role.ASSISTANT:
        raise invalid(f"{param}.tool_calls", "only assistant messages carry tool calls")
    return Message(
        role=role,
        content=entry.get("content") or "",
        tool_calls=tuple(
            tool_call(
                {
                    "id": call.get("id") or f"call_{index}_{n}",
                    "name": call["function"]["name"],
                    "arguments": call["function"].get("arguments"),
                },
                f"{param}.tool_calls.{n}",
            )
            for n, call in enumerate(calls)
        ),
        tool_call_id=entry.get("tool_call_id") if role is Role.TOOL else None,
        tool_name=entry.get("tool_name") if role is Role.TOOL else None,
    )


def decode_image(text: str, param: str) -> RawImage:
    """One base64 image (a data URL is accepted too)."""
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise invalid(param, "is not valid base64") from err
    if not data:
        raise invalid(param, "is empty")
    return RawImage(data=data)
