"""Small stand-ins for the breaker, stats, strategy and monitor tests: clock, providers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from addon.models import ChatRequest, HealthStatus, HubRequest, Message, Role
from addon.providers.base import Provider
from addon.settings import ProviderSettings


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time on by ``seconds``."""
        self.now += seconds


HealthCheck = Callable[[float], Awaitable[HealthStatus]]


class FakeProvider:
    """Just enough of a provider for ordering and monitoring: a name, settings, ``health``."""

    def __init__(self, name: str, check: HealthCheck | None = None, **settings: Any) -> None:
        self.name = name
        self.settings = ProviderSettings(name=name, type="openai", model="m", **settings)
        self._check = check

    async def health(self, *, timeout: float) -> HealthStatus:
        """Run the injected check (healthy by default)."""
        if self._check is None:
            return HealthStatus(ok=True, latency_ms=1.0)
        return await self._check(timeout)


def provider(name: str, check: HealthCheck | None = None, **settings: Any) -> Provider:
    """A ``FakeProvider`` typed as the protocol the routing code takes."""
    return cast(Provider, FakeProvider(name, check, **settings))


def request(text: str = "Hello") -> HubRequest:
    """A plain chat request."""
    return HubRequest(chat=ChatRequest(messages=(Message(Role.USER, text),)), request_id="r1")
