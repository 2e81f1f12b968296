"""Subentry flows: add or change an agent, AI Task, speech-to-text or text-to-speech entity."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigSubentryData,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_LLM_HASS_API, CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import llm
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TemplateSelector,
    TextSelector,
    TextSelectorConfig,
)

from .compat import vol
from .const import (
    CONF_IMAGE_MODEL,
    CONF_MAX_TOOL_ITERATIONS,
    CONF_MODEL,
    CONF_PROMPT,
    CONF_PROVIDER,
    CONF_SPEED,
    CONF_STRATEGY,
    CONF_TAG,
    CONF_VOICE,
    DEFAULT_AI_TASK_NAME,
    DEFAULT_CONVERSATION_NAME,
    DEFAULT_MAX_TOOL_ITERATIONS,
    DEFAULT_STT_NAME,
    DEFAULT_TTS_NAME,
    MAX_SPEED,
    MAX_TOOL_ITERATIONS_LIMIT,
    MIN_SPEED,
    STRATEGIES,
    SUBENTRY_AI_TASK,
    SUBENTRY_CONVERSATION,
    SUBENTRY_STT,
    SUBENTRY_TTS,
    TAG_PATTERN,
)
from .coordinator import HubConfigEntry
from .speech import speech_providers, voices

TAG_RE: Final = re.compile(TAG_PATTERN)
ROUTING_KEYS: Final = (CONF_PROVIDER, CONF_MODEL, CONF_STRATEGY, CONF_TAG)
DEFAULT_NAMES: Final = {
    SUBENTRY_CONVERSATION: DEFAULT_CONVERSATION_NAME,
    SUBENTRY_AI_TASK: DEFAULT_AI_TASK_NAME,
    SUBENTRY_STT: DEFAULT_STT_NAME,
    SUBENTRY_TTS: DEFAULT_TTS_NAME,
}


def default_subentry_data(subentry_type: str) -> dict[str, Any]:
    """What a new subentry of ``subentry_type`` starts with."""
    if subentry_type == SUBENTRY_CONVERSATION:
        return {
            CONF_PROMPT: llm.DEFAULT_INSTRUCTIONS_PROMPT,
            CONF_LLM_HASS_API: [llm.LLM_API_ASSIST],
            CONF_MAX_TOOL_ITERATIONS: DEFAULT_MAX_TOOL_ITERATIONS,
        }
    return {}


def default_subentries() -> list[ConfigSubentryData]:
    """The subentries a new hub entry gets: one of each kind (as core's AI integrations do)."""
    return [
        ConfigSubentryData(
            subentry_type=kind, data=default_subentry_data(kind), title=title, unique_id=None
        )
        for kind, title in DEFAULT_NAMES.items()
    ]


class HubSubentryFlow(ConfigSubentryFlow):
    """One form: name (new only), routing, and for agents the prompt, APIs and tool rounds."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a subentry."""
        return await self._async_form(
            "user", user_input, default_subentry_data(self._subentry_type)
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a subentry."""
        current = dict(self._get_reconfigure_subentry().data)
        return await self._async_form("reconfigure", user_input, current)

    async def _async_form(
        self, step_id: str, user_input: dict[str, Any] | None, current: Mapping[str, Any]
    ) -> SubentryFlowResult:
        entry: HubConfigEntry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        providers = [p.name for p in entry.runtime_data.coordinator.data.providers]
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _errors(user_input, providers)
            if not errors:
                return self._async_finish(step_id, user_input)
        schema = self._schema(step_id == "user", entry)
        suggested = user_input if user_input is not None else _suggested(self.hass, current)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    def _async_finish(self, step_id: str, user_input: dict[str, Any]) -> SubentryFlowResult:
        data = {k: v for k, v in user_input.items() if k != CONF_NAME and v not in (None, "", [])}
        if CONF_MAX_TOOL_ITERATIONS in data:
            data[CONF_MAX_TOOL_ITERATIONS] = int(data[CONF_MAX_TOOL_ITERATIONS])
        if CONF_SPEED in data:
            data[CONF_SPEED] = float(data[CONF_SPEED])
        if step_id == "user":
            return self.async_create_entry(title=user_input[CONF_NAME], data=data)
        return self.async_update_and_abort(
            self._get_entry(), self._get_reconfigure_subentry(), data=data
        )

    def _schema(self, is_new: bool, entry: HubConfigEntry) -> vol.Schema:
        providers = entry.runtime_data.coordinator.data.providers
        fields: dict[vol.Marker, Any] = {}
        if is_new:
            default = DEFAULT_NAMES[self._subentry_type]
            fields[vol.Required(CONF_NAME, default=default)] = TextSelector()
        if self._subentry_type == SUBENTRY_CONVERSATION:
            fields[vol.Optional(CONF_PROMPT)] = TemplateSelector()
            fields[vol.Optional(CONF_LLM_HASS_API)] = SelectSelector(
                SelectSelectorConfig(
                    options=[
                        SelectOptionDict(label=api.name, value=api.id)
                        for api in llm.async_get_apis(self.hass)
                    ],
                    multiple=True,
                )
            )
        fields.update(_routing_fields([p.name for p in providers]))
        if self._subentry_type == SUBENTRY_AI_TASK:
            fields[vol.Optional(CONF_IMAGE_MODEL)] = TextSelector()
        if self._subentry_type == SUBENTRY_STT:
            fields[vol.Optional(CONF_PROMPT)] = TextSelector(TextSelectorConfig(multiline=True))
        if self._subentry_type == SUBENTRY_TTS:
            fields.update(_speech_fields(voices(speech_providers(providers, None))))
        if self._subentry_type == SUBENTRY_CONVERSATION:
            fields[vol.Required(CONF_MAX_TOOL_ITERATIONS, default=DEFAULT_MAX_TOOL_ITERATIONS)] = (
                NumberSelector(
                    NumberSelectorConfig(
                        min=1, max=MAX_TOOL_ITERATIONS_LIMIT, step=1, mode=NumberSelectorMode.BOX
                    )
                )
            )
        return vol.Schema(fields)


def _routing_fields(providers: list[str]) -> dict[vol.Marker, Any]:
    return {
        vol.Optional(CONF_PROVIDER): SelectSelector(
            SelectSelectorConfig(
                options=providers, custom_value=True, mode=SelectSelectorMode.DROPDOWN
            )
        ),
        vol.Optional(CONF_MODEL): TextSelector(),
        vol.Optional(CONF_STRATEGY): SelectSelector(
            SelectSelectorConfig(
                options=list(STRATEGIES),
                mode=SelectSelectorMode.DROPDOWN,
                translation_key=CONF_STRATEGY,
            )
        ),
        vol.Optional(CONF_TAG): TextSelector(),
    }


def _speech_fields(names: list[str]) -> dict[vol.Marker, Any]:
    return {
        vol.Optional(CONF_VOICE): SelectSelector(
            SelectSelectorConfig(
                options=names, custom_value=True, mode=SelectSelectorMode.DROPDOWN, sort=False
            )
        ),
        vol.Optional(CONF_SPEED): NumberSelector(
            NumberSelectorConfig(
                min=MIN_SPEED, max=MAX_SPEED, step=0.05, mode=NumberSelectorMode.SLIDER
            )
        ),
        vol.Optional(CONF_PROMPT): TextSelector(TextSelectorConfig(multiline=True)),
    }


def _errors(user_input: Mapping[str, Any], providers: list[str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if (tag := user_input.get(CONF_TAG)) and not TAG_RE.match(tag):
        errors[CONF_TAG] = "invalid_tag"
    if (provider := user_input.get(CONF_PROVIDER)) and provider not in providers:
        errors[CONF_PROVIDER] = "unknown_provider"
    return errors


def _suggested(hass: HomeAssistant, current: Mapping[str, Any]) -> dict[str, Any]:
    """The stored values, with LLM APIs that no longer exist left out."""
    suggested = dict(current)
    if apis := suggested.get(CONF_LLM_HASS_API):
        known = {api.id for api in llm.async_get_apis(hass)}
        suggested[CONF_LLM_HASS_API] = [api for api in apis if api in known]
    return suggested
