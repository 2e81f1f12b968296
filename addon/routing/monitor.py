"""Periodic health checks of every provider, run concurrently, results kept on the board."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection

from addon.errors import HubError
from addon.models import HealthStatus
from addon.providers.base import Provider
from addon.providers.lazy import unloaded
from addon.routing.health import HealthBoard, ProviderState

_LOGGER = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
ResultListener = Callable[[str, HealthStatus], None]

GRACE = 1.0
"""Extra seconds a provider gets beyond ``timeout`` before the monitor gives up on its check."""


class HealthMonitor:
    """Checks every enabled provider each ``interval`` seconds, all at once, within ``timeout``.

    A check that overruns or raises a provider error counts as a failed check; one that breaks
    in the hub's own code is logged with its traceback and reported as ``internal_error`` but
    leaves the provider's state alone. Nothing stops the loop.
    ``on_result`` (optional) hears every result, e.g. to update metrics.
    """

    def __init__(
        self,
        providers: Collection[Provider],
        board: HealthBoard,
        *,
        interval: float,
        timeout: float,
        sleep: Sleep = asyncio.sleep,
        on_result: ResultListener | None = None,
        grace: float = GRACE,
    ) -> None:
        self._providers = providers  # a live view (dict.values()) follows replaced providers
        self._board = board
        self._interval = interval
        self._timeout = timeout
        self._sleep = sleep
        self._on_result = on_result
        self._grace = grace
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0

    @property
    def running(self) -> bool:
        """True while the periodic loop is active."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the loop: one round at once, then one every ``interval`` seconds."""
        if self.running:
            return
        self._task = asyncio.create_task(self._loop(), name="health-monitor")

    async def stop(self) -> None:
        """Stop the loop and wait for it (a round in progress is cancelled)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def check_now(self) -> dict[str, HealthStatus]:
        """Check every enabled provider concurrently, record and return the results."""
        enabled = [p for p in self._providers if p.settings.enabled]
        results = await asyncio.gather(*(self._check(p) for p in enabled))
        self.rounds += 1
        outcome: dict[str, HealthStatus] = {}
        for provider, status in zip(enabled, results, strict=True):
            if status.error_key != HubError.key:  # a bug of ours says nothing about the provider
                before = self._board.get(provider.name).state
                self._board.apply(provider.name, status)
                _log_change(provider.name, before, self._board.get(provider.name).state, status)
            if self._on_result is not None:
                self._on_result(provider.name, status)
            outcome[provider.name] = status
        return outcome

    async def _loop(self) -> None:
        while True:
            try:
                await self.check_now()
            except Exception:  # a bug in one round must not end the monitoring for good
                _LOGGER.exception("Health check round failed")
            await self._sleep(self._interval)

    async def _check(self, provider: Provider) -> HealthStatus:
        started = time.monotonic()
        try:
            lazy = unloaded(provider)
            if lazy is not None and not lazy.probes_health:  # the import is not the check
                await lazy.loaded()
                started = time.monotonic()
            async with asyncio.timeout(self._timeout + self._grace):
                status = await provider.health(timeout=self._timeout)
        except TimeoutError:
            status = _failed(started, "provider_timeout", f"No answer within {self._timeout:g}s")
        except HubError as err:
            status = _failed(started, err.key, err.message)
        except Exception as err:  # a check must report, whatever broke: here, our own code
            _LOGGER.exception("Health check of %s failed in the hub's code", provider.name)
            status = _failed(started, HubError.key, f"Internal error ({type(err).__name__})")
        return status


def _log_change(
    name: str, before: ProviderState, after: ProviderState, status: HealthStatus
) -> None:
    """Log transitions only, so a provider that stays down does not flood the log."""
    if before is after:
        return
    if status.ok:
        _LOGGER.info("Provider %s passes its health check again", name)
    else:
        _LOGGER.warning(
            "Provider %s fails its health check: %s", name, status.message or status.error_key
        )


def _failed(started: float, key: str, message: str) -> HealthStatus:
    latency = round((time.monotonic() - started) * 1000, 1)
    return HealthStatus(ok=False, latency_ms=latency, error_key=key, message=message)
