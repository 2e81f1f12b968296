"""The adaptive strategy (the default): lowest expected cost first, with a little exploration.

All of its constants live in ``AdaptiveTuning``; DOCS.md ("Routing, limits and budgets")
explains them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from addon.models import Routed
from addon.providers.base import Provider
from addon.routing.ordering import Availability, CostEstimator
from addon.routing.stats import StatsBoard


@dataclass(frozen=True, slots=True)
class AdaptiveTuning:
    """The constants of the adaptive strategy.

    expected cost = latency_ms * (in_flight + 1) * (1 + error_weight * error_rate)
                    * (1 + price_weight * price_share) * (1 + priority_weight * priority_share)

    ``latency_ms`` is the provider's peak-EWMA latency (1000 ms before its first answer),
    ``error_rate`` its time-decayed failure share (0..1), ``price_share`` this request's
    estimated price divided by the dearest candidate's (0..1; an unknown price counts as 1),
    ``priority_share`` places the provider's ``priority`` between the candidates' best (0) and
    worst (1). With probability ``exploration`` a random other usable candidate goes first, so
    a provider that was slow or failing gets the chance to show that it has recovered.
    """

    error_weight: float = 5.0
    price_weight: float = 1.0
    priority_weight: float = 1.0
    exploration: float = 0.05


ADAPTIVE_TUNING: Final = AdaptiveTuning()


class AdaptiveStrategy:
    """Lowest expected cost first (see ``AdaptiveTuning``); down providers last."""

    name = "adaptive"

    def __init__(
        self,
        availability: Availability,
        stats: StatsBoard,
        estimate_cost: CostEstimator,
        rng: random.Random,
        tuning: AdaptiveTuning = ADAPTIVE_TUNING,
    ) -> None:
        self._availability = availability
        self._stats = stats
        self._estimate_cost = estimate_cost
        self._rng = rng
        self.tuning = tuning

    def scores(self, candidates: Sequence[Provider], request: Routed) -> dict[str, float]:
        """Expected cost of each candidate (lower is better)."""
        tuning = self.tuning
        prices = shares({p.name: self._estimate_cost(p, request) for p in candidates})
        priorities = shares({p.name: float(p.settings.priority) for p in candidates}, span=True)
        scores: dict[str, float] = {}
        for provider in candidates:
            stats = self._stats.get(provider.name)
            scores[provider.name] = (
                stats.latency_estimate()
                * (stats.in_flight + 1)
                * (1 + tuning.error_weight * stats.error_rate())
                * (1 + tuning.price_weight * prices[provider.name])
                * (1 + tuning.priority_weight * priorities[provider.name])
            )
        return scores

    def order(self, candidates: Sequence[Provider], request: Routed) -> list[Provider]:
        """Usable candidates by expected cost (one maybe explored first), then the down ones."""
        scores = self.scores(candidates, request)
        up, down = self._availability.split(candidates)
        up.sort(key=lambda p: scores[p.name])
        down.sort(key=lambda p: scores[p.name])
        # Draw on every request so the random sequence does not depend on the candidates.
        explore = self._rng.random() < self.tuning.exploration
        if explore and len(up) > 1:
            up.insert(0, up.pop(self._rng.randrange(1, len(up))))
        return up + down


def shares(values: dict[str, float], *, span: bool = False) -> dict[str, float]:
    """Normalise to 0..1: by the maximum, or (``span``) between the minimum and the maximum.

    A value that is not a finite number (an unknown price) counts as the worst (1).
    """
    finite = [v for v in values.values() if math.isfinite(v)]
    low = min(finite, default=0.0) if span else 0.0
    width = max(finite, default=0.0) - low

    def share(value: float) -> float:
        if not math.isfinite(value):
            return 1.0
        return (value - low) / width if width > 0 else 0.0

    return {name: share(value) for name, value in values.items()}
