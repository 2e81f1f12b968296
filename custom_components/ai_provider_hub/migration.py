"""Config entry migration: version 1 kept routing defaults and the agent's prompt in options.

Version 2 keeps them in subentries (one conversation agent, one AI Task entity), as core's AI
integrations do since 2025.7; the options then hold the repair thresholds. The agent keeps its
entity ID, so Assist pipelines that use it keep working.
"""

from __future__ import annotations

import logging
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .const import (
    CONF_MAX_TOOL_ITERATIONS,
    CONF_MODEL,
    CONF_PROMPT,
    CONF_PROVIDER,
    CONF_STRATEGY,
    CONF_TAG,
    DEFAULT_AI_TASK_NAME,
    DEFAULT_CONVERSATION_NAME,
    DEFAULT_MAX_TOOL_ITERATIONS,
    DOMAIN,
    SUBENTRY_AI_TASK,
    SUBENTRY_CONVERSATION,
)

_LOGGER = logging.getLogger(__name__)

CURRENT_VERSION = 2
# The prompt version 1 used when the option was empty: kept, so the agent answers as before.
V1_DEFAULT_PROMPT = (
    "You are a voice assistant for Home Assistant. Answer briefly and in plain text."
)
ROUTING_KEYS = (CONF_PROVIDER, CONF_MODEL, CONF_STRATEGY, CONF_TAG)


async def async_migrate_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Bring ``entry`` to the current version (False for a newer one: a downgrade)."""
    _LOGGER.debug("Migrating from version %s.%s", entry.version, entry.minor_version)
    if entry.version > CURRENT_VERSION:
        return False
    if entry.version == 1:
        _migrate_v1(hass, entry)
    return True


def _migrate_v1(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Options become the first subentries; the agent's registry entry moves to its subentry.

    Version 1's agent did not control devices, so the migrated one gets no LLM API either:
    choosing Assist is one reconfiguration away.
    """
    options = dict(entry.options)
    routing = {key: options[key] for key in ROUTING_KEYS if options.get(key)}
    agent = ConfigSubentry(
        data=MappingProxyType(
            {
                CONF_PROMPT: options.get(CONF_PROMPT) or V1_DEFAULT_PROMPT,
                CONF_MAX_TOOL_ITERATIONS: DEFAULT_MAX_TOOL_ITERATIONS,
                **routing,
            }
        ),
        subentry_type=SUBENTRY_CONVERSATION,
        title=DEFAULT_CONVERSATION_NAME,
        unique_id=None,
    )
    task = ConfigSubentry(
        data=MappingProxyType(dict[str, Any](routing)),
        subentry_type=SUBENTRY_AI_TASK,
        title=DEFAULT_AI_TASK_NAME,
        unique_id=None,
    )
    hass.config_entries.async_add_subentry(entry, agent)
    hass.config_entries.async_add_subentry(entry, task)
    registry = er.async_get(hass)
    old_unique_id = f"{entry.entry_id}_conversation"
    if entity_id := registry.async_get_entity_id("conversation", DOMAIN, old_unique_id):
        registry.async_update_entity(
            entity_id,
            config_subentry_id=agent.subentry_id,
            new_unique_id=agent.subentry_id,
        )
    hass.config_entries.async_update_entry(entry, options={}, version=2, minor_version=1)
