"""Turn the client's errors into translated Home Assistant errors."""

from __future__ import annotations

from typing import Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .api import HubApiError
from .const import DOMAIN

# Every key the add-on (or the client) can answer with has a translation under
# ``exceptions``; anything else falls back to ``unknown_error``.
HUB_ERROR_KEYS: Final = frozenset(
    {
        "invalid_request",
        "unauthorized",
        "forbidden",
        "not_found",
        "payload_too_large",
        "unsupported_media",
        "request_timeout",
        "method_not_allowed",
        "no_capable_provider",
        "capability_miss",
        "rate_limited",
        "budget_exceeded",
        "all_providers_failed",
        "circuit_open",
        "provider_auth",
        "provider_bad_request",
        "provider_error",
        "provider_rate_limited",
        "provider_timeout",
        "provider_connection",
        "provider_bad_response",
        "upstream_timeout",
        "internal_error",
        "invalid_config",
        "ledger_error",
        "credentials_unreadable",
        "supervisor_error",
        "cannot_connect",
        "timeout",
        "invalid_response",
        "unknown_error",
    }
)
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
