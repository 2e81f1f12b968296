"""The hub's own rate limits: requests and tokens per minute, concurrency caps, Retry-After.

Per provider: ``rpm`` (requests in a rolling window), ``tpm`` (tokens in the same window,
reserved from an estimate before the call and settled to the real count after) and
``max_concurrency``; plus the global ``Settings.max_concurrency``. Every check and take
happens synchronously, with no ``await`` in between, so concurrent acquirers on one event loop
can never pass a limit. Requests that do not fit wait in one FIFO queue (a later request for a
provider never overtakes an earlier one for the same provider) up to their ``wait`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from addon.errors import RateLimitedError
from addon.routing.window import Admission, ProviderWindow
from addon.settings import ProviderSettings, Settings

_LOGGER = logging.getLogger(__name__)

WINDOW = 60.0  # seconds: the rolling window of rpm and tpm


@dataclass(frozen=True, slots=True)
class _Block:
    """Why a request cannot be admitted now, and when it could be (when known)."""

    limit: str
    message: str
    retry_after: float | None = None


@dataclass(slots=True, eq=False)
class _Waiter:
    """A request queued for room."""

    provider: str
    tokens: int
    future: asyncio.Future[Permit]


class Permit:
    """An admitted request: an async context manager whose exit releases its concurrency."""

    def __init__(self, limits: Limits, provider: str, admission: Admission) -> None:
        self._limits = limits
        self._admission = admission
        self._released = False
        self.provider = provider

    @property
    def tokens(self) -> int:
        """Tokens currently counted for this request (the estimate until settled)."""
        return self._admission.tokens

    def settle(self, actual_tokens: int) -> None:
        """Correct the token reservation to what the call really used."""
        self._limits.settle_tokens(self.provider, self._admission, max(0, int(actual_tokens)))

    def release(self) -> None:
        """Give back the concurrency slot (idempotent); request and token counts stay."""
        if not self._released:
            self._released = True
            self._limits.release_slot(self.provider)

    def refund(self) -> None:
        """The call never went out: give back the request and token slots too."""
        self._limits.refund_slots(self.provider, self._admission)
        self.release()

    async def __aenter__(self) -> Permit:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class Limits:
    """Admits provider calls within every configured limit, or makes them wait or refuses."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        window: float = WINDOW,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._window = window
        self._states: dict[str, ProviderWindow] = {}
        self._global_in_flight = 0
        self._waiters: deque[_Waiter] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def reconfigure(self, settings: Settings) -> None:
        """Apply new limits; counts of requests already admitted are kept."""
        self._settings = settings
        self._drain()

    async def acquire(self, provider: str, tokens: int, wait: float) -> Permit:
        """Admit one call to ``provider`` that may use ``tokens`` tokens.

        Waits up to ``wait`` seconds for room; raises ``RateLimitedError`` (with
        ``retry_after`` seconds when known) when there is none in time.
        """
        tokens = max(0, int(tokens))
        self._refuse_oversized(provider, tokens)
        self._drain()  # the clock may have moved: earlier waiters go first
        block = self._block(provider, tokens, self._clock())
        if block is None and not self._queued(provider):
            return self._take(provider, tokens)
        if wait <= 0:
            raise self._error(provider, block or self._queue_block(provider))
        return await self._wait(provider, tokens, wait)

    def in_flight(self, provider: str | None = None) -> int:
        """Calls in flight to ``provider`` (all providers when ``None``)."""
        if provider is None:
            return self._global_in_flight
        state = self._states.get(provider)
        return state.in_flight if state else 0

    def headroom(self, provider: str) -> dict[str, float | None]:
        """Remaining ``rpm``, ``tpm`` and ``concurrency`` of ``provider`` (``None``: no limit)."""
        config = self._config(provider)
        state = self._state(provider)
        state.prune(self._clock())
        return {
            "rpm": float(max(0, config.rpm - len(state.admissions))) if config.rpm else None,
            "tpm": float(max(0, config.tpm - state.token_total)) if config.tpm else None,
            "concurrency": (
                float(max(0, config.max_concurrency - state.in_flight))
                if config.max_concurrency
                else None
            ),
        }

    def retry_after_until(self, provider: str, until: float) -> None:
        """Remember that ``provider`` asked not to be called before ``until`` (clock time)."""
        state = self._state(provider)
        state.blocked_until = max(state.blocked_until, until)
        self._drain()

    def blocked_until(self, provider: str) -> float | None:
        """The clock time before which ``provider`` must not be called, if still ahead."""
        state = self._states.get(provider)
        if state is None or state.blocked_until <= self._clock():
            return None
        return state.blocked_until

    def _config(self, provider: str) -> ProviderSettings:
        return self._settings.provider(provider) or ProviderSettings(provider, "", "")

    def _state(self, provider: str) -> ProviderWindow:
        state = self._states.get(provider)
        if state is None:
            state = self._states[provider] = ProviderWindow(self._window)
        return state

    def _refuse_oversized(self, provider: str, tokens: int) -> None:
        tpm = self._config(provider).tpm
        if tpm and tokens > tpm:
            message = (
                f"Request needs about {tokens} tokens, more than provider {provider!r} "
                f"allows in a whole minute (tpm {tpm})"
            )
            raise RateLimitedError(message, provider=provider, limit="tpm", retry_after=None)

    def _block(self, provider: str, tokens: int, now: float) -> _Block | None:
        config = self._config(provider)
        state = self._state(provider)
        state.prune(now)
        cap = self._settings.max_concurrency
        if state.blocked_until > now:
            wait = state.blocked_until - now
            return _Block("retry_after", f"{provider} asked to retry later", wait)
        if cap and self._global_in_flight >= cap:
            return _Block("global_concurrency", f"all {cap} global concurrent slots are busy")
        if config.max_concurrency and state.in_flight >= config.max_concurrency:
            return _Block(
                "concurrency", f"{provider} has {config.max_concurrency} calls in flight already"
            )
        if config.rpm and len(state.admissions) >= config.rpm:
            return _Block(
                "rpm",
                f"{provider} reached its limit of {config.rpm} requests per minute",
                state.request_slot_in(config.rpm, now),
            )
        if config.tpm and state.token_total + tokens > config.tpm:
            return _Block(
                "tpm",
                f"{provider} reached its limit of {config.tpm} tokens per minute",
                state.tokens_free_in(state.token_total + tokens - config.tpm, now),
            )
        return None

    def _queued(self, provider: str) -> bool:
        return any(waiter.provider == provider for waiter in self._waiters)

    def _queue_block(self, provider: str) -> _Block:
        ahead = sum(1 for waiter in self._waiters if waiter.provider == provider)
        return _Block("queue", f"{ahead} earlier requests for {provider} are waiting")

    def _error(self, provider: str, block: _Block) -> RateLimitedError:
        retry_after = None if block.retry_after is None else math.ceil(block.retry_after * 1000)
        seconds = None if retry_after is None else retry_after / 1000
        _LOGGER.debug("Refused a call to %s: %s", provider, block.message)
        return RateLimitedError(
            f"Rate limited: {block.message}",
            provider=provider,
            limit=block.limit,
            retry_after=seconds,
        )

    def _take(self, provider: str, tokens: int) -> Permit:
        state = self._state(provider)
        admission = state.admit(self._clock(), tokens)
        state.in_flight += 1
        self._global_in_flight += 1
        return Permit(self, provider, admission)

    async def _wait(self, provider: str, tokens: int, wait: float) -> Permit:
        waiter = _Waiter(provider, tokens, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        self._drain()
        try:
            await asyncio.wait((waiter.future,), timeout=wait)
        except asyncio.CancelledError:
            self._abandon(waiter)
            raise
        if waiter.future.done():
            return waiter.future.result()
        self._abandon(waiter)
        block = self._block(provider, tokens, self._clock()) or self._queue_block(provider)
        raise self._error(provider, block)

    def _abandon(self, waiter: _Waiter) -> None:
        if waiter.future.done():
            waiter.future.result().refund()
            return
        waiter.future.cancel()
        self._waiters.remove(waiter)
        self._drain()  # the queue's head may have been holding others back

    def _drain(self) -> None:
        """Admit waiters that fit now, in order; set a timer for the next window expiry."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = self._clock()
        stuck: set[str] = set()
        next_try: float | None = None
        for waiter in list(self._waiters):
            if waiter.provider in stuck:
                continue
            block = self._block(waiter.provider, waiter.tokens, now)
            if block is None:
                self._waiters.remove(waiter)
                waiter.future.set_result(self._take(waiter.provider, waiter.tokens))
                continue
            stuck.add(waiter.provider)
            if block.retry_after is not None:
                next_try = min(block.retry_after, next_try or block.retry_after)
        if next_try is not None:
            self._timer = asyncio.get_running_loop().call_later(next_try, self._drain)

    def settle_tokens(self, provider: str, admission: Admission, actual: int) -> None:
        """Correct ``admission``'s token count to ``actual`` (``Permit.settle`` calls this)."""
        shrank = actual < admission.tokens
        self._state(provider).settle(admission, actual)
        if shrank:
            self._drain()

    def refund_slots(self, provider: str, admission: Admission) -> None:
        """Give back ``admission``'s request and token slots (``Permit.refund``)."""
        if self._state(provider).refund(admission):
            self._drain()

    def release_slot(self, provider: str) -> None:
        """Give back one concurrency slot of ``provider`` (``Permit.release``)."""
        self._state(provider).in_flight -= 1
        self._global_in_flight -= 1
        self._drain()
