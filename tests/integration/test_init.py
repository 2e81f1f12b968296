"""Setup and unload of a config entry."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_provider_hub.const import DOMAIN

from .fake_hub import FakeHub
from .helpers import entry_state


async def test_setup_and_unload(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert loaded_entry.runtime_data.coordinator.data.health.version == "0.1.0"
    assert hass.services.has_service(DOMAIN, "chat")
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert entry_state(loaded_entry) is ConfigEntryState.NOT_LOADED
    # Actions belong to the integration, not to the entry.
    assert hass.services.has_service(DOMAIN, "analyze_image")


async def test_hub_unreachable_retries(
    hass: HomeAssistant, config_entry: MockConfigEntry, fake_hub: FakeHub
) -> None:
    await fake_hub.stop()
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_rejected_token_starts_reauth(
    hass: HomeAssistant, config_entry: MockConfigEntry, fake_hub: FakeHub
) -> None:
    fake_hub.token = "rotated"
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_usage_endpoint_missing_keeps_setup(
    hass: HomeAssistant, config_entry: MockConfigEntry, fake_hub: FakeHub
) -> None:
    del fake_hub.bodies["/api/v1/usage"]
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.runtime_data.coordinator.data.usage is None
