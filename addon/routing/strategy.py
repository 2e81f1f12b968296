"""Strategies order the capable candidates of a request; the manager walks that order.

Every strategy puts providers that are known to be down (failed health check or call) or whose
circuit breaker is open after the others, so they are only tried when nothing else is left.
Ties are broken by ``priority`` (lower first), then by configuration order.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Final

from addon.errors import ConfigError
from addon.models import Routed
from addon.providers.base import Provider
from addon.routing.adaptive import ADAPTIVE_TUNING, AdaptiveStrategy, AdaptiveTuning
from addon.routing.breaker import BreakerBoard
from addon.routing.health import HealthBoard
from addon.routing.ordering import Availability, CostEstimator, Strategy
from addon.routing.stats import StatsBoard
from addon.settings import STRATEGIES

__all__ = [
    "ADAPTIVE_TUNING",
    "UNCAPPED_CONCURRENCY",
    "AdaptiveStrategy",
    "AdaptiveTuning",
    "CostEstimator",
    "CostStrategy",
    "FastestStrategy",
    "LeastLoadedStrategy",
    "PriorityStrategy",
    "RoundRobinStrategy",
    "Strategy",
    "WeightedStrategy",
    "make_strategies",
    "make_strategy",
]

UNCAPPED_CONCURRENCY: Final = 100
"""Concurrency cap assumed by ``least_loaded`` for a provider without ``max_concurrency``."""


class _KeyedStrategy:
    """Base for strategies that sort the usable and the down group by one key."""

    name = ""

    def __init__(self, availability: Availability) -> None:
        self._availability = availability

    def _key(self, provider: Provider, request: Routed, /) -> float:
        raise NotImplementedError

    def order(self, candidates: Sequence[Provider], request: Routed, /) -> list[Provider]:
        """Usable candidates by ascending key, then the down ones by the same key."""
        up, down = self._availability.split(candidates)
        return sorted(up, key=lambda p: self._key(p, request)) + sorted(
            down, key=lambda p: self._key(p, request)
        )


class PriorityStrategy(_KeyedStrategy):
    """Lowest ``priority`` first; providers known to be down go last, in priority order."""

    name = "priority"

    def __init__(self, health: HealthBoard, breakers: BreakerBoard | None = None) -> None:
        super().__init__(Availability(health, breakers))

    def _key(self, provider: Provider, _request: Routed, /) -> float:
        return float(provider.settings.priority)


class LeastLoadedStrategy(_KeyedStrategy):
    """Fewest calls in flight relative to the provider's ``max_concurrency`` first."""

    name = "least_loaded"

    def __init__(self, availability: Availability, stats: StatsBoard) -> None:
        super().__init__(availability)
        self._stats = stats

    def _key(self, provider: Provider, _request: Routed, /) -> float:
        cap = provider.settings.max_concurrency or UNCAPPED_CONCURRENCY
        return self._stats.get(provider.name).in_flight / cap


class FastestStrategy(_KeyedStrategy):
    """Lowest latency estimate (peak-EWMA) first."""

    name = "fastest"

    def __init__(self, availability: Availability, stats: StatsBoard) -> None:
        super().__init__(availability)
        self._stats = stats

    def _key(self, provider: Provider, _request: Routed, /) -> float:
        return self._stats.get(provider.name).latency_estimate()


class CostStrategy(_KeyedStrategy):
    """Cheapest estimated cost of this very request first (local providers cost 0)."""

    name = "cost"

    def __init__(self, availability: Availability, estimate_cost: CostEstimator) -> None:
        super().__init__(availability)
        self._estimate_cost = estimate_cost

    def _key(self, provider: Provider, request: Routed, /) -> float:
        return self._estimate_cost(provider, request)


class RoundRobinStrategy:
    """Each request starts one further along the ring of usable candidates."""

    name = "round_robin"

    def __init__(self, availability: Availability) -> None:
        self._availability = availability
        self._turn = 0

    def order(self, candidates: Sequence[Provider], _request: Routed, /) -> list[Provider]:
        """The usable ring rotated by this request's turn, then the down ones."""
        up, down = self._availability.split(candidates)
        if not up:
            return down
        start = self._turn % len(up)
        self._turn += 1
        return up[start:] + up[:start] + down


class WeightedStrategy:
    """Smooth weighted round robin over ``weight``: shares match the weights exactly.

    The chosen provider goes first, the others follow by descending weight. A weight of 0
    makes a provider a fallback only (never first while a weighted one is usable).
    """

    name = "weighted"

    def __init__(self, availability: Availability) -> None:
        self._availability = availability
        self._current: dict[str, float] = {}

    def order(self, candidates: Sequence[Provider], _request: Routed, /) -> list[Provider]:
        """Pick the first by smooth weighted round robin; then by weight, then the down ones."""
        up, down = self._availability.split(candidates)
        rest = sorted(up, key=lambda p: -p.settings.weight)
        weighted = [p for p in up if p.settings.weight > 0]
        if not weighted:
            return rest + down
        total = sum(p.settings.weight for p in weighted)
        for provider in weighted:
            self._current[provider.name] = (
                self._current.get(provider.name, 0.0) + provider.settings.weight
            )
        chosen = max(weighted, key=lambda p: self._current[p.name])  # first max wins ties
        self._current[chosen.name] -= total
        return [chosen, *(p for p in rest if p is not chosen), *down]


def make_strategy(
    name: str,
    *,
    stats: StatsBoard,
    health: HealthBoard,
    estimate_cost: CostEstimator,
    rng: random.Random,
    breakers: BreakerBoard | None = None,
    tuning: AdaptiveTuning = ADAPTIVE_TUNING,
) -> Strategy:
    """The strategy called ``name``; ``ConfigError`` for an unknown name."""
    availability = Availability(health, breakers)
    factories: dict[str, Callable[[], Strategy]] = {
        "adaptive": lambda: AdaptiveStrategy(availability, stats, estimate_cost, rng, tuning),
        "priority": lambda: PriorityStrategy(health, breakers),
        "round_robin": lambda: RoundRobinStrategy(availability),
        "weighted": lambda: WeightedStrategy(availability),
        "least_loaded": lambda: LeastLoadedStrategy(availability, stats),
        "fastest": lambda: FastestStrategy(availability, stats),
        "cost": lambda: CostStrategy(availability, estimate_cost),
    }
    factory = factories.get(name)
    if factory is None:
        raise ConfigError(f"Unknown strategy {name!r} (known: {', '.join(STRATEGIES)})")
    return factory()


def make_strategies(
    *,
    stats: StatsBoard,
    health: HealthBoard,
    estimate_cost: CostEstimator,
    rng: random.Random,
    breakers: BreakerBoard | None = None,
) -> dict[str, Strategy]:
    """One instance of every strategy (stateful ones keep their turn across requests)."""
    return {
        name: make_strategy(
            name,
            stats=stats,
            health=health,
            estimate_cost=estimate_cost,
            rng=rng,
            breakers=breakers,
        )
        for name in STRATEGIES
    }
