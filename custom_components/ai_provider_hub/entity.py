"""Base entities: one device for the hub, one per provider behind it."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api_models import ProviderInfo
from .const import DEFAULT_NAME, DOMAIN, MANUFACTURER
from .coordinator import HubConfigEntry, HubCoordinator


def provider_device_id(entry_id: str, provider_name: str) -> str:
    """The device identifier of one provider of one hub."""
    return f"{entry_id}_{provider_name}"


@callback
def async_remove_provider_devices(
    hass: HomeAssistant, entry: HubConfigEntry, names: Iterable[str]
) -> None:
    """Drop the devices (and so the entities) of providers the hub no longer has."""
    registry = dr.async_get(hass)
    stale = {(DOMAIN, provider_device_id(entry.entry_id, name)) for name in names}
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if device.identifiers & stale:
            registry.async_remove_device(device.id)


def hub_device_info(coordinator: HubCoordinator) -> DeviceInfo:
    """The hub's service device."""
    entry = coordinator.config_entry
    version = coordinator.data.health.version if coordinator.data else None
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer=MANUFACTURER,
        model=DEFAULT_NAME,
        sw_version=version,
        entry_type=DeviceEntryType.SERVICE,
    )


class HubEntity(CoordinatorEntity[HubCoordinator]):
    """An entity of the hub device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: HubCoordinator, description: EntityDescription) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.config_entry.entry_id}_{description.key}"
        self._attr_device_info = hub_device_info(coordinator)


class ProviderEntity(CoordinatorEntity[HubCoordinator]):
    """An entity of one provider's device (linked to the hub device)."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: HubCoordinator, description: EntityDescription, provider: ProviderInfo
    ) -> None:
        super().__init__(coordinator)
        entry_id = coordinator.config_entry.entry_id
        self.entity_description = description
        self.provider_name = provider.name
        self._attr_unique_id = f"{entry_id}_{self.provider_name}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, provider_device_id(entry_id, self.provider_name))},
            name=self.provider_name,
            manufacturer=provider.type or None,
            model=provider.model or None,
            entry_type=DeviceEntryType.SERVICE,
        )

    async def async_added_to_hass(self) -> None:
        """Hang the provider's device under the hub's device."""
        await super().async_added_to_hass()
        # By registry id: the one form of the link every supported Home Assistant accepts
        # (DeviceInfo's via_device identifier is deprecated, via_device_id is too new).
        registry = dr.async_get(self.hass)
        hub = registry.async_get_or_create(
            config_entry_id=self.coordinator.config_entry.entry_id,
            **hub_device_info(self.coordinator),
        )
        device = self.device_entry
        if isinstance(device, dr.DeviceEntry) and device.via_device_id != hub.id:
            registry.async_update_device(device.id, via_device_id=hub.id)

    @property
    def provider(self) -> ProviderInfo | None:
        """The provider's latest data (None once the hub no longer has it)."""
        return self.coordinator.data.provider(self.provider_name)

    @property
    def available(self) -> bool:
        """Available while the hub answers and still has this provider."""
        return super().available and self.provider is not None
