"""Sensors: spend, requests, tokens and budget of the hub; status and latency per provider."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .api_models import Budget, ProviderInfo, UsageTotals
from .const import DEGRADED_MIN_REQUESTS, DEGRADED_SUCCESS_RATE, MAX_CALLERS
from .coordinator import HubConfigEntry, HubData
from .entity import HubEntity, ProviderEntity, async_remove_provider_devices

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
    last_reset_fn: Callable[[datetime], datetime] | None = None
    attributes_fn: Callable[[HubData], dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class ProviderSensorDescription(SensorEntityDescription):
    """A provider sensor: its value from the provider's row and the hub's usage figures."""

    value_fn: Callable[[HubData, ProviderInfo], StateValue]


def _today(data: HubData) -> UsageTotals:
    return data.usage.today if data.usage else UsageTotals()


def _month(data: HubData) -> UsageTotals:
    return data.usage.month if data.usage else UsageTotals()


def _budget(data: HubData) -> Budget:
    return data.usage.budget if data.usage else Budget()


def _tokens(totals: UsageTotals) -> int | None:
    if totals.input_tokens is None and totals.output_tokens is None:
        return None
    return (totals.input_tokens or 0) + (totals.output_tokens or 0)


def _provider_state(data: HubData, provider: ProviderInfo) -> str | None:
    """The hub's state for the provider; ``healthy`` turns ``degraded`` when calls often fail."""
    state = provider.state
    if state not in PROVIDER_STATES:
        return None
    if state == "healthy" and _often_fails(data.provider_usage(provider.name)):
        return "degraded"
    return state


def _often_fails(totals: UsageTotals) -> bool:
    rate = totals.success_rate
    requests = totals.requests or 0
    return rate is not None and requests >= DEGRADED_MIN_REQUESTS and rate < DEGRADED_SUCCESS_RATE


def _average_latency(data: HubData, provider: ProviderInfo) -> float | None:
    """Mean latency of the window's calls when the hub reports it, else their median.

    A provider without calls in the window shows its latest health check's latency.
    """
    totals = data.provider_usage(provider.name)
    for value in (totals.avg_latency_ms, totals.p50_latency_ms):
        if value is not None:
            return value
    return provider.latency_ms


def _start_of_day(now: datetime) -> datetime:
    """The add-on counts days in UTC."""
    return dt_util.as_utc(now).replace(hour=0, minute=0, second=0, microsecond=0)


def _start_of_month(now: datetime) -> datetime:
    return _start_of_day(now).replace(day=1)


def spend_by_caller(callers: dict[str, UsageTotals]) -> dict[str, float]:
    """Cost per caller tag, largest first: the top ``MAX_CALLERS``, the rest as ``other``."""
    costs = sorted(
        ((tag, t.cost_usd or 0.0) for tag, t in callers.items()),
        key=lambda item: (-item[1], item[0]),
    )
    shown = dict(costs[:MAX_CALLERS])
    if rest := costs[MAX_CALLERS:]:
        shown["other"] = math.fsum(cost for _tag, cost in rest)
    return shown


def _monetary(
    key: str,
    value_fn: Callable[[HubData], StateValue],
    last_reset_fn: Callable[[datetime], datetime] | None = None,
    attributes_fn: Callable[[HubData], dict[str, Any]] | None = None,
) -> HubSensorDescription:
    return HubSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="USD",
        # Spend resets each period, so it is a total with a last reset (long-term statistics);
        # a budget left is a plain value.
        state_class=SensorStateClass.TOTAL if last_reset_fn else None,
        suggested_display_precision=2,
        value_fn=value_fn,
        last_reset_fn=last_reset_fn,
        attributes_fn=attributes_fn,
    )


HUB_SENSORS: Final[tuple[HubSensorDescription, ...]] = (
    HubSensorDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=HUB_STATES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.health.status,
        needs_usage=False,
    ),
    _monetary(
        "spend_today",
        lambda data: _today(data).cost_usd,
        _start_of_day,
        lambda data: {"by_caller": spend_by_caller(data.callers_today)},
    ),
    _monetary(
        "spend_month",
        lambda data: _month(data).cost_usd,
        _start_of_month,
        lambda data: {"by_caller": spend_by_caller(data.callers_month)},
    ),
    HubSensorDescription(
        key="requests_today",
        translation_key="requests_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda data: _today(data).requests,
    ),
    HubSensorDescription(
        key="tokens_today",
        translation_key="tokens_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda data: _tokens(_today(data)),
    ),
    _monetary("budget_left_today", lambda data: _budget(data).daily.left_usd),
    _monetary("budget_left_month", lambda data: _budget(data).monthly.left_usd),
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
        value_fn=_average_latency,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub sensors now; provider sensors as providers appear, removed as they go."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(HubSensor(coordinator, description) for description in HUB_SENSORS)
    known: set[str] = set()

    @callback
    def sync_providers() -> None:
        if not coordinator.last_update_success:
            return  # a failed poll says nothing about which providers exist
        current = {p.name for p in coordinator.data.providers}
        if gone := known - current:
            known.difference_update(gone)
            async_remove_provider_devices(hass, entry, gone)
        new = [p for p in coordinator.data.providers if p.name not in known]
        known.update(p.name for p in new)
        async_add_entities(
            ProviderSensor(coordinator, description, provider)
            for provider in new
            for description in PROVIDER_SENSORS
        )

    sync_providers()
    entry.async_on_unload(coordinator.async_add_listener(sync_providers))


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

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Spend sensors: the cost per caller (automation, script, agent, tag) in the period."""
        attributes_fn = self.entity_description.attributes_fn
        return attributes_fn(self.coordinator.data) if attributes_fn else None

    @property
    def last_reset(self) -> datetime | None:
        """Start of the period a spend sensor covers (UTC day or month)."""
        reset_fn = self.entity_description.last_reset_fn
        return reset_fn(dt_util.utcnow()) if reset_fn else None


class ProviderSensor(ProviderEntity, SensorEntity):
    """A sensor of one provider."""

    entity_description: ProviderSensorDescription

    @property
    def native_value(self) -> StateValue:
        """The value from the provider's latest row."""
        if (provider := self.provider) is None:
            return None
        return self.entity_description.value_fn(self.coordinator.data, provider)
