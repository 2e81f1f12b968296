"""Entry migration: version 1's options become the first subentries."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.components import conversation
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_URL
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_provider_hub.config_flow import hub_unique_id
from custom_components.ai_provider_hub.const import CONF_TOKEN, DOMAIN
from custom_components.ai_provider_hub.migration import V1_DEFAULT_PROMPT

from .fake_hub import FakeHub
from .helpers import state

OLD_AGENT = "conversation.ai_provider_hub"


def v1_entry(fake_hub: FakeHub, options: dict[str, Any], version: int = 1) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="AI Provider Hub",
        unique_id=hub_unique_id(fake_hub.url),
        data={CONF_URL: fake_hub.url, CONF_TOKEN: fake_hub.token},
        options=options,
        version=version,
    )


async def migrate(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """Add ``entry`` with version 1's agent in the registry, set it up; return the agent ID."""
    entry.add_to_hass(hass)
    registry = er.async_get(hass)
    agent = registry.async_get_or_create(
        "conversation",
        DOMAIN,
        f"{entry.entry_id}_conversation",
        config_entry=entry,
        suggested_object_id="ai_provider_hub",
    )
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return agent.entity_id


@pytest.mark.parametrize(
    ("options", "agent_data", "task_data"),
    [
        (
            {
                "provider": "openai",
                "model": "gpt-4.1-mini",
                "strategy": "cost",
                "tag": "house",
                "prompt": "You are Jarvis.",
            },
            {
                "prompt": "You are Jarvis.",
                "max_tool_iterations": 10,
                "provider": "openai",
                "model": "gpt-4.1-mini",
                "strategy": "cost",
                "tag": "house",
            },
            {"provider": "openai", "model": "gpt-4.1-mini", "strategy": "cost", "tag": "house"},
        ),
        ({}, {"prompt": V1_DEFAULT_PROMPT, "max_tool_iterations": 10}, {}),
    ],
)
async def test_v1_options_become_subentries(
    hass: HomeAssistant,
    fake_hub: FakeHub,
    options: dict[str, Any],
    agent_data: dict[str, Any],
    task_data: dict[str, Any],
) -> None:
    entry = v1_entry(fake_hub, options)
    agent_id = await migrate(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (2, 1)
    assert entry.options == {}
    kinds = {s.subentry_type: s for s in entry.subentries.values()}
    assert set(kinds) == {"conversation", "ai_task_data"}
    assert dict(kinds["conversation"].data) == agent_data
    assert dict(kinds["ai_task_data"].data) == task_data
    # The agent keeps its entity ID (Assist pipelines name it), now owned by its subentry.
    assert agent_id == OLD_AGENT
    moved = er.async_get(hass).async_get(OLD_AGENT)
    assert moved is not None
    assert moved.unique_id == kinds["conversation"].subentry_id
    assert moved.config_subentry_id == kinds["conversation"].subentry_id
    assert state(hass, OLD_AGENT) is not None
    assert state(hass, "ai_task.ai_provider_hub_ai_task") is not None
    # Version 1's agent only talked: the migrated one does not control devices either.
    assert "llm_hass_api" not in kinds["conversation"].data


async def test_migrated_agent_keeps_answering(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    entry = v1_entry(fake_hub, {"provider": "ollama"})
    await migrate(hass, entry)
    result = await conversation.async_converse(hass, "Hi", None, Context(), agent_id=OLD_AGENT)
    assert result.response.speech["plain"]["speech"] == "Hello there!"
    [sent] = fake_hub.generation_requests()
    assert sent.body["provider"] == "ollama"
    assert sent.body["system"].startswith(V1_DEFAULT_PROMPT)


async def test_newer_version_is_refused(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    entry = v1_entry(fake_hub, {}, version=3)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert entry.subentries == {}
