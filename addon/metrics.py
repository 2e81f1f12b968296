"""Prometheus metrics of one hub, in a private registry (never the process-global one).

Labels are limited to ``provider``, ``model``, ``outcome``, ``kind``, ``scope`` and
``period``. Tags are set by callers (user text), so they never become labels. Every label
value goes through the log redactor and a length cap, and outcomes are bounded to the hub's
error keys, so neither secrets nor unbounded cardinality can reach the exposition.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics import MetricWrapperBase

from addon.errors import HubError
from addon.redact import generation, redact

PREFIX: Final = "ai_provider_hub_"
# LLM calls range from a local model's quick answer to a long vision reply.
LATENCY_BUCKETS: Final = (
    0.1,
    0.25,
    0.5,
    1.0,
    2.0,
    3.0,
    5.0,
    8.0,
    13.0,
    20.0,
    30.0,
    45.0,
    60.0,
    90.0,
    120.0,
)
CIRCUIT_STATES: Final = {"closed": 0, "half_open": 1, "open": 2}
MAX_LABEL_LENGTH: Final = 80
MAX_CACHED_CHILDREN: Final = 4096  # a bound in case models named in answers keep changing
OTHER: Final = "other"


def _error_keys(root: type[HubError] = HubError) -> Iterator[str]:
    yield root.key
    for sub in root.__subclasses__():
        yield from _error_keys(sub)


OUTCOMES: Final = frozenset({"ok", *_error_keys()})


def safe_label(value: str) -> str:
    """A label value with secret shapes masked and its length capped."""
    cleaned = redact(str(value)).strip() or "unknown"
    return cleaned[:MAX_LABEL_LENGTH]


def outcome_label(outcome: str) -> str:
    """``ok`` or a known error key; anything else becomes ``other`` (bounded cardinality)."""
    return outcome if outcome in OUTCOMES else OTHER


class HubMetrics:
    """The hub's counters, gauges and histograms; the manager calls its methods."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple[MetricWrapperBase, tuple[str, ...]], Any] = {}
        self._generation = generation()
        self._build_traffic()
        self._build_state()

    def _build_traffic(self) -> None:
        reg = self.registry
        self._attempts = Counter(
            PREFIX + "attempts",
            "Provider attempts by outcome (ok or error key).",
            ("provider", "model", "outcome"),
            registry=reg,
        )
        self._latency = Histogram(
            PREFIX + "attempt_latency_seconds",
            "Latency of provider attempts in seconds.",
            ("provider", "model", "outcome"),
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self._requests = Counter(
            PREFIX + "requests", "Hub requests by final outcome.", ("outcome",), registry=reg
        )
        self._cached_requests = Counter(
            PREFIX + "cached_responses", "Requests answered from the response cache.", registry=reg
        )
        self._tokens = Counter(
            PREFIX + "tokens",
            "Tokens by provider, model and kind (input or output).",
            ("provider", "model", "kind"),
            registry=reg,
        )
        self._cost = Counter(
            PREFIX + "cost_usd", "Spend in USD.", ("provider", "model"), registry=reg
        )
        self._cache_hits = Counter(PREFIX + "cache_hits", "Response cache hits.", registry=reg)
        self._cache_misses = Counter(
            PREFIX + "cache_misses", "Response cache misses.", registry=reg
        )

    def _build_state(self) -> None:
        reg = self.registry
        self._circuit = Gauge(
            PREFIX + "circuit_state",
            "Circuit breaker state: 0 closed, 1 half_open, 2 open.",
            ("provider",),
            registry=reg,
        )
        self._headroom = Gauge(
            PREFIX + "limit_headroom",
            "Remaining room under a provider limit (kind: rpm, tpm, concurrency).",
            ("provider", "kind"),
            registry=reg,
        )
        self._budget_left = Gauge(
            PREFIX + "budget_left_usd",
            "Budget left in USD (scope: global or a provider; period: day or month).",
            ("scope", "period"),
            registry=reg,
        )
        self._in_flight = Gauge(
            PREFIX + "in_flight", "Calls in flight per provider.", ("provider",), registry=reg
        )

    def observe_attempt(self, provider: str, model: str, outcome: str, latency_s: float) -> None:
        """Count one provider attempt and record its latency."""
        labels = (provider, model, outcome_label(outcome))
        self._child(self._attempts, *labels).inc()
        self._child(self._latency, *labels).observe(max(latency_s, 0.0))

    def observe_request(self, outcome: str, cached: bool) -> None:
        """Count one finished hub request (``cached`` when the cache answered it)."""
        self._child(self._requests, outcome_label(outcome)).inc()
        if cached:
            self._cached_requests.inc()

    def add_tokens(self, provider: str, model: str, input: int, output: int) -> None:
        """Add the tokens of one call."""
        self._child(self._tokens, provider, model, "input").inc(max(input, 0))
        self._child(self._tokens, provider, model, "output").inc(max(output, 0))

    def add_cost(self, provider: str, model: str, usd: float) -> None:
        """Add the settled cost of one call."""
        self._child(self._cost, provider, model).inc(max(usd, 0.0))

    def set_circuit(self, provider: str, state: str) -> None:
        """Publish a breaker state (``closed``, ``half_open`` or ``open``)."""
        try:
            value = CIRCUIT_STATES[str(state)]
        except KeyError as err:
            raise ValueError(f"Unknown circuit state {state!r}") from err
        self._child(self._circuit, provider).set(value)

    def set_headroom(self, provider: str, kind: str, value: float) -> None:
        """Publish how much room is left under one of a provider's limits."""
        self._child(self._headroom, provider, kind).set(value)

    def set_budget_left(self, scope: str, period: str, usd: float) -> None:
        """Publish the budget left for ``scope`` (``global`` or a provider) in ``period``."""
        self._child(self._budget_left, scope, period).set(usd)

    def cache_hit(self) -> None:
        """Count a response cache hit."""
        self._cache_hits.inc()

    def cache_miss(self) -> None:
        """Count a response cache miss."""
        self._cache_misses.inc()

    def set_in_flight(self, provider: str, n: int) -> None:
        """Publish the number of calls in flight at ``provider``."""
        self._child(self._in_flight, provider).set(n)

    def _child(self, metric: MetricWrapperBase, *values: str) -> Any:
        """``metric``'s child for these label values (made safe), cached.

        The same few providers and models come back on every call; a newly registered secret
        makes every cached label stale.
        """
        if self._generation != (now := generation()) or len(self._children) > MAX_CACHED_CHILDREN:
            self._children.clear()
            self._generation = now
        key = (metric, values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*map(safe_label, values))
        return child

    def render(self) -> tuple[bytes, str]:
        """The exposition body and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_PLAIN_0_0_4
