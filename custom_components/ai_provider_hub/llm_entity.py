"""The part the conversation agent and the AI Task entity share: a chat log through the hub.

Each round sends the whole log (system prompt, turns, tool calls and results) with the LLM
API's tools, streams the answer into the log (which runs the tools Home Assistant owns), and
goes round again while tool results wait for an answer, at most ``max_tool_iterations``
times. Failover between providers happens inside the hub, in any round.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentry
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import HubApiError, HubAuthError
from .api_models import GenerationResult
from .caller import caller_tag
from .chat_log import (
    HubStream,
    hub_messages,
    hub_structure,
    hub_tools,
    last_attachments,
    read_images,
)
from .const import (
    CONF_MAX_TOOL_ITERATIONS,
    CONF_MODEL,
    CONF_PROVIDER,
    CONF_STRATEGY,
    CONF_TAG,
    DEFAULT_MAX_TOOL_ITERATIONS,
    DOMAIN,
    MANUFACTURER,
)
from .coordinator import HubConfigEntry
from .errors import translated_hub_error


def add_subentry_entities(
    entry: HubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    subentry_type: str,
    build: Callable[[HubConfigEntry, ConfigSubentry], Entity],
) -> None:
    """Add one entity, made by ``build``, per subentry of ``subentry_type``."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type == subentry_type:
            async_add_entities([build(entry, subentry)], config_subentry_id=subentry.subentry_id)


class HubLLMEntity(Entity):
    """An entity of one subentry, on that subentry's own service device."""

    _attr_has_entity_name = True
    _attr_name: str | None = None
    _attr_should_poll = False

    def __init__(self, entry: HubConfigEntry, subentry: ConfigSubentry) -> None:
        self.entry = entry
        self.subentry = subentry
        self._attr_unique_id = subentry.subentry_id
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, subentry.subentry_id)},
            name=subentry.title,
            manufacturer=MANUFACTURER,
            model=subentry.data.get(CONF_MODEL) or subentry.data.get(CONF_PROVIDER) or "auto",
            entry_type=DeviceEntryType.SERVICE,
        )

    def routing(self, model_key: str | None = CONF_MODEL) -> dict[str, Any]:
        """Provider, strategy and model (the subentry's ``model_key``), and the caller's tag."""
        options = self.subentry.data
        payload: dict[str, Any] = {
            key: value for key in (CONF_PROVIDER, CONF_STRATEGY) if (value := options.get(key))
        }
        if model_key and (model := options.get(model_key)):
            payload[CONF_MODEL] = model
        if tag := caller_tag(self.hass, options.get(CONF_TAG), self.entity_id):
            payload[CONF_TAG] = tag
        return payload

    async def _async_handle_chat_log(
        self, chat_log: conversation.ChatLog, structure: Any = None
    ) -> GenerationResult | None:
        """Answer the log through the hub, running tool rounds; return the last hub result."""
        payload = self.routing()
        if tools := hub_tools(chat_log.llm_api):
            payload["tools"] = tools
        if structure is not None:
            payload["structure"] = hub_structure(structure, chat_log.llm_api)
        endpoint = "chat"
        if attachments := last_attachments(chat_log):
            payload["images"] = await self.hass.async_add_executor_job(read_images, attachments)
            endpoint = "vision"
        limit = int(self.subentry.data.get(CONF_MAX_TOOL_ITERATIONS, DEFAULT_MAX_TOOL_ITERATIONS))
        for _round in range(limit):
            payload["system"], payload["messages"] = hub_messages(chat_log)
            result = await self._async_round(chat_log, payload, endpoint)
            if not chat_log.unresponded_tool_results:
                return result
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="max_tool_iterations",
            translation_placeholders={"count": str(limit)},
        )

    async def _async_round(
        self, chat_log: conversation.ChatLog, payload: dict[str, Any], endpoint: str
    ) -> GenerationResult | None:
        client = self.entry.runtime_data.client
        stream = HubStream(client.chat_stream(payload, endpoint=endpoint))
        try:
            async for _content in chat_log.async_add_delta_content_stream(
                self.entity_id, stream.deltas()
            ):
                pass
        except HubAuthError as err:
            self.entry.async_start_reauth(self.hass)
            raise translated_hub_error(err) from err
        except HubApiError as err:
            raise translated_hub_error(err) from err
        return stream.result
