"""Subentry flows: add and change agents, AI Task, speech-to-text and text-to-speech entities."""

from __future__ import annotations

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigSubentry, SubentryFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_provider_hub.speech import OPENAI_VOICES

from .helpers import state


async def start(hass: HomeAssistant, entry: MockConfigEntry, kind: str) -> SubentryFlowResult:
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, kind), context={"source": SOURCE_USER}
    )


def of_type(entry: MockConfigEntry, kind: str) -> list[ConfigSubentry]:
    return [s for s in entry.subentries.values() if s.subentry_type == kind]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [("tag", "not a tag!", "invalid_tag"), ("provider", "nope", "unknown_provider")],
)
async def test_add_agent_errors_recover(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, field: str, value: str, error: str
) -> None:
    result = await start(hass, loaded_entry, "conversation")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["data_schema"] is not None
    schema = result["data_schema"].schema
    # The provider list comes from the hub; Assist is offered as an API.
    provider = next(k for k in schema if str(k) == "provider")
    assert schema[provider].config["options"] == ["openai", "ollama"]
    apis = next(k for k in schema if str(k) == "llm_hass_api")
    assert "assist" in [o["value"] for o in schema[apis].config["options"]]
    base = {"name": "Kitchen agent", "llm_hass_api": ["assist"], "max_tool_iterations": 4.0}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**base, field: value}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**base, "provider": "ollama", "tag": "kitchen"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    [added] = [s for s in of_type(loaded_entry, "conversation") if s.title == "Kitchen agent"]
    assert dict(added.data) == {
        "llm_hass_api": ["assist"],
        "max_tool_iterations": 4,
        "provider": "ollama",
        "tag": "kitchen",
    }
    # The entry reloaded with the new agent.
    assert state(hass, "conversation.kitchen_agent") is not None
    entity = er.async_get(hass).async_get("conversation.kitchen_agent")
    assert entity is not None
    assert entity.config_subentry_id == added.subentry_id


async def test_add_ai_task_entity(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    result = await start(hass, loaded_entry, "ai_task_data")
    assert result["data_schema"] is not None
    keys = {str(k) for k in result["data_schema"].schema}
    assert keys == {"name", "provider", "model", "strategy", "tag", "image_model"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Camera describer", "model": "gpt-4.1", "strategy": "cost"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert state(hass, "ai_task.camera_describer") is not None


async def test_reconfigure_agent(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    [agent] = of_type(loaded_entry, "conversation")
    result = await loaded_entry.start_subentry_reconfigure_flow(hass, agent.subentry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["data_schema"] is not None
    assert "name" not in {str(k) for k in result["data_schema"].schema}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"provider": "nope", "max_tool_iterations": 3}
    )
    assert result["errors"] == {"provider": "unknown_provider"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"provider": "openai", "prompt": "Be brief.", "llm_hass_api": [], "max_tool_iterations": 3},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(loaded_entry.subentries[agent.subentry_id].data) == {
        "provider": "openai",
        "prompt": "Be brief.",
        "max_tool_iterations": 3,
    }


async def test_subentry_needs_a_loaded_entry(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    config_entry.add_to_hass(hass)  # added, never set up
    result = await start(hass, config_entry, "ai_task_data")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_not_loaded"


async def test_entity_ids_of_default_subentries(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    entities = er.async_entries_for_config_entry(er.async_get(hass), loaded_entry.entry_id)
    by_subentry = {e.entity_id: e.config_subentry_id for e in entities if e.config_subentry_id}
    assert set(by_subentry) == {
        "conversation.ai_provider_hub_conversation",
        "ai_task.ai_provider_hub_ai_task",
    }
    assert set(by_subentry.values()) == set(loaded_entry.subentries)


@pytest.mark.parametrize(
    ("kind", "fields", "user_input", "data", "entity_id"),
    [
        (
            "stt",
            {"name", "provider", "model", "strategy", "tag", "prompt"},
            {"name": "Kitchen ears", "model": "whisper-1", "prompt": "Kitchen, hallway"},
            {"model": "whisper-1", "prompt": "Kitchen, hallway"},
            "stt.kitchen_ears",
        ),
        (
            "tts",
            {"name", "provider", "model", "strategy", "tag", "voice", "speed", "prompt"},
            {"name": "Kitchen voice", "provider": "openai", "voice": "nova", "speed": 1.5},
            {"provider": "openai", "voice": "nova", "speed": 1.5},
            "tts.kitchen_voice",
        ),
    ],
)
async def test_add_speech_entities(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    kind: str,
    fields: set[str],
    user_input: dict[str, object],
    data: dict[str, object],
    entity_id: str,
) -> None:
    result = await start(hass, loaded_entry, kind)
    assert result["data_schema"] is not None
    schema = result["data_schema"].schema
    assert {str(k) for k in schema} == fields
    if kind == "tts":  # the voices of the vendors behind the hub (the fake has OpenAI)
        voice = next(k for k in schema if str(k) == "voice")
        assert schema[voice].config["options"] == list(OPENAI_VOICES)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**user_input, "tag": "bad tag!"}
    )
    assert result["errors"] == {"tag": "invalid_tag"}
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    [added] = [s for s in of_type(loaded_entry, kind) if s.title == user_input["name"]]
    assert dict(added.data) == data
    entity = er.async_get(hass).async_get(entity_id)
    assert entity is not None
    assert entity.config_subentry_id == added.subentry_id


@pytest.mark.parametrize("tts_data", [{"voice": "nova", "speed": 1.5}])
async def test_reconfigure_tts(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    [speaker] = of_type(loaded_entry, "tts")
    result = await loaded_entry.start_subentry_reconfigure_flow(hass, speaker.subentry_id)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"voice": "Kore", "provider": "openai", "prompt": "Slowly."}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(loaded_entry.subentries[speaker.subentry_id].data) == {
        "voice": "Kore",
        "provider": "openai",
        "prompt": "Slowly.",
    }
