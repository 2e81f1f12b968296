"""Live statistics per provider: latency estimate, error rate, calls in flight.

The latency estimate is a peak-EWMA: a sample slower than the current estimate replaces it at
once (one slow answer is enough to notice trouble), a faster one pulls the estimate toward itself
with a weight that grows with the time since the last sample (``1 - exp(-elapsed / tau)``), so
the estimate decays toward the recent reality instead of jumping down on one lucky answer.

The error rate is a ratio of exponentially time-decayed counts (half-life ``error_tau * ln 2``)
with one imaginary success as prior, so old failures fade even while a provider gets no traffic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Final

Clock = Callable[[], float]

PRIOR_LATENCY_MS: Final = 1000.0
"""Latency assumed for a provider never seen: middling, so new providers get tried."""

PRIOR_WEIGHT: Final = 1.0
"""Weight of the imaginary success that makes the error rate fade toward 0 without traffic."""


class ProviderStats:
    """Latency, error rate and in-flight count of one provider (all times from ``clock``)."""

    def __init__(self, *, clock: Clock, tau: float = 30.0, error_tau: float = 60.0) -> None:
        self._clock = clock
        self._tau = tau
        self._error_tau = error_tau
        self._latency: float | None = None
        self._latency_at = 0.0
        self._failures = 0.0
        self._calls = 0.0
        self._counts_at = clock()
        self._in_flight = 0
        self.samples = 0

    @property
    def in_flight(self) -> int:
        """Calls started and not yet finished."""
        return self._in_flight

    def start(self) -> None:
        """A call to this provider begins."""
        self._in_flight += 1

    def finish(self, latency_ms: float, ok: bool) -> None:
        """A call ended after ``latency_ms``; ``ok`` is False for a retryable failure.

        A failure's latency only counts when it is slower than the estimate: a timeout says
        the provider is slow, an instant "connection refused" says nothing about its speed.
        """
        self._in_flight = max(0, self._in_flight - 1)
        self.samples += 1
        self._observe_outcome(ok)
        if ok or self._latency is None or latency_ms > self._latency:
            self._observe_latency(latency_ms)

    def latency_estimate(self) -> float:
        """Current peak-EWMA latency in milliseconds (``PRIOR_LATENCY_MS`` before any sample)."""
        return PRIOR_LATENCY_MS if self._latency is None else self._latency

    def error_rate(self) -> float:
        """Time-decayed share of failed calls, 0..1."""
        failures, calls = self._decayed_counts(self._clock())
        return failures / (calls + PRIOR_WEIGHT)

    def snapshot(self) -> dict[str, Any]:
        """Figures for ``/api/v1/providers`` and metrics."""
        return {
            "latency_ms": round(self.latency_estimate(), 1),
            "error_rate": round(self.error_rate(), 4),
            "in_flight": self._in_flight,
            "samples": self.samples,
        }

    # --- internals ------------------------------------------------------------------
    def _observe_latency(self, sample: float) -> None:
        now = self._clock()
        if self._latency is None or sample >= self._latency:
            self._latency = sample
        else:
            elapsed = max(0.0, now - self._latency_at)
            keep = math.exp(-elapsed / self._tau)
            self._latency = self._latency * keep + sample * (1.0 - keep)
        self._latency_at = now

    def _observe_outcome(self, ok: bool) -> None:
        now = self._clock()
        failures, calls = self._decayed_counts(now)
        self._failures = failures + (0.0 if ok else 1.0)
        self._calls = calls + 1.0
        self._counts_at = now

    def _decayed_counts(self, now: float) -> tuple[float, float]:
        keep = math.exp(-max(0.0, now - self._counts_at) / self._error_tau)
        return self._failures * keep, self._calls * keep


class StatsBoard:
    """One ``ProviderStats`` per provider name; unknown names get fresh stats on demand."""

    def __init__(
        self,
        names: Iterable[str] = (),
        *,
        clock: Clock,
        tau: float = 30.0,
        error_tau: float = 60.0,
    ) -> None:
        self._clock = clock
        self._tau = tau
        self._error_tau = error_tau
        self._stats: dict[str, ProviderStats] = {}
        for name in names:
            self.get(name)

    def get(self, name: str) -> ProviderStats:
        """Stats of ``name`` (created on first use)."""
        stats = self._stats.get(name)
        if stats is None:
            stats = ProviderStats(clock=self._clock, tau=self._tau, error_tau=self._error_tau)
            self._stats[name] = stats
        return stats

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Provider name -> figures."""
        return {name: stats.snapshot() for name, stats in self._stats.items()}
