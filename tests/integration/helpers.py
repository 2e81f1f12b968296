"""Test helpers: a camera and an image entity that return fixed bytes, translations."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any

from homeassistant.components import camera, conversation, image, light
from homeassistant.components.camera.const import DATA_COMPONENT as CAMERAS
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.components.image.const import DATA_COMPONENT as IMAGES
from homeassistant.components.light.const import DATA_COMPONENT as LIGHTS
from homeassistant.components.light.const import ColorMode
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import llm
from homeassistant.setup import async_setup_component

from custom_components.ai_provider_hub.const import (
    DEFAULT_AI_TASK_NAME,
    DEFAULT_CONVERSATION_NAME,
    DEFAULT_STT_NAME,
    DEFAULT_TTS_NAME,
    DOMAIN,
    SUBENTRY_AI_TASK,
    SUBENTRY_CONVERSATION,
    SUBENTRY_STT,
    SUBENTRY_TTS,
)

from .fake_hub import PNG

TRANSLATIONS = (
    Path(__file__).parents[2] / "custom_components" / "ai_provider_hub" / "translations" / "en.json"
)
JPEG = b"\xff\xd8\xff\xe0fake-jpeg-frame\xff\xd9"
# The add-on's errors and what an action raises for each (an unknown key: a plain error).
ADD_ON_ERRORS = [
    (400, "invalid_request", ServiceValidationError),
    (404, "not_found", ServiceValidationError),
    (413, "payload_too_large", ServiceValidationError),
    (415, "unsupported_media", ServiceValidationError),
    (422, "no_capable_provider", ServiceValidationError),
    (400, "provider_bad_request", ServiceValidationError),
    (401, "unauthorized", HomeAssistantError),
    (429, "rate_limited", HomeAssistantError),
    (429, "budget_exceeded", HomeAssistantError),
    (502, "all_providers_failed", HomeAssistantError),
    (502, "provider_auth", HomeAssistantError),
    (502, "circuit_open", HomeAssistantError),
    (429, "provider_rate_limited", HomeAssistantError),
    (504, "provider_timeout", HomeAssistantError),
    (504, "upstream_timeout", HomeAssistantError),
    (500, "ledger_error", HomeAssistantError),
    (500, "internal_error", HomeAssistantError),
    (500, "something_new", HomeAssistantError),
]


class FakeCamera(camera.Camera):
    """A camera whose snapshots are fixed bytes (numbered per call)."""

    _attr_name = "Front door"

    def __init__(self, content: bytes | None = JPEG) -> None:
        super().__init__()
        self.content = content
        self.snapshots = 0

    async def async_camera_image(
        self,
        width: int | None = None,  # noqa: ARG002 - Home Assistant's entity API
        height: int | None = None,  # noqa: ARG002 - Home Assistant's entity API
    ) -> bytes | None:
        self.snapshots += 1
        return self.content


class FakeImage(image.ImageEntity):
    """An image entity showing a 1x1 PNG."""

    _attr_name = "Doorbell"
    _attr_content_type = "image/png"
    content: bytes | None = PNG

    async def async_image(self) -> bytes | None:
        return self.content


class FakeLight(light.LightEntity):
    """A real on/off light; ``before_turn_on`` runs inside the service call (a test's hook)."""

    _attr_name = "Kitchen light"
    _attr_color_mode = ColorMode.ONOFF
    _attr_supported_color_modes = {ColorMode.ONOFF}
    _attr_is_on = False

    def __init__(self) -> None:
        self.before_turn_on: Callable[[], Awaitable[None]] | None = None

    async def async_turn_on(self, **kwargs: Any) -> None:  # noqa: ARG002 - Home Assistant's entity API
        if self.before_turn_on is not None:
            await self.before_turn_on()
        self._attr_is_on = True
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:  # noqa: ARG002 - Home Assistant's entity API
        self._attr_is_on = False
        self.async_write_ha_state()


async def add_fake_light(hass: HomeAssistant) -> FakeLight:
    """``light.kitchen_light``, exposed to Assist, with the intents Assist's tools use."""
    assert await async_setup_component(hass, "intent", {})
    assert await async_setup_component(hass, "light", {})
    entity = FakeLight()
    await hass.data[LIGHTS].async_add_entities([entity])
    async_expose_entity(hass, conversation.DOMAIN, "light.kitchen_light", True)
    return entity


async def assist_tool(hass: HomeAssistant, intent_type: str) -> str:
    """The name Assist gives an intent's tool (``intent__HassTurnOn`` on newer releases)."""
    context = llm.LLMContext(
        platform="test", context=Context(), language="en", assistant="conversation", device_id=None
    )
    api = await llm.async_get_api(hass, llm.LLM_API_ASSIST, context)
    return next(t.name for t in api.tools if t.name.split("__")[-1] == intent_type)


async def add_fake_camera(hass: HomeAssistant, content: bytes | None = JPEG) -> FakeCamera:
    """Set up the camera component with ``camera.front_door``."""
    assert await async_setup_component(hass, "camera", {})
    entity = FakeCamera(content)
    await hass.data[CAMERAS].async_add_entities([entity])
    return entity


async def add_fake_image(hass: HomeAssistant) -> FakeImage:
    """Set up the image component with ``image.doorbell``."""
    assert await async_setup_component(hass, "image", {})
    entity = FakeImage(hass)
    await hass.data[IMAGES].async_add_entities([entity])
    return entity


@cache
def translations() -> dict[str, Any]:
    """The integration's English strings."""
    data: dict[str, Any] = json.loads(TRANSLATIONS.read_text(encoding="utf-8"))
    return data


def exception_message(key: str, **placeholders: str) -> str:
    """The English message of the ``exceptions`` translation ``key``."""
    template: str = translations()["exceptions"][key]["message"]
    return template.rstrip(".").format(**placeholders)  # Home Assistant drops the final dot


def state(hass: HomeAssistant, entity_id: str) -> str:
    """The entity's state (it must exist)."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


def entry_state(entry: ConfigEntry) -> ConfigEntryState:
    """The entry's state, read fresh (keeps type checkers from narrowing across awaits)."""
    return entry.state


def subentries(
    conversation: dict[str, Any],
    ai_task: dict[str, Any],
    stt: dict[str, Any] | None = None,
    tts: dict[str, Any] | None = None,
) -> list[Any]:
    """One agent and one AI Task entity, and speech entities when their data is given."""
    speech = [
        {"subentry_type": kind, "data": data, "title": title, "unique_id": None}
        for kind, data, title in (
            (SUBENTRY_STT, stt, DEFAULT_STT_NAME),
            (SUBENTRY_TTS, tts, DEFAULT_TTS_NAME),
        )
        if data is not None
    ]
    return [
        {
            "subentry_type": SUBENTRY_CONVERSATION,
            "data": conversation,
            "title": DEFAULT_CONVERSATION_NAME,
            "unique_id": None,
        },
        {
            "subentry_type": SUBENTRY_AI_TASK,
            "data": ai_task,
            "title": DEFAULT_AI_TASK_NAME,
            "unique_id": None,
        },
        *speech,
    ]


def entry_device(hass: HomeAssistant, entry: ConfigEntry, identifier: str) -> dr.DeviceEntry | None:
    """The entry's device with this identifier (a lookup every supported version keeps)."""
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return next((d for d in devices if (DOMAIN, identifier) in d.identifiers), None)
