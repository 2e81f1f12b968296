"""Circuit breakers: stop sending requests to a provider that keeps failing.

A breaker is ``closed`` (calls flow), ``open`` (calls are refused until ``retry_at``) or
``half_open`` (the cool-down is over: exactly one probe call is let through; its outcome
decides). Only retryable outcomes are reported (connection, timeout, 429, 5xx, malformed
answers); a caller's bad request says nothing about the provider's health.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

_LOGGER = logging.getLogger(__name__)

Clock = Callable[[], float]


class BreakerState(StrEnum):
    """The three states of a circuit breaker."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """One provider's breaker.

    Closed -> open when, within the rolling ``window`` (seconds), at least ``min_calls``
    outcomes were seen and the failure share is ``failure_rate`` or more, or after
    ``consecutive_failures`` failures in a row. Open -> half-open once the cool-down has
    passed; half-open admits one probe. A successful probe closes the breaker and resets the
    cool-down; a failed one re-opens it with the cool-down doubled (up to ``max_cooldown``).
    An auth failure opens it until the credentials change (no cool-down, no probe).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        window: float = 60.0,
        min_calls: int = 5,
        failure_rate: float = 0.5,
        consecutive_failures: int = 5,
        cooldown: float = 15.0,
        max_cooldown: float = 600.0,
    ) -> None:
        self._clock = clock
        self._window = window
        self._min_calls = min_calls
        self._failure_rate = failure_rate
        self._consecutive_limit = consecutive_failures
        self._base_cooldown = cooldown
        self._max_cooldown = max(max_cooldown, cooldown)
        self._cooldown = cooldown
        self._outcomes: deque[tuple[float, bool]] = deque()
        self._consecutive = 0
        self._opened: BreakerState = BreakerState.CLOSED
        self._retry_at: float | None = None
        self._probe_out = False
        self._auth_fingerprint: str | None = None
        self.opened_because: str | None = None

    # --- state ----------------------------------------------------------------------
    @property
    def state(self) -> BreakerState:
        """``closed``, ``open`` or ``half_open`` as of now."""
        self._advance()
        return self._opened

    @property
    def retry_at(self) -> float | None:
        """Clock time the cool-down ends while open (``None`` otherwise or for auth)."""
        return self._retry_at if self.state is BreakerState.OPEN else None

    @property
    def auth_blocked(self) -> bool:
        """True while open because the credentials were rejected."""
        return self._auth_fingerprint is not None

    @property
    def cooldown(self) -> float:
        """The cool-down the next opening (or the current one) uses."""
        return self._cooldown

    def _advance(self) -> None:
        if (
            self._opened is BreakerState.OPEN
            and self._retry_at is not None
            and self._clock() >= self._retry_at
        ):
            self._opened = BreakerState.HALF_OPEN
            self._probe_out = False

    # --- admission ------------------------------------------------------------------
    def allow(self) -> bool:
        """May a call go to this provider now? In half-open, True exactly once per probe."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probe_out:
            self._probe_out = True
            return True
        return False

    def release_probe(self) -> None:
        """The admitted probe never ran (e.g. a rate limit refused it): let another one in."""
        if self._opened is BreakerState.HALF_OPEN:
            self._probe_out = False

    # --- outcomes -------------------------------------------------------------------
    def record_success(self) -> None:
        """A call succeeded."""
        state = self.state
        if state is BreakerState.HALF_OPEN and self._probe_out:
            _LOGGER.info("Circuit closed again after a successful probe")
            self._close()
            return
        if state is not BreakerState.CLOSED:
            return  # a call started before the breaker opened; the cool-down stands
        self._consecutive = 0
        self._remember(ok=True)

    def record_failure(self) -> None:
        """A call failed in a retryable way."""
        state = self.state
        if state is BreakerState.HALF_OPEN and self._probe_out:
            self._open(min(self._cooldown * 2, self._max_cooldown), "the probe failed")
            return
        if state is not BreakerState.CLOSED:
            return
        self._consecutive += 1
        self._remember(ok=False)
        if self._consecutive >= self._consecutive_limit:
            self._open(self._cooldown, f"{self._consecutive} failures in a row")
        elif self._rate_tripped():
            self._open(self._cooldown, "failure rate over the window")

    def record_auth_failure(self, fingerprint: str) -> None:
        """The credentials identified by ``fingerprint`` were rejected: open until they change."""
        self._auth_fingerprint = fingerprint
        self.opened_because = "the key was rejected"
        self._opened = BreakerState.OPEN
        self._retry_at = None
        self._probe_out = False
        _LOGGER.warning("Circuit opened until the credentials change (rejected)")

    def credentials_changed(self, fingerprint: str) -> bool:
        """Report the current credentials; a different fingerprint lifts an auth opening.

        Returns True when that closed the breaker.
        """
        if self._auth_fingerprint is None or fingerprint == self._auth_fingerprint:
            return False
        self._close()
        _LOGGER.info("Circuit closed: the credentials changed")
        return True

    def credentials_accepted(self, fingerprint: str) -> bool:
        """The provider accepted the credentials identified by ``fingerprint`` (a check passed).

        Lifts an auth opening for those very credentials (e.g. the account's billing was fixed).
        Returns True when that closed the breaker.
        """
        if self._auth_fingerprint is None or fingerprint != self._auth_fingerprint:
            return False
        self._close()
        _LOGGER.info("Circuit closed: the rejected credentials are accepted again")
        return True

    # --- internals ------------------------------------------------------------------
    def _remember(self, *, ok: bool) -> None:
        now = self._clock()
        self._outcomes.append((now, ok))
        horizon = now - self._window
        while self._outcomes and self._outcomes[0][0] < horizon:
            self._outcomes.popleft()

    def _rate_tripped(self) -> bool:
        calls = len(self._outcomes)
        if calls < self._min_calls:
            return False
        failures = sum(1 for _, ok in self._outcomes if not ok)
        return failures / calls >= self._failure_rate

    def _open(self, cooldown: float, why: str) -> None:
        self._cooldown = cooldown
        self._opened = BreakerState.OPEN
        self._retry_at = self._clock() + cooldown
        self._probe_out = False
        self._outcomes.clear()
        self._consecutive = 0
        self.opened_because = why
        _LOGGER.warning("Circuit opened for %.0fs: %s", cooldown, why)

    def _close(self) -> None:
        self._opened = BreakerState.CLOSED
        self._cooldown = self._base_cooldown
        self._retry_at = None
        self._probe_out = False
        self._auth_fingerprint = None
        self.opened_because = None
        self._outcomes.clear()
        self._consecutive = 0

    def snapshot(self) -> dict[str, Any]:
        """State for ``/health``, ``/api/v1/providers`` and metrics (no secrets)."""
        return {
            "state": str(self.state),
            "retry_at": self.retry_at,
            "auth_blocked": self.auth_blocked,
            "cooldown": self._cooldown,
            "opened_because": self.opened_because,
        }


class BreakerBoard:
    """One breaker per provider name, all built with the same parameters."""

    def __init__(self, names: Iterable[str], *, clock: Clock, **params: Any) -> None:
        self._breakers = {name: CircuitBreaker(clock=clock, **params) for name in names}

    def get(self, name: str) -> CircuitBreaker:
        """The breaker of ``name``."""
        return self._breakers[name]

    def is_open(self, name: str) -> bool:
        """True when ``name`` is known and its breaker refuses calls outright."""
        breaker = self._breakers.get(name)
        return breaker is not None and breaker.state is BreakerState.OPEN

    def states(self) -> dict[str, BreakerState]:
        """Provider name -> current state."""
        return {name: breaker.state for name, breaker in self._breakers.items()}
