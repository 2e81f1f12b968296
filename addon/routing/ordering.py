"""Shared ground of the strategies: the protocol, the cost estimator type, availability."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from addon.models import Routed
from addon.providers.base import Provider
from addon.routing.breaker import BreakerBoard
from addon.routing.health import HealthBoard, ProviderState

CostEstimator = Callable[[Provider, Routed], float]
"""Estimated USD cost of ``request`` on ``provider`` (injected by the manager)."""


class Strategy(Protocol):
    """Orders candidates for one request (first = tried first)."""

    name: str

    def order(self, candidates: Sequence[Provider], request: Routed, /) -> list[Provider]:
        """Return ``candidates`` in the order they should be tried."""


class Availability:
    """Knows which providers to keep last: down on the health board, or breaker open."""

    def __init__(self, health: HealthBoard, breakers: BreakerBoard | None = None) -> None:
        self._health = health
        self._breakers = breakers

    def is_down(self, provider: Provider) -> bool:
        """True when ``provider`` last failed a check or call, or its breaker is open."""
        if self._breakers is not None and self._breakers.is_open(provider.name):
            return True
        return self._health.get(provider.name).state is ProviderState.DOWN

    def split(self, candidates: Sequence[Provider]) -> tuple[list[Provider], list[Provider]]:
        """(usable, down), each by ``priority`` then configuration order."""
        # sorted() is stable, so equal priorities keep configuration order.
        ranked = sorted(candidates, key=lambda p: p.settings.priority)
        up = [p for p in ranked if not self.is_down(p)]
        down = [p for p in ranked if all(p is not u for u in up)]
        return up, down
