"""Sensors: spend, requests, tokens and budget of the hub; status and latency per provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, cast

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import ProviderInfo, UsageReport, UsageTotals
from .coordinator import HubConfigEntry, HubData
from .entity import HubEntity, ProviderEntity

PARALLEL_UPDATES = 0  # the coordinator does all the fetching

HUB_STATES: Final = ["ok", "degraded", "down"]
PROVIDER_STATES: Final = [
    "healthy",
    "degraded",
    "down",
    "unknown",
    "disabled",
    "circuit_open",
    "over_budget",
]

type StateValue = str | int | float | None


@dataclass(frozen=True, kw_only=True)
class HubSensorDescription(SensorEntityDescription):
    """A hub sensor: its value from one poll."""

    value_fn: Callable[[HubData], StateValue]
    needs_usage: bool = True


@dataclass(frozen=True, kw_only=True)
class ProviderSensorDescription(SensorEntityDescription):
    """A provider sensor: its value from the provider's row."""

    value_fn: Callable[[ProviderInfo], StateValue]


def _usage(data: HubData, period: str) -> UsageTotals:
    usage: UsageReport = data.usage or {}
    totals = usage.get(period)
    return cast(UsageTotals, totals) if isinstance(totals, dict) else {}


def _budget_left(data: HubData, window: str) -> float | None:
    budget = (data.usage or {}).get("budget") or {}
    return (budget.get(window) or {}).get("left_usd")


def _tokens(totals: UsageTotals) -> int | None:
    if "input_tokens" not in totals and "output_tokens" not in totals:
        return None
    return totals.get("input_tokens", 0) + totals.get("output_tokens", 0)


def _provider_state(provider: ProviderInfo) -> str | None:
    state = provider.get("state")
    return state if state in PROVIDER_STATES else None


def _monetary(key: str, value_fn: Callable[[HubData], StateValue]) -> HubSensorDescription:
    return HubSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="USD",
        suggested_display_precision=2,
        value_fn=value_fn,
    )


HUB_SENSORS: Final[tuple[HubSensorDescription, ...]] = (
    HubSensorDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=HUB_STATES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.health.get("status"),
        needs_usage=False,
    ),
    _monetary("spend_today", lambda data: _usage(data, "today").get("cost_usd")),
    _monetary("spend_month", lambda data: _usage(data, "month").get("cost_usd")),
    HubSensorDescription(
        key="requests_today",
        translation_key="requests_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda data: _usage(data, "today").get("requests"),
    ),
    HubSensorDescription(
        key="tokens_today",
        translation_key="tokens_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda data: _tokens(_usage(data, "today")),
    ),
    _monetary("budget_left_today", lambda data: _budget_left(data, "daily")),
    _monetary("budget_left_month", lambda data: _budget_left(data, "monthly")),
)

PROVIDER_SENSORS: Final[tuple[ProviderSensorDescription, ...]] = (
    ProviderSensorDescription(
        key="status",
        translation_key="provider_status",
        device_class=SensorDeviceClass.ENUM,
        options=PROVIDER_STATES,
        value_fn=_provider_state,
    ),
    ProviderSensorDescription(
        key="latency",
        translation_key="latency",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda provider: provider.get("latency_ms"),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub sensors now, and provider sensors for every provider as it appears."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(HubSensor(coordinator, description) for description in HUB_SENSORS)
    known: set[str] = set()

    @callback
    def add_new_providers() -> None:
        new = [p for p in coordinator.data.providers if p["name"] not in known]
        known.update(p["name"] for p in new)
        async_add_entities(
            ProviderSensor(coordinator, description, provider)
            for provider in new
            for description in PROVIDER_SENSORS
        )

    add_new_providers()
    entry.async_on_unload(coordinator.async_add_listener(add_new_providers))


class HubSensor(HubEntity, SensorEntity):
    """A sensor of the hub device."""

    entity_description: HubSensorDescription

    @property
    def available(self) -> bool:
        """Usage sensors need the add-on's usage endpoint."""
        usage_ok = self.coordinator.data.usage is not None
        return super().available and (usage_ok or not self.entity_description.needs_usage)

    @property
    def native_value(self) -> StateValue:
        """The value from the latest poll."""
        return self.entity_description.value_fn(self.coordinator.data)


class ProviderSensor(ProviderEntity, SensorEntity):
    """A sensor of one provider."""

    entity_description: ProviderSensorDescription

    @property
    def native_value(self) -> StateValue:
        """The value from the provider's latest row."""
        provider = self.provider
        return self.entity_description.value_fn(provider) if provider else None
