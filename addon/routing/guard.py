"""Everything around one provider call: admission before it, accounting after it.

Before a call the guard checks the provider's ``Retry-After``, reserves the worst-case cost
(the call's ``Quote``) against the budgets, asks the circuit breaker, and takes a
rate-limit/concurrency permit. After the call a ``Ticket`` settles the tokens and the cost,
feeds the breaker, statistics and health board, writes the ledger row with the capability and
its units (durably, before the response goes out) and updates the metrics. A provider that may
not be called now raises ``ProviderSkipped`` carrying the reason. Nothing here depends on the
capability: chat and media calls are admitted and settled alike.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from addon.errors import (
    BudgetExceededError,
    CircuitOpenError,
    HubError,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimitError,
    RateLimitedError,
)
from addon.ledger import Ledger, LedgerRow
from addon.metrics import HubMetrics
from addon.models import Attempt, Routed, Usage
from addon.pricing import PricingTable
from addon.providers.base import Provider
from addon.routing.breaker import BreakerBoard
from addon.routing.budget import BudgetGuard, Reservation
from addon.routing.calls import Quote, Settled
from addon.routing.health import HealthBoard
from addon.routing.limits import Limits, Permit
from addon.routing.stats import StatsBoard


class ProviderSkipped(Exception):  # noqa: N818 - control flow, not an error the API shows
    """The provider may not be called for this request now; ``reason`` says why."""

    def __init__(self, reason: HubError) -> None:
        super().__init__(reason.message)
        self.reason = reason


def credential_fingerprint(provider: Provider) -> str:
    """A short, non-reversible id of the provider's key (to notice that it changed)."""
    digest = hashlib.sha256(b"ai-provider-hub:" + provider.settings.api_key.reveal().encode())
    return digest.hexdigest()[:16]


@dataclass(slots=True)
class Guards:
    """The routing machinery one manager uses (each part is tested on its own)."""

    limits: Limits
    budgets: BudgetGuard
    breakers: BreakerBoard
    stats: StatsBoard
    health: HealthBoard
    pricing: PricingTable
    queue_timeout: float
    ledger: Ledger | None = None
    metrics: HubMetrics | None = None
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time

    async def record_cached(self, request: Routed, provider: str, model: str) -> None:
        """Ledger a cache hit: the request counts, it costs nothing and used no tokens."""
        if self.metrics is not None:
            self.metrics.cache_hit()
        if self.ledger is not None:
            row = _row(
                self,
                request,
                provider=provider,
                model=model,
                usage=Usage(),
                cost_usd=0.0,
                latency_ms=0.0,
                outcome="ok",
                cached=True,
            )
            await self.ledger.record([row])

    async def admit(
        self, provider: Provider, request: Routed, quote: Quote, remaining: float
    ) -> Ticket:
        """Let one call to ``provider`` start, or raise ``ProviderSkipped``."""
        name = provider.name
        blocked = self.limits.blocked_until(name)
        if blocked is not None:
            raise ProviderSkipped(
                RateLimitedError(f"{name} asked to wait", retry_after=blocked - self.clock())
            )
        try:
            reservation = self.budgets.reserve(name, quote.worst_usd)
        except BudgetExceededError as err:
            raise ProviderSkipped(err) from err
        breaker = self.breakers.get(name)
        if not breaker.allow():
            reservation.cancel()
            raise ProviderSkipped(CircuitOpenError(f"{name}'s circuit breaker is open"))
        try:
            permit = await self.limits.acquire(
                name, quote.worst.total_tokens, wait=min(self.queue_timeout, max(0.0, remaining))
            )
        except BaseException as err:  # also a cancelled wait must give its holds back
            breaker.release_probe()
            reservation.cancel()
            if isinstance(err, RateLimitedError):
                raise ProviderSkipped(err) from err
            raise
        self.stats.get(name).start()
        return Ticket(self, provider, request, quote, reservation, permit, self.clock())


@dataclass(slots=True)
class Ticket:
    """One admitted call; ``succeeded`` or ``failed`` closes it exactly once."""

    guards: Guards
    provider: Provider
    request: Routed
    quote: Quote
    reservation: Reservation
    permit: Permit
    started: float
    cost_usd: float = field(default=0.0)

    @property
    def latency_ms(self) -> float:
        """Milliseconds since the call started."""
        return round((self.guards.clock() - self.started) * 1000, 1)

    @property
    def model(self) -> str:
        """The model the call asked for."""
        return self.quote.model

    async def succeeded(self, settled: Settled) -> Attempt:
        """Settle a successful call: units, cost, breaker, stats, ledger, metrics."""
        guards, name = self.guards, self.provider.name
        latency = self.latency_ms
        self.cost_usd = self.quote.cost_of(settled.usage)
        self._close(settled.usage.total_tokens, self.cost_usd)
        guards.stats.get(name).finish(latency, ok=True)
        guards.breakers.get(name).record_success()
        guards.health.record_success(name, latency)
        model = settled.model or self.model
        await self._account("ok", model, settled.usage, latency, settled.tool_calls)
        return Attempt(name, model, "ok", latency)

    async def failed(self, err: ProviderError) -> Attempt:
        """Settle a failed call (it costs nothing) and teach the breaker what it means."""
        guards, name = self.guards, self.provider.name
        latency = self.latency_ms
        self._close(0, 0.0)
        breaker = guards.breakers.get(name)
        blamed = err.retryable and err.provider_fault
        if isinstance(err, ProviderAuthError):
            breaker.record_auth_failure(credential_fingerprint(self.provider))
        elif blamed:
            breaker.record_failure()
        else:
            breaker.record_success()  # it answered; the request was the problem
        guards.stats.get(name).finish(latency, ok=not blamed)
        if blamed or isinstance(err, ProviderAuthError):
            guards.health.record_failure(name, err.key, err.message)
        if isinstance(err, ProviderRateLimitError) and err.retry_after:
            guards.limits.retry_after_until(name, guards.clock() + err.retry_after)
        await self._account(err.key, self.model, Usage(), latency)
        return Attempt(name, self.model, err.key, latency, err.message)

    def abandon(self) -> None:
        """The call was cancelled (the client went away): free everything, record nothing."""
        self._close(0, 0.0)
        self.guards.stats.get(self.provider.name).finish(self.latency_ms, ok=True)
        self.guards.breakers.get(self.provider.name).release_probe()

    def _close(self, tokens: int, usd: float) -> None:
        self.permit.settle(tokens)
        self.permit.release()
        if usd > 0:
            self.reservation.settle(usd)
        else:
            self.reservation.cancel()

    async def _account(
        self, outcome: str, model: str, usage: Usage, latency: float, tool_calls: int = 0
    ) -> None:
        guards, name = self.guards, self.provider.name
        if guards.metrics is not None:
            guards.metrics.observe_attempt(name, model, outcome, latency / 1000)
            guards.metrics.add_tokens(name, model, usage.input_tokens, usage.output_tokens)
            guards.metrics.add_cost(name, model, self.cost_usd)
        if guards.ledger is not None:
            row = _row(
                guards,
                self.request,
                provider=name,
                model=model,
                usage=usage,
                cost_usd=self.cost_usd,
                latency_ms=latency,
                outcome=outcome,
                tool_calls=tool_calls,
            )
            await guards.ledger.record([row])


def _row(
    guards: Guards,
    request: Routed,
    *,
    provider: str,
    model: str,
    usage: Usage,
    cost_usd: float,
    latency_ms: float,
    outcome: str,
    cached: bool = False,
    tool_calls: int = 0,
) -> LedgerRow:
    return LedgerRow(
        ts=guards.wall_clock(),
        request_id=request.request_id,
        tag=request.tag,
        provider=provider,
        model=model,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=cost_usd,
        latency_ms=latency_ms,
        outcome=outcome,
        cached=cached,
        tool_calls=tool_calls,
        capability=str(request.capability),
        audio_seconds=usage.audio_seconds,
        characters=usage.characters,
        images=usage.images,
    )
