"""Diagnostics: entry, options and the latest poll, with the token and URLs redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Final

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant

from .const import CONF_TOKEN
from .coordinator import HubConfigEntry

TO_REDACT: Final = {CONF_TOKEN, CONF_URL, "api_key", "api_token", "base_url", "url"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: HubConfigEntry
) -> dict[str, Any]:
    """Everything useful for a bug report, nothing that grants access."""
    coordinator = entry.runtime_data.coordinator
    data = asdict(coordinator.data) if coordinator.data else None
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "last_update_success": coordinator.last_update_success,
        "data": async_redact_data(data, TO_REDACT) if data else None,
    }
