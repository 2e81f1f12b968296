"""A conversation agent that answers through the hub (so Assist gets failover too)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, Literal

from homeassistant.components import conversation
from homeassistant.const import MATCH_ALL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import TemplateError
from homeassistant.helpers import intent, template
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import HubApiError
from .const import (
    CONF_MODEL,
    CONF_PROMPT,
    CONF_PROVIDER,
    CONF_STRATEGY,
    CONF_TAG,
    DEFAULT_CONVERSATION_PROMPT,
)
from .coordinator import HubConfigEntry, HubCoordinator
from .entity import hub_device_info
from .errors import translated_hub_error

_LOGGER = logging.getLogger(__name__)

PARALLEL_UPDATES = 0  # answers are independent requests; the hub owns concurrency limits


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's conversation agent."""
    async_add_entities([HubConversationEntity(entry.runtime_data.coordinator)])


class HubConversationEntity(conversation.ConversationEntity):
    """Answers Assist through the hub, keeping each conversation's history in its chat log."""

    _attr_has_entity_name = True
    _attr_name = None
    _attr_supports_streaming = True  # read by cores that stream to the pipeline

    def __init__(self, coordinator: HubCoordinator) -> None:
        self._coordinator = coordinator
        self._entry = coordinator.config_entry
        self._attr_unique_id = f"{self._entry.entry_id}_conversation"
        self._attr_device_info = hub_device_info(coordinator)

    @property
    def supported_languages(self) -> list[str] | Literal["*"]:
        """Any language: the providers decide."""
        return MATCH_ALL

    async def _async_handle_message(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
    ) -> conversation.ConversationResult:
        """Send the conversation so far to the hub and stream the answer into the log."""
        try:
            payload = self._payload(user_input, chat_log)
            text = ""
            async for content in chat_log.async_add_delta_content_stream(
                self.entity_id, self._deltas(payload)
            ):
                if isinstance(content, conversation.AssistantContent) and content.content:
                    text = content.content
        except TemplateError as err:
            _LOGGER.warning("The conversation prompt template failed: %s", err)
            return _error_result(user_input, chat_log, "The prompt template failed")
        except HubApiError as err:
            return _error_result(user_input, chat_log, str(translated_hub_error(err)))
        response = intent.IntentResponse(language=user_input.language)
        response.async_set_speech(text)
        return conversation.ConversationResult(
            response=response,
            conversation_id=chat_log.conversation_id,
            continue_conversation=chat_log.continue_conversation,
        )

    async def _deltas(
        self, payload: dict[str, Any]
    ) -> AsyncIterator[conversation.AssistantContentDeltaDict]:
        client = self._entry.runtime_data.client
        yield {"role": "assistant"}
        async for event, data in client.chat_stream(payload):
            if event == "delta" and data.get("text"):
                yield {"content": data["text"]}

    def _payload(
        self, user_input: conversation.ConversationInput, chat_log: conversation.ChatLog
    ) -> dict[str, Any]:
        """The hub request: system prompt, history, routing options from the entry."""
        options = self._entry.options
        messages = [
            {"role": content.role, "content": content.content}
            for content in chat_log.content
            if isinstance(content, conversation.UserContent | conversation.AssistantContent)
            and content.content
        ]
        payload: dict[str, Any] = {
            "system": self._system_prompt(user_input),
            "messages": messages,
            "tag": options.get(CONF_TAG) or "conversation",
        }
        for key in (CONF_PROVIDER, CONF_MODEL, CONF_STRATEGY):
            if value := options.get(key):
                payload[key] = value
        return payload

    def _system_prompt(self, user_input: conversation.ConversationInput) -> str:
        raw = self._entry.options.get(CONF_PROMPT) or DEFAULT_CONVERSATION_PROMPT
        prompt = template.Template(raw, self.hass).async_render(
            {"ha_name": self.hass.config.location_name}, parse_result=False
        )
        if user_input.extra_system_prompt:
            prompt = f"{prompt}\n{user_input.extra_system_prompt}"
        return str(prompt)


def _error_result(
    user_input: conversation.ConversationInput,
    chat_log: conversation.ChatLog,
    message: str,
) -> conversation.ConversationResult:
    response = intent.IntentResponse(language=user_input.language)
    response.async_set_error(intent.IntentResponseErrorCode.UNKNOWN, message)
    return conversation.ConversationResult(
        response=response, conversation_id=chat_log.conversation_id
    )
