"""OpenAI chat-completions requests: edge validation (voluptuous) and conversion to a HubRequest.

Fields the hub honours are mapped; fields it cannot honour are accepted only when they are
harmless (metadata such as ``user``, or their default value such as ``n: 1``); anything else is
refused with a 400 that names the field, so a client never silently gets a different behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

import voluptuous as vol

from addon.api.body import checked_fields
from addon.api.openai_messages import MESSAGE_SCHEMA, convert_messages, legacy
from addon.api.openai_tools import TOOL_CHOICE_SCHEMA, TOOL_SCHEMA, read_tool_choice, read_tools
from addon.api.schemas import MAX_MESSAGES
from addon.api.tools import MAX_TOOLS
from addon.models import ChatRequest, HubRequest
from addon.validation import number, whole

AUTO_MODEL: Final = "auto"
TOKENS = vol.Any(whole(1, 1_000_000), None)


def _only(default: Any) -> Callable[[Any], Any]:
    """Accept a field the hub cannot honour only at its default (or null)."""

    def check(value: Any) -> Any:
        # JSON tells true from 1 and false from 0; Python's == does not.
        wrong_kind = isinstance(value, bool) is not isinstance(default, bool)
        if value is not None and (value != default or wrong_kind):
            raise vol.Invalid(f"only {default!r} is supported by the hub")
        return value

    return check


def _not_yet(what: str) -> Callable[[Any], Any]:
    """Refuse a feature the hub does not offer yet (empty or null values are harmless)."""

    def check(value: Any) -> Any:
        if value:
            raise vol.Invalid(f"{what} are not supported by the hub yet")
        return value

    return check


RESPONSE_FORMAT_SCHEMA = vol.Schema(
    vol.Any(
        {vol.Required("type"): "text"},
        {vol.Required("type"): "json_object"},
        {
            vol.Required("type"): "json_schema",
            vol.Required("json_schema"): {
                vol.Required("name"): str,
                vol.Optional("schema"): vol.Any(None, dict),
                vol.Optional("description"): vol.Any(None, str),
                vol.Optional("strict"): vol.Any(None, bool),
            },
        },
        msg="must be {'type': 'text' | 'json_object' | 'json_schema', ...}",
    )
)

CHAT_COMPLETIONS_SCHEMA = vol.Schema(
    {
        vol.Optional("model"): vol.Any(None, str),
        vol.Required("messages"): vol.All([MESSAGE_SCHEMA], vol.Length(min=1, max=MAX_MESSAGES)),
        vol.Optional("max_tokens"): TOKENS,
        vol.Optional("max_completion_tokens"): TOKENS,
        vol.Optional("temperature"): vol.Any(number(0, 2), None),
        vol.Optional("stop"): vol.Any(None, str, vol.All([str], vol.Length(max=4))),
        vol.Optional("response_format"): vol.Any(None, RESPONSE_FORMAT_SCHEMA),
        vol.Optional("stream"): vol.Any(None, bool),
        vol.Optional("stream_options"): vol.Any(
            None,
            {vol.Optional("include_usage"): bool, vol.Optional("include_obfuscation"): bool},
        ),
        # Harmless: bookkeeping and hints that do not change what the answer means.
        vol.Optional("user"): vol.Any(None, str),
        vol.Optional("metadata"): vol.Any(None, dict),
        vol.Optional("store"): vol.Any(None, bool),
        vol.Optional("seed"): vol.Any(whole(), None),
        vol.Optional("service_tier"): vol.Any(None, str),
        vol.Optional("prompt_cache_key"): vol.Any(None, str),
        vol.Optional("safety_identifier"): vol.Any(None, str),
        # Sampling and output knobs the hub cannot pass on: their defaults only.
        vol.Optional("n"): _only(1),
        vol.Optional("logprobs"): _only(False),
        vol.Optional("top_logprobs"): _only(0),
        vol.Optional("top_p"): _only(1),
        vol.Optional("presence_penalty"): _only(0),
        vol.Optional("frequency_penalty"): _only(0),
        vol.Optional("logit_bias"): _only({}),
        vol.Optional("modalities"): _only(["text"]),
        vol.Optional("tools"): vol.Any(None, vol.All([TOOL_SCHEMA], vol.Length(max=MAX_TOOLS))),
        vol.Optional("tool_choice"): TOOL_CHOICE_SCHEMA,
        vol.Optional("parallel_tool_calls"): vol.Any(None, bool),
        vol.Optional("functions"): legacy("use tools"),
        vol.Optional("function_call"): legacy("use tool_choice"),
        # Not offered yet.
        vol.Optional("audio"): _not_yet("audio outputs"),
        vol.Optional("web_search_options"): _not_yet("web search options"),
    }
)


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """A validated chat-completions request: the hub's request plus how to answer it."""

    hub_request: HubRequest
    requested_model: str
    stream: bool
    include_usage: bool
    wants_json: bool


def validate_completion(body: Any) -> dict[str, Any]:
    """Validate the body; errors name the field (as ``param``) and what to fix."""
    return checked_fields(CHAT_COMPLETIONS_SCHEMA, body)


def resolve_target(model: str | None, providers: Collection[str]) -> tuple[str | None, str]:
    """``(provider, model)`` pinned by the OpenAI ``model`` field (empty model: the default).

    ``auto`` or nothing lets the hub choose; ``<provider>`` or ``<provider>/<model>`` pins a
    configured provider; anything else (``gpt-4o``, ``meta-llama/llama-3``) pins the model.
    """
    name = (model or "").strip()
    if name in ("", AUTO_MODEL):
        return None, ""
    if name in providers:
        return name, ""
    prefix, slash, rest = name.partition("/")
    if slash and prefix in providers:
        return prefix, "" if rest in ("", AUTO_MODEL) else rest
    return None, name


def to_completion_request(
    data: Mapping[str, Any], request_id: str, providers: Collection[str]
) -> CompletionRequest:
    """Build the manager's request from a validated chat-completions body."""
    messages, images, detail = convert_messages(data["messages"])
    provider, model = resolve_target(data.get("model"), providers)
    schema = json_schema_of(data.get("response_format"))
    tools = read_tools(data.get("tools"))
    chat = ChatRequest(
        messages=messages,
        model=model,
        max_tokens=data.get("max_completion_tokens") or data.get("max_tokens"),
        temperature=data.get("temperature"),
        stop=_stops(data.get("stop")),
        json_schema=schema,
        tools=tools,
        tool_choice=read_tool_choice(data.get("tool_choice"), tools),
        parallel_tool_calls=data.get("parallel_tool_calls"),
    )
    options = data.get("stream_options") or {}
    return CompletionRequest(
        hub_request=HubRequest(
            chat=chat, request_id=request_id, images=images, provider=provider, detail=detail
        ),
        requested_model=data.get("model") or AUTO_MODEL,
        stream=bool(data.get("stream")),
        include_usage=bool(options.get("include_usage")),
        wants_json=schema is not None,
    )


def _stops(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def json_schema_of(response_format: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The structure asked for: json_schema's schema, ``{"type": "object"}`` for json_object."""
    if not response_format or response_format["type"] == "text":
        return None
    if response_format["type"] == "json_object":
        return {"type": "object"}
    schema = response_format["json_schema"].get("schema")
    return dict(schema) if schema else {"type": "object"}
