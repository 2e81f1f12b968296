"""Conversation agents (one per ``conversation`` subentry) that answer and act through the hub.

With an LLM API chosen (Assist by default), the agent sends Home Assistant's tools with the
conversation, runs the tool calls the model makes (turn on a light, read a sensor...), and
sends the results back until the model answers, so Assist controls the house whichever
provider the hub picks.
"""

from __future__ import annotations

import logging
from typing import Literal

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_LLM_HASS_API, MATCH_ALL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import intent
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_PROMPT, DOMAIN, SUBENTRY_CONVERSATION
from .coordinator import HubConfigEntry
from .llm_entity import HubLLMEntity, add_subentry_entities

_LOGGER = logging.getLogger(__name__)

PARALLEL_UPDATES = 0  # answers are independent requests; the hub owns concurrency limits


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001 - Home Assistant's signature
    entry: HubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one conversation agent per ``conversation`` subentry."""
    add_subentry_entities(entry, async_add_entities, SUBENTRY_CONVERSATION, HubConversationEntity)


class HubConversationEntity(conversation.ConversationEntity, HubLLMEntity):
    """Answers Assist through the hub; with an LLM API it also controls the house."""

    _attr_supports_streaming = True

    def __init__(self, entry: HubConfigEntry, subentry: ConfigSubentry) -> None:
        super().__init__(entry, subentry)
        if subentry.data.get(CONF_LLM_HASS_API):
            self._attr_supported_features = conversation.ConversationEntityFeature.CONTROL

    @property
    def supported_languages(self) -> list[str] | Literal["*"]:
        """Any language: the providers decide."""
        return MATCH_ALL

    async def _async_handle_message(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
    ) -> conversation.ConversationResult:
        """Give the log the prompt and tools, then answer it through the hub."""
        options = self.subentry.data
        try:
            await chat_log.async_provide_llm_data(
                user_input.as_llm_context(DOMAIN),
                options.get(CONF_LLM_HASS_API),
                options.get(CONF_PROMPT),
                user_input.extra_system_prompt,
            )
        except conversation.ConverseError as err:
            return err.as_conversation_result()
        try:
            await self._async_handle_chat_log(chat_log)
            return conversation.async_get_result_from_chat_log(user_input, chat_log)
        except HomeAssistantError as err:
            _LOGGER.debug("The hub could not answer: %s", err)
            return _error_result(user_input, chat_log, str(err))


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
