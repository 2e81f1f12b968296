"""Polls the add-on's health, providers and usage for the entities."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api import HubApiError, HubAuthError, HubClient
from .api_models import Health, ProviderInfo, UsageReport, UsageTotals
from .const import DOMAIN, UPDATE_INTERVAL, USAGE_WINDOW

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HubData:
    """One poll of the add-on."""

    health: Health
    providers: list[ProviderInfo]
    usage: UsageReport | None  # None while the add-on has no usage endpoint
    # Spend per caller tag (``by_tag``) this UTC day and this UTC month.
    callers_today: dict[str, UsageTotals] = field(default_factory=dict)
    callers_month: dict[str, UsageTotals] = field(default_factory=dict)

    def provider(self, name: str) -> ProviderInfo | None:
        """The provider called ``name``, if the hub still has it."""
        return next((p for p in self.providers if p.name == name), None)

    def provider_usage(self, name: str) -> UsageTotals:
        """The provider's figures over the usage window (empty when it had no calls)."""
        by_provider = self.usage.by_provider if self.usage else {}
        return by_provider.get(name) or UsageTotals()


@dataclass(slots=True)
class HubRuntimeData:
    """What a loaded entry keeps in ``entry.runtime_data``."""

    client: HubClient
    coordinator: HubCoordinator


type HubConfigEntry = ConfigEntry[HubRuntimeData]


class HubCoordinator(DataUpdateCoordinator[HubData]):
    """Fetches ``HubData`` every minute; a rejected token starts reauth."""

    config_entry: HubConfigEntry

    def __init__(self, hass: HomeAssistant, entry: HubConfigEntry, client: HubClient) -> None:
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=UPDATE_INTERVAL,
        )
        self.client = client

    async def _async_update_data(self) -> HubData:
        try:
            health = await self.client.health()
            providers = await self.client.providers()
            usage = await self._fetch_usage()
            today, month = await self._fetch_callers() if usage is not None else ({}, {})
        except HubAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="unauthorized",
                translation_placeholders={"message": err.message},
            ) from err
        except HubApiError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"message": err.message},
            ) from err
        return HubData(
            health=health,
            providers=providers,
            usage=usage,
            callers_today=today,
            callers_month=month,
        )

    async def _fetch_callers(
        self,
    ) -> tuple[dict[str, UsageTotals], dict[str, UsageTotals]]:
        """Spend by tag this UTC day and this UTC month (the add-on counts days in UTC)."""
        day = dt_util.utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        today = await self.client.usage(day.isoformat())
        month = await self.client.usage(day.replace(day=1).isoformat())
        return today.by_tag, month.by_tag

    async def _fetch_usage(self) -> UsageReport | None:
        since = (dt_util.utcnow() - USAGE_WINDOW).isoformat()
        try:
            return await self.client.usage(since)
        except HubApiError as err:
            if err.status == 404:
                _LOGGER.debug("The hub has no usage endpoint yet")
                return None
            raise
