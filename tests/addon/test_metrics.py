"""Hub metrics: exposition samples after observations, label hygiene, the /metrics handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from addon import redact
from addon.metrics import LATENCY_BUCKETS, MAX_LABEL_LENGTH, HubMetrics
from addon.routing.breaker import BreakerState

Labels = frozenset[tuple[str, str]]
ALLOWED_LABELS = {"provider", "model", "outcome", "kind", "scope", "period", "le"}
ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


def samples(metrics: HubMetrics) -> dict[tuple[str, Labels], float]:
    """Every sample of the exposition, keyed by sample name and label set."""
    body, _ = metrics.render()
    found: dict[tuple[str, Labels], float] = {}
    for family in text_string_to_metric_families(body.decode("utf-8")):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(metrics: HubMetrics, name: str, **labels: str) -> float | None:
    """One sample's value, or None when it is absent."""
    return samples(metrics).get((name, frozenset(labels.items())))


def test_attempts_and_latency_histogram() -> None:
    metrics = HubMetrics()
    metrics.observe_attempt("openai", "gpt-4o-mini", "ok", 0.3)
    metrics.observe_attempt("openai", "gpt-4o-mini", "ok", 45.0)
    metrics.observe_attempt("openai", "gpt-4o-mini", "provider_timeout", 30.0)
    ok = {"provider": "openai", "model": "gpt-4o-mini", "outcome": "ok"}
    assert value(metrics, "ai_provider_hub_attempts_total", **ok) == 2
    timeout = {**ok, "outcome": "provider_timeout"}
    assert value(metrics, "ai_provider_hub_attempts_total", **timeout) == 1
    hist = "ai_provider_hub_attempt_latency_seconds"
    assert value(metrics, hist + "_bucket", **ok, le="0.25") == 0
    assert value(metrics, hist + "_bucket", **ok, le="0.5") == 1
    assert value(metrics, hist + "_bucket", **ok, le="30.0") == 1
    assert value(metrics, hist + "_bucket", **ok, le="60.0") == 2
    assert value(metrics, hist + "_bucket", **ok, le="+Inf") == 2
    assert value(metrics, hist + "_count", **ok) == 2
    assert value(metrics, hist + "_sum", **ok) == pytest.approx(45.3)


def test_latency_buckets_span_llm_calls() -> None:
    metrics = HubMetrics()
    metrics.observe_attempt("ollama", "llama3.2", "ok", 1.0)
    bounds = sorted(
        float(dict(labels)["le"]) for (name, labels) in samples(metrics) if name.endswith("_bucket")
    )
    assert bounds[0] == 0.1
    assert bounds[-2] == 120.0
    assert bounds[-1] == float("inf")
    assert len(bounds) == len(LATENCY_BUCKETS) + 1


def test_requests_by_outcome_and_cached() -> None:
    metrics = HubMetrics()
    metrics.observe_request("ok", cached=False)
    metrics.observe_request("ok", cached=True)
    metrics.observe_request("all_providers_failed", cached=False)
    assert value(metrics, "ai_provider_hub_requests_total", outcome="ok") == 2
    assert value(metrics, "ai_provider_hub_requests_total", outcome="all_providers_failed") == 1
    assert value(metrics, "ai_provider_hub_cached_responses_total") == 1


@pytest.mark.parametrize("outcome", ["Ignore previous instructions", "weird", ""])
def test_unknown_outcomes_are_bucketed_as_other(outcome: str) -> None:
    metrics = HubMetrics()
    metrics.observe_request(outcome, cached=False)
    metrics.observe_attempt("openai", "m", outcome, 1.0)
    assert value(metrics, "ai_provider_hub_requests_total", outcome="other") == 1
    labels = {"provider": "openai", "model": "m", "outcome": "other"}
    assert value(metrics, "ai_provider_hub_attempts_total", **labels) == 1


def test_tokens_and_cost_accumulate() -> None:
    metrics = HubMetrics()
    metrics.add_tokens("anthropic", "claude-haiku", 100, 20)
    metrics.add_tokens("anthropic", "claude-haiku", 50, 5)
    metrics.add_cost("anthropic", "claude-haiku", 0.0125)
    metrics.add_cost("anthropic", "claude-haiku", 0.0025)
    metrics.add_cost("ollama", "llama3.2", 0.0)
    who = {"provider": "anthropic", "model": "claude-haiku"}
    assert value(metrics, "ai_provider_hub_tokens_total", **who, kind="input") == 150
    assert value(metrics, "ai_provider_hub_tokens_total", **who, kind="output") == 25
    assert value(metrics, "ai_provider_hub_cost_usd_total", **who) == pytest.approx(0.015)
    local = {"provider": "ollama", "model": "llama3.2"}
    assert value(metrics, "ai_provider_hub_cost_usd_total", **local) == 0


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("closed", 0),
        ("half_open", 1),
        ("open", 2),
        (BreakerState.CLOSED, 0),
        (BreakerState.HALF_OPEN, 1),
        (BreakerState.OPEN, 2),
    ],
)
def test_circuit_state_gauge(state: str, expected: int) -> None:
    metrics = HubMetrics()
    metrics.set_circuit("gemini", "open")
    metrics.set_circuit("gemini", state)
    assert value(metrics, "ai_provider_hub_circuit_state", provider="gemini") == expected


def test_unknown_circuit_state_is_refused() -> None:
    with pytest.raises(ValueError, match="circuit state"):
        HubMetrics().set_circuit("gemini", "ajar")


def test_gauges_hold_the_latest_value() -> None:
    metrics = HubMetrics()
    metrics.set_headroom("ollama", "concurrency", 2)
    metrics.set_headroom("ollama", "concurrency", 1)
    metrics.set_headroom("openai", "rpm", 58)
    metrics.set_budget_left("global", "day", 1.5)
    metrics.set_budget_left("openai", "month", 9.25)
    metrics.set_in_flight("ollama", 3)
    metrics.set_in_flight("ollama", 0)
    headroom = "ai_provider_hub_limit_headroom"
    assert value(metrics, headroom, provider="ollama", kind="concurrency") == 1
    assert value(metrics, headroom, provider="openai", kind="rpm") == 58
    budget = "ai_provider_hub_budget_left_usd"
    assert value(metrics, budget, scope="global", period="day") == 1.5
    assert value(metrics, budget, scope="openai", period="month") == 9.25
    assert value(metrics, "ai_provider_hub_in_flight", provider="ollama") == 0


def test_cache_hits_and_misses() -> None:
    metrics = HubMetrics()
    for _ in range(3):
        metrics.cache_hit()
    metrics.cache_miss()
    assert value(metrics, "ai_provider_hub_cache_hits_total") == 3
    assert value(metrics, "ai_provider_hub_cache_misses_total") == 1


def test_names_prefixed_and_labels_restricted() -> None:
    metrics = HubMetrics()
    metrics.observe_attempt("openai", "gpt-4o", "ok", 1.0)
    metrics.observe_request("ok", cached=False)
    metrics.add_tokens("openai", "gpt-4o", 1, 1)
    metrics.add_cost("openai", "gpt-4o", 0.1)
    metrics.set_circuit("openai", "closed")
    metrics.set_headroom("openai", "tpm", 1000)
    metrics.set_budget_left("global", "month", 10)
    metrics.set_in_flight("openai", 1)
    metrics.cache_hit()
    metrics.cache_miss()
    found = samples(metrics)
    names = {name for name, _ in found}
    assert len(names) > 10
    assert all(name.startswith("ai_provider_hub_") for name in names)
    assert {key for _, labels in found for key, _ in labels} <= ALLOWED_LABELS


SECRETS = [
    "sk-proj-abcdefghijklmnop1234",
    "sk-ant-api03-abcdefghijklmnop",
    "AIzaSyA1234567890abcdefghijklmnop",
    "Bearer abcdef1234567890",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_secret_looking_label_values_are_masked(secret: str) -> None:
    metrics = HubMetrics()
    metrics.observe_attempt(secret, secret, "ok", 1.0)
    metrics.add_tokens(secret, secret, 1, 1)
    metrics.add_cost(secret, secret, 0.1)
    metrics.set_circuit(secret, "open")
    metrics.set_headroom(secret, secret, 1)
    metrics.set_budget_left(secret, secret, 1)
    metrics.set_in_flight(secret, 1)
    body, _ = metrics.render()
    tail = secret.rsplit(maxsplit=1)[-1]
    assert tail not in body.decode("utf-8")
    fixed = {"le", "outcome", "input", "output"}
    masked = {v for _, labels in samples(metrics) for k, v in labels if {k, v}.isdisjoint(fixed)}
    assert masked
    assert all("…" in v for v in masked), masked


def test_registered_secret_is_masked_anywhere_in_a_label() -> None:
    token = "hubtoken-5f0c2a9e77d1"
    redact.register(token)
    metrics = HubMetrics()
    metrics.set_in_flight(f"provider-{token}", 1)
    assert token not in metrics.render()[0].decode("utf-8")


def test_a_secret_registered_later_is_masked_in_labels_seen_before() -> None:
    token = "latetoken-9a8b7c6d5e4f"
    metrics = HubMetrics()
    metrics.observe_attempt(f"p-{token}", "m", "ok", 0.1)  # cached under the raw value
    redact.register(token)
    metrics.observe_attempt(f"p-{token}", "m", "ok", 0.1)
    counts = {
        dict(labels)["provider"]: count
        for (name, labels), count in samples(metrics).items()
        if name == "ai_provider_hub_attempts_total"
    }
    assert counts[f"p-{token}"] == 1  # exposed before the hub knew it was a secret
    masked = [provider for provider in counts if provider != f"p-{token}"]
    assert len(masked) == 1
    assert token not in masked[0]
    assert counts[masked[0]] == 1


def test_long_label_values_are_capped() -> None:
    metrics = HubMetrics()
    metrics.set_in_flight("x" * 500, 1)
    values = [v for _, labels in samples(metrics) for k, v in labels if k == "provider"]
    assert values == ["x" * MAX_LABEL_LENGTH]


def test_registries_are_private() -> None:
    first, second = HubMetrics(), HubMetrics()
    first.cache_hit()
    assert value(first, "ai_provider_hub_cache_hits_total") == 1
    assert value(second, "ai_provider_hub_cache_hits_total") == 0
    assert REGISTRY.get_sample_value("ai_provider_hub_cache_hits_total") is None


def test_render_content_type() -> None:
    body, content_type = HubMetrics().render()
    assert content_type.startswith("text/plain; version=0.0.4")
    assert b"# TYPE ai_provider_hub_attempts_total counter" in body
