"""The state of one request's walk through its candidates: attempts, skips, retries, deadline.

Written once for every capability: what differs per capability is the request's call spec
(``routing.calls.CallSpec``).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from addon.errors import (
    AllProvidersFailedError,
    BudgetExceededError,
    HubError,
    NoCapableProviderError,
    ProviderAuthError,
    ProviderCapabilityError,
    ProviderError,
    ProviderRateLimitError,
    ProviderTimeoutError,
    RateLimitedError,
    UpstreamTimeoutError,
)
from addon.models import Attempt
from addon.providers.base import Provider
from addon.providers.lazy import unloaded
from addon.routing.calls import Answered, CallSpec
from addon.routing.guard import Guards, ProviderSkipped, Ticket
from addon.routing.prepare import ImagePreparer

MIN_ATTEMPTS: Final = 3
"""Calls one request may make: at least this many, or one per candidate when there are more."""
BACKOFF_BASE: Final = 0.25
BACKOFF_CAP: Final = 4.0


@dataclass(frozen=True, slots=True)
class Backoff:
    """Full-jitter exponential backoff before calling the same provider again."""

    rng: random.Random
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    base: float = BACKOFF_BASE
    cap: float = BACKOFF_CAP

    async def wait(self, tries: int, remaining: float) -> None:
        """Sleep a random share of the capped exponential step (never past ``remaining``)."""
        ceiling = min(self.cap, self.base * 2 ** max(0, tries - 1))
        await self.sleep(min(self.rng.uniform(0, ceiling), max(0.0, remaining)))


@dataclass(frozen=True, slots=True)
class RunPlan:
    """What every request's walk needs: the guards, the deadline, image preparation, backoff."""

    guards: Guards
    request_timeout: float
    prepare_images: ImagePreparer
    backoff: Backoff


@dataclass(frozen=True, slots=True)
class Slot[C]:
    """One admitted call, what to send, and its time bounds (seconds).

    ``first_byte`` bounds the wait for the answer (a whole answer, or a stream's first piece):
    while another candidate waits it is at most half of what is left of the request's
    deadline, so a provider that hangs leaves room for the next. ``timeout`` bounds the whole
    call (a stream that has started may use it): the provider's own ``timeout``, never past the
    request's deadline.
    """

    ticket: Ticket
    call: C
    first_byte: float
    timeout: float


class RunState[C, A, P, H]:
    """Walks the candidates of one request under one deadline and a bounded attempt count."""

    def __init__(
        self, plan: RunPlan, spec: CallSpec[C, A, P, H], candidates: list[Provider]
    ) -> None:
        self._plan = plan
        self._guards = plan.guards
        self.spec = spec
        self.started = self._guards.clock()
        self.deadline = self.started + plan.request_timeout
        self._queue = deque(candidates)
        self._tries: Counter[str] = Counter()
        self._max_attempts = max(MIN_ATTEMPTS, len(candidates))
        self.attempts: list[Attempt] = []
        self._errors: list[ProviderError] = []
        self._skips: list[HubError] = []

    def _remaining(self) -> float:
        return self.deadline - self._guards.clock()

    async def next(self) -> Slot[C] | None:
        """The next admitted call and its time bounds, or None when nothing is left to try."""
        while self._queue and sum(self._tries.values()) < self._max_attempts:
            provider = self._queue.popleft()
            if self._remaining() <= 0:
                raise self._timed_out()
            if self._tries[provider.name]:
                await self._plan.backoff.wait(self._tries[provider.name], self._remaining())
            await self._load(provider)
            call, ticket = await self._admit(provider)
            if ticket is None:
                continue
            self._tries[provider.name] += 1
            remaining = self._remaining()
            if remaining <= 0:
                ticket.abandon()
                raise self._timed_out()
            timeout = min(provider.settings.timeout, remaining)
            others_wait = bool(self._queue) and sum(self._tries.values()) < self._max_attempts
            first_byte = min(timeout, remaining / 2) if others_wait else timeout
            return Slot(ticket, call, first_byte, timeout)
        return None

    async def _load(self, provider: Provider) -> None:
        """Import a lazily built provider's SDK before its call's clock starts."""
        lazy = unloaded(provider)
        if lazy is None:
            return
        try:
            async with asyncio.timeout(self._remaining()):
                await lazy.loaded()
        except TimeoutError:
            raise self._timed_out() from None

    async def _admit(self, provider: Provider) -> tuple[C, Ticket | None]:
        """The call for ``provider`` and its ticket; no ticket when the guard skipped it."""
        request = self.spec.request
        call = await self.spec.prepare(provider, self._remaining())
        model = self.spec.model_of(call)
        price = self._guards.pricing.price(provider.settings, model, request.capability)
        call, quote = self.spec.bound(provider, call, price)
        try:
            ticket = await self._guards.admit(provider, request, quote, self._remaining())
        except ProviderSkipped as skipped:
            reason = skipped.reason
            self._skips.append(reason)
            self.attempts.append(
                Attempt(provider.name, quote.model, reason.key, 0.0, reason.message)
            )
            return call, None
        return call, ticket

    async def failed(self, ticket: Ticket, err: ProviderError) -> None:
        """Account a failed call; stop at once for what another provider would not fix."""
        self.attempts.append(await ticket.failed(err))
        if not err.retryable:
            err.details["attempts"] = self._attempt_dicts()
            raise err
        self._errors.append(err)
        if not isinstance(err, _NOT_AGAIN):
            self._queue.append(ticket.provider)  # transient: worth another try later

    async def succeeded(self, ticket: Ticket, answer: A) -> H:
        """Settle a successful call and build the hub's answer from it."""
        settled = self.spec.settled(answer)
        self.attempts.append(await ticket.succeeded(settled))
        answered = Answered(
            request_id=self.spec.request.request_id,
            provider=ticket.provider.name,
            model=settled.model or ticket.model,
            usage=settled.usage,
            cost_usd=ticket.cost_usd,
            latency_ms=round((self._guards.clock() - self.started) * 1000, 1),
            attempts=tuple(self.attempts),
        )
        return self.spec.respond(answer, answered)

    def exhausted(self) -> HubError:
        """The error for a request no candidate answered.

        Capability misses (a model that cannot serve the request) only decide the answer when
        nothing else happened: then no candidate was capable.
        """
        details = {"attempts": self._attempt_dicts()}
        misses = [e for e in self._errors if isinstance(e, ProviderCapabilityError)]
        errors = [e for e in self._errors if not isinstance(e, ProviderCapabilityError)]
        reasons: list[HubError] = [*errors, *self._skips]
        if misses and not reasons:
            return NoCapableProviderError(
                "No candidate can serve this request: " + "; ".join(e.message for e in misses),
                **details,
            )
        waits = [w for w in (_retry_after(r) for r in reasons) if w is not None]
        retry_after = round(min(waits), 3) if waits else None
        if not errors and reasons and all(isinstance(r, BudgetExceededError) for r in reasons):
            return BudgetExceededError(
                "Every provider that could answer is over its budget: "
                + "; ".join(r.message for r in reasons),
                retry_after=retry_after,
                **details,
            )
        if reasons and all(_is_rate_limit(r) for r in reasons):
            return RateLimitedError(
                "Every provider is rate limited", retry_after=retry_after, **details
            )
        if errors and all(isinstance(e, ProviderTimeoutError) for e in errors):
            return UpstreamTimeoutError("Every provider timed out", **details)
        if errors and not self._skips and all(isinstance(e, ProviderAuthError) for e in errors):
            errors[0].details.update(details)  # every key was refused: say so, not "failed"
            return errors[0]
        return AllProvidersFailedError(
            f"No provider answered ({len(self.attempts)} attempts)", **details
        )

    def _timed_out(self) -> UpstreamTimeoutError:
        return UpstreamTimeoutError(
            f"No provider answered within {self._plan.request_timeout:g}s",
            attempts=self._attempt_dicts(),
        )

    def _attempt_dicts(self) -> list[dict[str, object]]:
        return [attempt.to_dict() for attempt in self.attempts]


# Failures a second try of the same provider within the request would not mend.
_NOT_AGAIN = (
    ProviderRateLimitError,
    ProviderTimeoutError,
    ProviderCapabilityError,
    ProviderAuthError,
)


def _is_rate_limit(error: HubError) -> bool:
    return isinstance(error, ProviderRateLimitError | RateLimitedError)


def _retry_after(error: HubError) -> float | None:
    if isinstance(error, ProviderRateLimitError):
        return error.retry_after
    value = error.details.get("retry_after")
    return float(value) if isinstance(value, int | float) else None
