"""The AI Provider Hub integration: Home Assistant actions and entities for the add-on."""

from __future__ import annotations

from homeassistant.const import CONF_URL, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from .alerts import HubAlerts
from .api import HubClient
from .const import CONF_TOKEN, DOMAIN
from .coordinator import HubConfigEntry, HubCoordinator, HubRuntimeData
from .entity import provider_device_id
from .migration import async_migrate_entry
from .services import async_setup_services

PLATFORMS: list[Platform] = [
    Platform.AI_TASK,
    Platform.CONVERSATION,
    Platform.SENSOR,
    Platform.STT,
    Platform.TTS,
]
__all__ = ["async_migrate_entry"]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001 - Home Assistant's signature
    """Register the actions (they exist whether or not an entry is loaded)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: HubConfigEntry) -> bool:
    """Connect to the hub, take a first poll and set up the platforms."""
    client = HubClient(async_get_clientsession(hass), entry.data[CONF_URL], entry.data[CONF_TOKEN])
    coordinator = HubCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = HubRuntimeData(client=client, coordinator=coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    HubAlerts(hass, entry, coordinator).async_start()
    entry.async_on_unload(entry.add_update_listener(_async_reload))
    return True


async def _async_reload(hass: HomeAssistant, entry: HubConfigEntry) -> None:
    """Options or subentries changed: set the entry up again with them."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: HubConfigEntry) -> bool:
    """Unload the platforms."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_config_entry_device(
    hass: HomeAssistant,  # noqa: ARG001 - Home Assistant's signature
    entry: HubConfigEntry,
    device: DeviceEntry,
) -> bool:
    """Let the user delete a provider's device once the hub no longer has that provider."""
    data = entry.runtime_data.coordinator.data
    current = {(DOMAIN, provider_device_id(entry.entry_id, p.name)) for p in data.providers}
    kept = {(DOMAIN, entry.entry_id)} | {(DOMAIN, sub) for sub in entry.subentries}
    return not any(identifier in current or identifier in kept for identifier in device.identifiers)
