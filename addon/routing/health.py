"""What the hub currently knows about each provider's health."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from addon.models import HealthStatus
from addon.providers.base import Provider

_LOGGER = logging.getLogger(__name__)


class ProviderState(StrEnum):
    """A provider's state as shown on ``/health`` and ``/api/v1/providers``."""

    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    DOWN = "down"
    DISABLED = "disabled"


@dataclass(slots=True)
class ProviderHealth:
    """Last known health of one provider (from checks and from real calls)."""

    state: ProviderState = ProviderState.UNKNOWN
    error_key: str | None = None
    message: str | None = None
    latency_ms: float | None = None
    checked_at: float | None = None


class HealthBoard:
    """Keeps the last known health of every provider; updated by checks and by calls."""

    def __init__(self, providers: Iterable[Provider]) -> None:
        self._health: dict[str, ProviderHealth] = {}
        for provider in providers:
            state = ProviderState.UNKNOWN if provider.settings.enabled else ProviderState.DISABLED
            self._health[provider.name] = ProviderHealth(state=state)

    def get(self, name: str) -> ProviderHealth:
        """Health of ``name``."""
        return self._health[name]

    def reset(self, name: str) -> None:
        """Forget what is known about ``name`` (its configuration changed)."""
        self._health[name] = ProviderHealth()

    def record_success(self, name: str, latency_ms: float) -> None:
        """A call or check succeeded."""
        health = self._health[name]
        health.state = ProviderState.HEALTHY
        health.error_key = None
        health.message = None
        health.latency_ms = latency_ms
        health.checked_at = time.time()

    def record_failure(self, name: str, error_key: str, message: str) -> None:
        """A call or check failed in a way that says the provider is unwell."""
        health = self._health[name]
        health.state = ProviderState.DOWN
        health.error_key = error_key
        health.message = message
        health.checked_at = time.time()

    def apply(self, name: str, status: HealthStatus) -> None:
        """Record a health check's result."""
        if status.ok:
            self.record_success(name, status.latency_ms)
        else:
            self.record_failure(name, status.error_key or "unknown", status.message or "")
