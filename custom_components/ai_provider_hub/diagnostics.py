"""Diagnostics: entry, options and the latest poll, with the token and URLs redacted."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any, Final

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant

from .const import CONF_TOKEN
from .coordinator import HubConfigEntry

# The unique id is the hub's host and port, so it goes too.
TO_REDACT: Final = {
    CONF_TOKEN,
    CONF_URL,
    "api_key",
    "api_token",
    "base_url",
    "url",
    "unique_id",
}
# Provider error messages may quote the URL that failed (with a host, a path or a query key).
URL_PATTERN: Final = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant,  # noqa: ARG001 - Home Assistant's signature
    entry: HubConfigEntry,
) -> dict[str, Any]:
    """Everything useful for a bug report, nothing that grants access or locates a host."""
    coordinator = entry.runtime_data.coordinator
    data = asdict(coordinator.data) if coordinator.data else None
    result: dict[str, Any] = {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "last_update_success": coordinator.last_update_success,
        "data": async_redact_data(data, TO_REDACT) if data else None,
    }
    scrubbed: dict[str, Any] = scrub_urls(result)
    return scrubbed


def scrub_urls(value: Any) -> Any:
    """``value`` with every URL inside its strings replaced (mappings and lists walked)."""
    if isinstance(value, str):
        return URL_PATTERN.sub(REDACTED, value)
    if isinstance(value, dict):
        return {key: scrub_urls(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_urls(item) for item in value]
    return value
