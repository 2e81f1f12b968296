"""Turn the client's errors into translated Home Assistant errors."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .api_errors import CLIENT_ERROR_KEYS, ERROR_CLASSES, HubApiError, HubAuthError
from .const import DOMAIN

# Every key the add-on (or the client) can answer with has a translation under ``exceptions``;
# anything else falls back to ``unknown_error``. The add-on's keys come from one place, the
# client's ``ERROR_CLASSES`` (its tests keep that equal to the add-on's own list).
HUB_ERROR_KEYS: Final = frozenset(ERROR_CLASSES) | CLIENT_ERROR_KEYS
# The caller can fix these by changing the action's input.
VALIDATION_KEYS: Final = frozenset(
    {
        "invalid_request",
        "not_found",
        "payload_too_large",
        "unsupported_media",
        "no_capable_provider",
        "capability_miss",
        "provider_bad_request",
    }
)


def translated_hub_error(err: HubApiError) -> HomeAssistantError:
    """The translated Home Assistant error for a client error (validation errors apart)."""
    key = err.key if err.key in HUB_ERROR_KEYS else "unknown_error"
    cls = ServiceValidationError if key in VALIDATION_KEYS else HomeAssistantError
    return cls(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"message": err.message},
    )


def validation_error(key: str, **placeholders: str) -> ServiceValidationError:
    """A translated ``ServiceValidationError`` raised before any request is sent."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


async def ask_hub[T](hass: HomeAssistant, entry: ConfigEntry[Any], request: Awaitable[T]) -> T:
    """Await a hub request; its errors as translated errors (a rejected token starts reauth)."""
    try:
        return await request
    except HubAuthError as err:
        entry.async_start_reauth(hass)
        raise translated_hub_error(err) from err
    except HubApiError as err:
        raise translated_hub_error(err) from err
