"""The ``analyze_image``, ``chat`` and ``embed`` actions."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv

from .api_models import GenerationResult
from .caller import caller_tag
from .compat import vol
from .const import (
    ATTR_CONFIG_ENTRY_ID,
    CONF_MODEL,
    CONF_PROVIDER,
    CONF_STRATEGY,
    CONF_TAG,
    DETAILS,
    DOMAIN,
    EVENT_RESPONSE,
    MAX_EMBED_DIMENSIONS,
    MAX_EMBED_TEXTS,
    MAX_IMAGES,
    SERVICE_ANALYZE_IMAGE,
    SERVICE_CHAT,
    SERVICE_EMBED,
    STRATEGIES,
    SUBENTRY_AI_TASK,
    TAG_PATTERN,
)
from .coordinator import HubConfigEntry
from .errors import ask_hub, validation_error
from .images import fetch_images, plan_images

_LOGGER = logging.getLogger(__name__)

ROLES: Final = ("system", "user", "assistant")
RESPONSE_FIELDS: Final = (
    "request_id",
    "text",
    "data",
    "provider",
    "model",
    "usage",
    "cost_usd",
    "latency_ms",
    "cached",
    "attempts",
)

COMMON_FIELDS: Final[dict[vol.Marker, Any]] = {
    vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    vol.Optional(CONF_PROVIDER): cv.string,
    vol.Optional(CONF_MODEL): cv.string,
    vol.Optional(CONF_STRATEGY): vol.In(STRATEGIES),
    vol.Optional("max_tokens"): vol.All(vol.Coerce(int), vol.Range(min=1, max=1_000_000)),
    vol.Optional("temperature"): vol.All(vol.Coerce(float), vol.Range(min=0, max=2)),
    vol.Optional(CONF_TAG): vol.All(cv.string, vol.Match(TAG_PATTERN)),
    vol.Optional("structure"): vol.Any(dict, cv.string),
    vol.Optional("cache"): cv.boolean,
}
ANALYZE_IMAGE_SCHEMA: Final = vol.Schema(
    {
        vol.Required("prompt"): cv.string,
        vol.Optional("camera_entity_id", default=list): vol.All(
            cv.ensure_list, [cv.entity_domain("camera")]
        ),
        vol.Optional("frames", default=1): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_IMAGES)
        ),
        vol.Optional("interval", default=1.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=60)),
        vol.Optional("image_entity_id", default=list): vol.All(
            cv.ensure_list, [cv.entity_domain("image")]
        ),
        vol.Optional("file_path", default=list): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional("url", default=list): vol.All(cv.ensure_list, [cv.url]),
        vol.Optional("detail"): vol.In(DETAILS),
        **COMMON_FIELDS,
    }
)
MESSAGE_SCHEMA: Final = vol.Schema(
    {vol.Required("role"): vol.In(ROLES), vol.Required("content"): cv.string}
)
CHAT_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("prompt"): cv.string,
        vol.Optional("messages"): vol.All(cv.ensure_list, [MESSAGE_SCHEMA]),
        vol.Optional("system"): cv.string,
        **COMMON_FIELDS,
    }
)

EMBED_SCHEMA: Final = vol.Schema(
    {
        vol.Required("text"): vol.All(
            cv.ensure_list, [cv.string], vol.Length(min=1, max=MAX_EMBED_TEXTS)
        ),
        vol.Optional("dimensions"): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_EMBED_DIMENSIONS)
        ),
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(CONF_PROVIDER): cv.string,
        vol.Optional(CONF_MODEL): cv.string,
        vol.Optional(CONF_STRATEGY): vol.In(STRATEGIES),
        vol.Optional(CONF_TAG): vol.All(cv.string, vol.Match(TAG_PATTERN)),
        vol.Optional("cache"): cv.boolean,
    }
)
EMBED_FIELDS: Final = (
    "request_id",
    "vectors",
    "dimensions",
    "provider",
    "model",
    "usage",
    "cost_usd",
    "latency_ms",
    "cached",
    "attempts",
)

type Handler = Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    actions: dict[str, tuple[vol.Schema, Handler]] = {
        SERVICE_ANALYZE_IMAGE: (ANALYZE_IMAGE_SCHEMA, _analyze_image),
        SERVICE_CHAT: (CHAT_SCHEMA, _chat),
    }
    for name, (schema, handler) in actions.items():
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=SupportsResponse.OPTIONAL
        )
    # Vectors are only of use as response data.
    hass.services.async_register(
        DOMAIN, SERVICE_EMBED, _embed, schema=EMBED_SCHEMA, supports_response=SupportsResponse.ONLY
    )


async def _analyze_image(call: ServiceCall) -> ServiceResponse:
    entry = _loaded_entry(call)
    payload = {"prompt": _prompt(call.data), **_routing(call.hass, entry, call.data)}
    if "detail" in call.data:
        payload["detail"] = call.data["detail"]
    sources = await plan_images(call.hass, dict(call.data))
    pictures = await fetch_images(call.hass, sources)
    payload["images"] = [picture.as_payload() for picture in pictures]
    _LOGGER.debug("analyze_image: %d image(s)", len(pictures))
    return await _run(call, entry, entry.runtime_data.client.vision, payload)


async def _chat(call: ServiceCall) -> ServiceResponse:
    entry = _loaded_entry(call)
    payload: dict[str, Any] = _routing(call.hass, entry, call.data)
    if "prompt" in call.data:
        payload["prompt"] = _prompt(call.data)
    if messages := call.data.get("messages"):
        if any(not m["content"].strip() for m in messages):
            raise validation_error("empty_message")
        payload["messages"] = messages
    if "prompt" not in payload and "messages" not in payload:
        raise validation_error("prompt_or_messages")
    if system := call.data.get("system"):
        payload["system"] = system
    return await _run(call, entry, entry.runtime_data.client.chat, payload)


async def _embed(call: ServiceCall) -> ServiceResponse:
    """One vector per text; routing only from the call (a chat model cannot embed)."""
    entry = _loaded_entry(call)
    texts: list[str] = call.data["text"]
    if any(not text.strip() for text in texts):
        raise validation_error("empty_text")
    payload: dict[str, Any] = {"input": texts}
    for key in (CONF_PROVIDER, CONF_MODEL, CONF_STRATEGY, "dimensions", "cache"):
        if key in call.data:
            payload[key] = call.data[key]
    if tag := caller_tag(call.hass, call.data.get(CONF_TAG), None):
        payload[CONF_TAG] = tag
    answer = (await ask_hub(call.hass, entry, entry.runtime_data.client.embed(payload))).to_dict()
    return {key: answer[key] for key in EMBED_FIELDS}


async def _run(
    call: ServiceCall,
    entry: HubConfigEntry,
    send: Callable[[Mapping[str, Any]], Awaitable[GenerationResult]],
    payload: dict[str, Any],
) -> ServiceResponse:
    """Send the request, fire the event, and return the response data."""
    answer = (await ask_hub(call.hass, entry, send(payload))).to_dict()
    response: dict[str, Any] = {key: answer[key] for key in RESPONSE_FIELDS}
    call.hass.bus.async_fire(
        EVENT_RESPONSE,
        {"action": call.service, "tag": payload.get(CONF_TAG), **response},
        context=call.context,
    )
    return response if call.return_response else None


def _loaded_entry(call: ServiceCall) -> HubConfigEntry:
    """The entry the call names, or the only loaded one."""
    hass = call.hass
    if entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID):
        entry: HubConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN:
            raise validation_error("entry_not_found", entry_id=entry_id)
        if entry.state is not ConfigEntryState.LOADED:
            raise validation_error("entry_not_loaded", title=entry.title)
        return entry
    loaded: list[HubConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    if not loaded:
        raise validation_error("no_loaded_entry")
    if len(loaded) > 1:
        raise validation_error("entry_required")
    return loaded[0]


def _prompt(data: Mapping[str, Any]) -> str:
    prompt: str = data.get("prompt", "")
    if not prompt.strip():
        raise validation_error("empty_prompt")
    return prompt


def _routing(hass: HomeAssistant, entry: HubConfigEntry, data: Mapping[str, Any]) -> dict[str, Any]:
    """Routing from the call, else the entry's first AI Task subentry; the caller's tag."""
    defaults: Mapping[str, Any] = next(
        (s.data for s in entry.subentries.values() if s.subentry_type == SUBENTRY_AI_TASK), {}
    )
    payload: dict[str, Any] = {}
    for key in (CONF_PROVIDER, CONF_MODEL, CONF_STRATEGY):
        if value := data.get(key) or defaults.get(key):
            payload[key] = value
    explicit = data.get(CONF_TAG) or defaults.get(CONF_TAG)
    if tag := caller_tag(hass, explicit, None):
        payload[CONF_TAG] = tag
    for key in ("max_tokens", "temperature", "cache"):
        if key in data:
            payload[key] = data[key]
    if "structure" in data:
        payload["structure"] = _structure(data["structure"])
    return payload


def _structure(raw: Any) -> dict[str, Any]:
    """A JSON schema object given as a mapping or as JSON text."""
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError as err:
            raise validation_error("invalid_structure") from err
    if not isinstance(value, dict) or not ({"type", "properties", "anyOf"} & value.keys()):
        raise validation_error("invalid_structure")
    return value
