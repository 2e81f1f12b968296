"""Read-only views for the dashboard: provider details and the routing explained in words.

Why a provider is not serving, its load, headroom, spend and recent figures. Manager-side,
beside ``hub_status``: handlers reach these through ``ProviderManager``'s façade, never through
the routing parts themselves. Nothing here reveals a secret.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from addon.hub_status import SMALLEST_CALL_USD, is_free, provider_state
from addon.ledger import UsageStats
from addon.pricing import usd
from addon.providers.base import Provider
from addon.routing.guard import Guards
from addon.settings import RouteRule

RECENT_WINDOW: Final = 3600.0
"""Seconds of ledger history behind a provider's recent success rate and latency."""

STRATEGY_LINES: Final[Mapping[str, str]] = {
    "adaptive": "Lowest expected cost first: recent latency x calls in progress, raised by "
    "recent errors, price and priority; 5 % of requests explore another provider.",
    "priority": "Lowest priority number first; the next one only when a call fails.",
    "round_robin": "Each request starts one provider further along the list, so all take turns.",
    "weighted": "Shares traffic in proportion to each provider's weight; weight 0 is a "
    "fallback only.",
    "least_loaded": "Fewest calls in progress relative to the provider's max_concurrency first.",
    "fastest": "Lowest recent response time first.",
    "cost": "Lowest estimated price for the request first (local models cost nothing).",
}
DOWN_LAST: Final = (
    "Whatever the strategy, a provider that is down or whose circuit is open goes last."
)


def provider_details(
    guards: Guards, provider: Provider, recent: UsageStats | None
) -> dict[str, Any]:
    """Live figures of one provider: why it is not healthy, load, headroom, budget, recent."""
    name, settings = provider.name, provider.settings
    state = provider_state(guards, provider)
    breaker = guards.breakers.get(name)
    retry_at = breaker.retry_at
    retry_in = None if retry_at is None else max(0.0, math.ceil(retry_at - guards.clock()))
    budget = guards.budgets.state()["providers"].get(name, {})
    return {
        "reason": explain(guards, provider, state, retry_in),
        "circuit": {
            "state": str(breaker.state),
            "retry_in_s": retry_in,
            "opened_because": breaker.opened_because,
        },
        "in_flight": guards.stats.get(name).in_flight,
        "limits": {
            "rpm": settings.rpm or None,
            "tpm": settings.tpm or None,
            "max_concurrency": settings.max_concurrency or None,
        },
        "headroom": guards.limits.headroom(name),
        "budget": budget,
        "free": is_free(guards, provider),
        "recent": _recent(recent),
    }


def explain(guards: Guards, provider: Provider, state: str, retry_in: float | None) -> str | None:
    """One line saying why ``provider`` is not serving normally (None when it is)."""
    name = provider.name
    health = guards.health.get(name)
    last = f"{health.error_key}: {health.message}" if health.error_key else None
    if state == "circuit_open":
        breaker = guards.breakers.get(name)
        text = f"circuit open: {health.error_key}" if health.error_key else "circuit open"
        if breaker.opened_because:
            text += f" ({breaker.opened_because})"
        wait = "until the key changes" if breaker.auth_blocked else f"retry in {retry_in:.0f} s"
        return f"{text}, {wait}"
    if state == "over_budget":
        return "over budget: " + _budget_line(guards, name)
    if state == "down":
        return f"down: {last}" if last else "down"
    if state == "disabled":
        return "disabled in the options"
    return None


def routing_overview(
    *,
    strategy: str,
    routes: Sequence[RouteRule],
    providers: Iterable[Provider],
    request_timeout: float,
    cache_ttl: float,
) -> dict[str, Any]:
    """The routing configuration with one line each saying what it does."""
    listed = sorted(providers, key=lambda p: p.settings.priority)
    return {
        "strategy": strategy,
        "explanation": f"{STRATEGY_LINES.get(strategy, '')} {DOWN_LAST}".strip(),
        "strategies": dict(STRATEGY_LINES),
        "routes": [_route(rule, strategy) for rule in routes],
        "providers": [
            {
                "name": p.name,
                "priority": p.settings.priority,
                "weight": p.settings.weight,
                "enabled": p.settings.enabled,
                "timeout_s": p.settings.timeout,
            }
            for p in listed
        ],
        "request_timeout_s": request_timeout,
        "cache_ttl_s": cache_ttl,
        "notes": [
            f"One request makes at most 3 calls (or one per candidate), "
            f"all within {request_timeout:g} s.",
            "A request that pins a provider ignores routes.",
            (
                f"Identical requests are answered from the cache for {cache_ttl:g} s."
                if cache_ttl > 0
                else "The answer cache is off."
            ),
        ],
    }


CAPABILITY_REQUESTS: Final[Mapping[str, str]] = {
    "chat": "Text requests",
    "vision": "Requests that need vision",
    "embeddings": "Embedding requests",
    "transcription": "Speech-to-text requests",
    "speech": "Text-to-speech requests",
    "images": "Image generation requests",
}


def _route(rule: RouteRule, strategy: str) -> dict[str, Any]:
    listed = ", ".join(rule.providers)
    if rule.match in CAPABILITY_REQUESTS:
        who = f"{CAPABILITY_REQUESTS[rule.match]} without a tag of their own route"
    else:
        who = f"Requests tagged {rule.match!r}"
    order = "in this order" if strategy == "priority" else f"ordered by {strategy}"
    return {
        "match": rule.match,
        "providers": list(rule.providers),
        "explanation": f"{who} go only to {listed} ({order}).",
    }


def _budget_line(guards: Guards, name: str) -> str:
    state = guards.budgets.state()
    scopes = (("provider", state["providers"].get(name, {})), ("hub", state))
    for owner, periods in scopes:
        for period in ("daily", "monthly"):
            figures = periods.get(period) or {}
            left = figures.get("left_usd")
            if (
                figures.get("limit_usd") is not None
                and left is not None
                and left < SMALLEST_CALL_USD
            ):
                return (
                    f"the {owner}'s {period} budget of {usd(figures['limit_usd'])} is spent "
                    f"({usd(figures['spent_usd'])} used)"
                )
    return "a budget has nothing left"


def _recent(stats: UsageStats | None) -> dict[str, Any]:
    """Attempts, their success share and latency over the last ``RECENT_WINDOW`` seconds."""
    stats = stats or UsageStats()
    ok_share = 1 - stats.failed_attempts / stats.attempts if stats.attempts else None
    return {
        "window_s": RECENT_WINDOW,
        "attempts": stats.attempts,
        "success_rate": None if ok_share is None else round(ok_share, 4),
        "p50_latency_ms": stats.p50_latency_ms,
        "avg_latency_ms": stats.avg_latency_ms,
    }
