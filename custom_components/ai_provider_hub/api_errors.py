"""The client's errors: one root, ``HubApiError``, whose subclass follows the add-on's error key."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from aiohttp import ClientResponse


class HubApiError(Exception):
    """Root of every error the client raises; ``key`` is the add-on's stable error key."""

    default_key = "unknown_error"

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        status: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.key = key or self.default_key
        self.status = status
        self.details: dict[str, Any] = dict(details or {})


class HubConnectionError(HubApiError):
    """The add-on could not be reached."""

    default_key = "cannot_connect"


class HubTimeoutError(HubApiError):
    """The add-on did not answer within the call's deadline."""

    default_key = "timeout"


class HubResponseError(HubApiError):
    """The add-on answered with something that is not its documented JSON."""

    default_key = "invalid_response"


class HubAuthError(HubApiError):
    """The add-on rejected the bearer token."""

    default_key = "unauthorized"


class HubRequestError(HubApiError):
    """The request itself is wrong (bad input, too large, nothing can serve it)."""

    default_key = "invalid_request"


class HubRateLimitError(HubApiError):
    """A limit or a budget refuses the request for now."""

    default_key = "rate_limited"

    @property
    def retry_after(self) -> float | None:
        """Seconds the add-on asks to wait, when it said so."""
        value = self.details.get("retry_after")
        return float(value) if isinstance(value, int | float) else None


class HubUpstreamError(HubApiError):
    """The providers behind the hub failed (all failed, auth, timeout, internal)."""

    default_key = "all_providers_failed"


# The class for each key the add-on answers with: exactly the add-on's keys (its
# ``python -m addon.error_keys``; tests/integration/test_translations.py keeps them equal).
ERROR_CLASSES: Final[Mapping[str, type[HubApiError]]] = {
    "unauthorized": HubAuthError,
    "invalid_request": HubRequestError,
    "not_found": HubRequestError,
    "payload_too_large": HubRequestError,
    "unsupported_media": HubRequestError,
    "no_capable_provider": HubRequestError,
    "capability_miss": HubRequestError,
    "provider_bad_request": HubRequestError,
    "rate_limited": HubRateLimitError,
    "budget_exceeded": HubRateLimitError,
    "provider_rate_limited": HubRateLimitError,
    "all_providers_failed": HubUpstreamError,
    "circuit_open": HubUpstreamError,
    "provider_auth": HubUpstreamError,
    "provider_error": HubUpstreamError,
    "provider_timeout": HubUpstreamError,
    "provider_connection": HubUpstreamError,
    "provider_bad_response": HubUpstreamError,
    "upstream_timeout": HubUpstreamError,
    "internal_error": HubUpstreamError,
    "invalid_config": HubUpstreamError,
    "ledger_error": HubUpstreamError,
    "credentials_unreadable": HubUpstreamError,
    "supervisor_error": HubUpstreamError,
    "forbidden": HubRequestError,
    "request_timeout": HubRequestError,
    "method_not_allowed": HubRequestError,
}
_STATUS_CLASSES: Final[Mapping[int, type[HubApiError]]] = {
    401: HubAuthError,
    403: HubAuthError,
    429: HubRateLimitError,
}


# Keys the client raises itself (the add-on was unreachable, slow or answered nonsense).
CLIENT_ERROR_KEYS: Final = frozenset(
    cls.default_key for cls in (HubApiError, HubConnectionError, HubTimeoutError, HubResponseError)
)


def error_from_response(status: int, body: Any) -> HubApiError:
    """Build the exception for an error answer (the add-on's envelope, or anything else)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("key"), str):
        key: str = error["key"]
        message = str(error.get("message") or key)
        details = {k: v for k, v in error.items() if k not in ("key", "message")}
        cls = ERROR_CLASSES.get(key) or _STATUS_CLASSES.get(status, HubApiError)
        return cls(message, key=key, status=status, details=details)
    cls = _STATUS_CLASSES.get(status, HubResponseError)
    return cls(f"HTTP {status} without an error envelope", status=status)


async def error_from_answer(resp: ClientResponse) -> HubApiError:
    """The exception for an error answer, read from its body (JSON or not)."""
    return error_from_response(resp.status, await json_or_none(resp))


async def json_or_none(resp: ClientResponse) -> Any:
    """The answer's body as JSON, or ``None`` when it is not JSON."""
    try:
        return json.loads(await resp.read())
    except (ValueError, UnicodeDecodeError):
        return None
