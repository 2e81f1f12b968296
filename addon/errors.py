"""The hub's exception hierarchy: one root, stable machine-readable keys.

Every error the hub raises carries a ``key`` (stable, machine readable, translated on the
Home Assistant side) and the HTTP ``status`` the API answers with. Provider SDK exceptions
are mapped into the ``ProviderError`` branch once, inside each provider module.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Root of every error the hub raises on purpose."""

    key = "internal_error"
    status = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """Return the error body (``{"key", "message", ...details}``)."""
        return {"key": self.key, "message": self.message, **self.details}


class InvalidRequestError(HubError):
    """The caller's request is malformed or asks for something impossible."""

    key = "invalid_request"
    status = 400


class UnauthorizedError(HubError):
    """Missing or wrong bearer token."""

    key = "unauthorized"
    status = 401


class ForbiddenError(HubError):
    """The request is understood, and the hub's settings forbid it."""

    key = "forbidden"
    status = 403


class NotFoundError(HubError):
    """A named resource (provider, route) does not exist."""

    key = "not_found"
    status = 404


class MethodNotAllowedError(HubError):
    """The route exists, but not for this HTTP method (``allowed`` lists those it takes)."""

    key = "method_not_allowed"
    status = 405


class PayloadTooLargeError(HubError):
    """The request body or one of its images is over a limit."""

    key = "payload_too_large"
    status = 413


class UnsupportedMediaError(HubError):
    """An image or a request body is in a format the hub does not accept."""

    key = "unsupported_media"
    status = 415


class RequestTimeoutError(HubError):
    """The request body did not arrive in time (a slow or stalled client)."""

    key = "request_timeout"
    status = 408


class NoCapableProviderError(HubError):
    """No enabled provider can serve this request (vision, pinned provider/model...)."""

    key = "no_capable_provider"
    status = 422


class RateLimitedError(HubError):
    """The hub's own limits refuse the request for now."""

    key = "rate_limited"
    status = 429


class BudgetExceededError(HubError):
    """Every candidate is over its spending budget."""

    key = "budget_exceeded"
    status = 429


class AllProvidersFailedError(HubError):
    """Every candidate failed with a retryable error."""

    key = "all_providers_failed"
    status = 502


class CircuitOpenError(HubError):
    """A provider is skipped: its circuit breaker is open (an attempt with this key when reached).

    Strategies put such providers last, so the walk reaches them only when all else failed.
    """

    key = "circuit_open"
    status = 502


class UpstreamTimeoutError(HubError):
    """The request's total deadline passed before any provider answered."""

    key = "upstream_timeout"
    status = 504


class ConfigError(HubError):
    """The options file is invalid."""

    key = "invalid_config"
    status = 500


class ProviderError(HubError):
    """A provider call failed. Subclasses say whether another provider may help.

    ``retryable``: another candidate (or a later try) may succeed. ``provider_fault``: the
    failure says something about the provider's health and counts towards its breaker and
    error rate.
    """

    key = "provider_error"
    status = 502
    retryable = True
    provider_fault = True


class ProviderAuthError(ProviderError):
    """The provider rejected the credentials (401/403), or it has none.

    Another provider, with its own key, may answer: the walk moves on, but never tries this
    provider again in the same request, and its breaker keeps it out until the key changes or
    a check of it passes.
    """

    key = "provider_auth"
    status = 502


class ProviderRateLimitError(ProviderError):
    """The provider said 429 / overloaded; ``retry_after`` seconds when it told us."""

    key = "provider_rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: float | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after


class ProviderTimeoutError(ProviderError):
    """The provider did not answer within the call's deadline."""

    key = "provider_timeout"
    status = 504


class ProviderConnectionError(ProviderError):
    """The provider could not be reached (refused, DNS, reset)."""

    key = "provider_connection"
    status = 502


class ProviderBadRequestError(ProviderError):
    """The provider rejected the request itself (4xx other than auth/429): not retried."""

    key = "provider_bad_request"
    status = 400
    retryable = False
    provider_fault = False


class ProviderCapabilityError(ProviderError):
    """A capability miss: the model cannot serve the request (e.g. it does not call tools).

    The walk moves on to the next candidate without blaming the provider; when every
    candidate misses, the request ends with ``no_capable_provider``.
    """

    key = "capability_miss"
    status = 422
    retryable = True
    provider_fault = False


class ProviderResponseError(ProviderError):
    """The provider answered 5xx, or with a body we cannot use (malformed, invalid JSON)."""

    key = "provider_bad_response"
    status = 502
