"""Sensors of the hub and of each provider."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_provider_hub import async_remove_config_entry_device
from custom_components.ai_provider_hub.const import DOMAIN

from .fake_hub import FakeHub
from .helpers import entry_device, state

# (hub state, the provider's usage in the window, its health-check latency) -> (status, latency)
PROVIDER_TABLE = [
    ("healthy", {"requests": 10, "success_rate": 0.5}, None, "degraded", STATE_UNKNOWN),
    ("healthy", {"requests": 4, "success_rate": 0.5}, None, "healthy", STATE_UNKNOWN),
    ("healthy", {"requests": 100, "success_rate": 0.95}, None, "healthy", STATE_UNKNOWN),
    ("down", {"requests": 10, "success_rate": 0.1}, None, "down", STATE_UNKNOWN),
    ("over_budget", {}, None, "over_budget", STATE_UNKNOWN),
    ("circuit_open", {}, None, "circuit_open", STATE_UNKNOWN),
    ("something_new", {}, None, STATE_UNKNOWN, STATE_UNKNOWN),
    ("healthy", {"avg_latency_ms": 321.0, "p50_latency_ms": 700.0}, 55.0, "healthy", "321.0"),
    ("healthy", {"avg_latency_ms": None, "p50_latency_ms": 700.0}, 55.0, "healthy", "700.0"),
    ("healthy", {}, 55.0, "healthy", "55.0"),
]

EXPECTED = {
    "sensor.ai_provider_hub_status": "degraded",
    "sensor.ai_provider_hub_spend_today": "0.0123",
    "sensor.ai_provider_hub_spend_this_month": "1.5",
    "sensor.ai_provider_hub_requests_today": "7",
    "sensor.ai_provider_hub_tokens_today": "1500",
    "sensor.ai_provider_hub_budget_left_today": "0.9877",
    "sensor.ai_provider_hub_budget_left_this_month": STATE_UNKNOWN,
    "sensor.openai_status": "healthy",
    "sensor.openai_average_latency": "700.0",
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
    assert spend.attributes["state_class"] == "total"
    midnight = dt_util.utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    assert spend.attributes["last_reset"] == midnight.isoformat()
    month = hass.states.get("sensor.ai_provider_hub_spend_this_month")
    assert month is not None
    assert month.attributes["last_reset"] == midnight.replace(day=1).isoformat()
    budget = hass.states.get("sensor.ai_provider_hub_budget_left_today")
    assert budget is not None
    assert "state_class" not in budget.attributes
    requests = hass.states.get("sensor.ai_provider_hub_requests_today")
    assert requests is not None
    assert requests.attributes["unit_of_measurement"] == "requests"


async def test_devices(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    hub = entry_device(hass, loaded_entry, loaded_entry.entry_id)
    assert hub is not None
    assert hub.sw_version == "0.1.0"
    provider = entry_device(hass, loaded_entry, f"{loaded_entry.entry_id}_openai")
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


@pytest.mark.parametrize(("hub_state", "usage", "checked", "status", "latency"), PROVIDER_TABLE)
async def test_provider_status_and_latency(
    hass: HomeAssistant,
    fake_hub: FakeHub,
    loaded_entry: MockConfigEntry,
    hub_state: str,
    usage: dict[str, float],
    checked: float | None,
    status: str,
    latency: str,
) -> None:
    row = fake_hub.bodies["/api/v1/providers"]["providers"][1]
    row["state"], row["latency_ms"] = hub_state, checked
    fake_hub.bodies["/api/v1/usage"]["by_provider"]["ollama"] = usage
    await loaded_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "sensor.ollama_status") == status
    assert state(hass, "sensor.ollama_average_latency") == latency


@pytest.mark.usefixtures("loaded_entry")
async def test_usage_windows_are_asked_for(fake_hub: FakeHub) -> None:
    """The last 24 hours (provider figures), and this UTC day and month (spend per caller)."""
    window, day, month = (
        datetime.fromisoformat(r.query["since"])
        for r in fake_hub.requests
        if r.path == "/api/v1/usage"
    )
    now = dt_util.utcnow()
    assert timedelta(hours=24) <= now - window < timedelta(hours=24, minutes=5)
    assert day == now.replace(hour=0, minute=0, second=0, microsecond=0)
    assert month == day.replace(day=1)


async def test_removed_provider_loses_device_and_entities(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    entities = er.async_get(hass)
    ollama = f"{loaded_entry.entry_id}_ollama"
    rows = fake_hub.bodies["/api/v1/providers"]["providers"]
    removed = rows.pop()
    coordinator = loaded_entry.runtime_data.coordinator
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert entry_device(hass, loaded_entry, ollama) is None
    assert entities.async_get("sensor.ollama_status") is None
    assert hass.states.get("sensor.ollama_status") is None
    assert state(hass, "sensor.openai_status") == "healthy"

    rows.append(removed)  # it comes back: so do its device and entities
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert entry_device(hass, loaded_entry, ollama) is not None
    assert state(hass, "sensor.ollama_status") == "circuit_open"


async def test_only_stale_devices_can_be_deleted(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    devices = dr.async_get(hass)
    entry_id = loaded_entry.entry_id

    def device(identifier: str) -> dr.DeviceEntry:
        return devices.async_get_or_create(
            config_entry_id=entry_id, identifiers={(DOMAIN, identifier)}
        )

    assert not await async_remove_config_entry_device(hass, loaded_entry, device(entry_id))
    openai = device(f"{entry_id}_openai")
    assert not await async_remove_config_entry_device(hass, loaded_entry, openai)
    stale = device(f"{entry_id}_retired")
    assert await async_remove_config_entry_device(hass, loaded_entry, stale)


async def test_spend_by_caller(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    """Each spend sensor lists the top callers of its period; the rest are summed."""
    callers = {f"automation.job_{n:02d}": {"requests": 1, "cost_usd": n / 100} for n in range(12)}
    callers["conversation.ai_provider_hub_conversation"] = {"requests": 9, "cost_usd": 0.5}
    fake_hub.bodies["/api/v1/usage"]["by_tag"] = callers
    await loaded_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    for entity_id in (
        "sensor.ai_provider_hub_spend_today",
        "sensor.ai_provider_hub_spend_this_month",
    ):
        current = hass.states.get(entity_id)
        assert current is not None
        by_caller = current.attributes["by_caller"]
        assert list(by_caller)[:3] == [
            "conversation.ai_provider_hub_conversation",
            "automation.job_11",
            "automation.job_10",
        ]
        assert len(by_caller) == 11  # ten callers and "other"
        assert by_caller["other"] == pytest.approx(0.01 + 0.0 + 0.02)
        assert sum(by_caller.values()) == pytest.approx(0.5 + sum(n / 100 for n in range(12)))
    # Today and this month are asked for separately (the add-on groups by tag per range).
    since = [r.query["since"] for r in fake_hub.requests if r.path == "/api/v1/usage"][-2:]
    assert since[0] != since[1]
