"""Strategies order the capable candidates of a request; the manager walks that order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from addon.models import HubRequest
from addon.providers.base import Provider
from addon.routing.health import HealthBoard, ProviderState


class Strategy(Protocol):
    """Orders candidates for one request (first = tried first)."""

    name: str

    def order(self, candidates: Sequence[Provider], request: HubRequest) -> list[Provider]:
        """Return ``candidates`` in the order they should be tried."""


class PriorityStrategy:
    """Lowest ``priority`` first; providers known to be down go last, in priority order."""

    name = "priority"

    def __init__(self, health: HealthBoard) -> None:
        self._health = health

    def order(self, candidates: Sequence[Provider], request: HubRequest) -> list[Provider]:
        """Healthy or unknown providers by priority, then the ones last seen down."""

        def key(provider: Provider) -> tuple[bool, int, int]:
            down = self._health.get(provider.name).state is ProviderState.DOWN
            return (down, provider.settings.priority, list(candidates).index(provider))

        return sorted(candidates, key=key)
