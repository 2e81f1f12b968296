"""Sensors of the hub and of each provider."""

from __future__ import annotations

import pytest
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_provider_hub.const import DOMAIN

from .fake_hub import FakeHub
from .helpers import state

EXPECTED = {
    "sensor.ai_provider_hub_status": "degraded",
    "sensor.ai_provider_hub_spend_today": "0.0123",
    "sensor.ai_provider_hub_spend_this_month": "1.5",
    "sensor.ai_provider_hub_requests_today": "7",
    "sensor.ai_provider_hub_tokens_today": "1500",
    "sensor.ai_provider_hub_budget_left_today": "0.9877",
    "sensor.ai_provider_hub_budget_left_this_month": STATE_UNKNOWN,
    "sensor.openai_status": "healthy",
    "sensor.openai_average_latency": "812.5",
    "sensor.ollama_status": "circuit_open",
    "sensor.ollama_average_latency": STATE_UNKNOWN,
}


@pytest.mark.usefixtures("loaded_entry")
async def test_sensor_states(hass: HomeAssistant) -> None:
    states = {entity_id: hass.states.get(entity_id) for entity_id in EXPECTED}
    assert {k: s.state if s else None for k, s in states.items()} == EXPECTED
    spend = hass.states.get("sensor.ai_provider_hub_spend_today")
    assert spend is not None
    assert spend.attributes["unit_of_measurement"] == "USD"
    assert spend.attributes["device_class"] == "monetary"
    requests = hass.states.get("sensor.ai_provider_hub_requests_today")
    assert requests is not None
    assert requests.attributes["unit_of_measurement"] == "requests"


async def test_devices(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    registry = dr.async_get(hass)
    hub = registry.async_get_device({(DOMAIN, loaded_entry.entry_id)})
    assert hub is not None
    assert hub.sw_version == "0.1.0"
    provider = registry.async_get_device({(DOMAIN, f"{loaded_entry.entry_id}_openai")})
    assert provider is not None
    assert provider.via_device_id == hub.id
    assert provider.model == "gpt-4.1-mini"
    entity = er.async_get(hass).async_get("sensor.openai_status")
    assert entity is not None
    assert entity.unique_id == f"{loaded_entry.entry_id}_openai_status"


async def test_usage_sensors_unavailable_without_usage_endpoint(
    hass: HomeAssistant, fake_hub: FakeHub, config_entry: MockConfigEntry
) -> None:
    del fake_hub.bodies["/api/v1/usage"]
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, "sensor.ai_provider_hub_spend_today") == STATE_UNAVAILABLE
    assert state(hass, "sensor.ai_provider_hub_status") == "degraded"


async def test_updates_new_provider_and_failure(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    coordinator = loaded_entry.runtime_data.coordinator
    fake_hub.bodies["/api/v1/usage"]["today"]["cost_usd"] = 0.5
    fake_hub.bodies["/api/v1/providers"]["providers"].append(
        {"name": "gemini", "type": "gemini", "model": "gemini-2.5-flash", "state": "over_budget"}
    )
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "sensor.ai_provider_hub_spend_today") == "0.5"
    assert state(hass, "sensor.gemini_status") == "over_budget"

    fake_hub.fail("/health", 500, "internal_error")
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "sensor.gemini_status") == STATE_UNAVAILABLE
    assert state(hass, "sensor.ai_provider_hub_spend_today") == STATE_UNAVAILABLE
