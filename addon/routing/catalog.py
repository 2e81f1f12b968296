"""Which provider serves which model: what the options configure, and what providers list.

A request that names a bare model (``gpt-4.1-mini``, not ``openai/gpt-4.1-mini``) goes to the
providers that serve it: those whose ``model`` or ``vision_model`` it is, and those whose model
list has it. Model lists are cached (``ttl``); a list that could not be fetched is retried after
``retry`` seconds, and until then that provider counts as "unknown" (it might serve the model).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from addon.errors import ProviderError
from addon.models import ModelInfo
from addon.providers.base import Provider

LIST_TTL: Final = 600.0
LIST_RETRY: Final = 60.0
LIST_TIMEOUT: Final = 5.0


@dataclass(frozen=True, slots=True)
class _Listing:
    models: frozenset[str] | None  # None: the last attempt to list failed
    at: float


def same_model(listed: str, asked: str) -> bool:
    """``asked`` names ``listed`` (Ollama's ``name`` means ``name:latest``)."""
    return listed == asked or (":" not in asked and listed == f"{asked}:latest")


class ModelCatalog:
    """Cached model lists per provider, refreshed on demand (one refresh at a time)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        ttl: float = LIST_TTL,
        retry: float = LIST_RETRY,
        timeout: float = LIST_TIMEOUT,
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._retry = retry
        self._timeout = timeout
        self._listings: dict[str, _Listing] = {}
        self._lock = asyncio.Lock()

    def record(self, name: str, models: Iterable[ModelInfo] | None) -> None:
        """What ``name`` listed just now (None: listing failed)."""
        ids = None if models is None else frozenset(m.id for m in models)
        self._listings[name] = _Listing(ids, self._clock())

    def forget(self, name: str) -> None:
        """Drop what is known about ``name`` (its settings changed)."""
        self._listings.pop(name, None)

    def listed(self, name: str) -> frozenset[str] | None:
        """The models ``name`` last listed, or None when that is unknown."""
        listing = self._listings.get(name)
        return None if listing is None else listing.models

    def serving(self, model: str, pool: Sequence[Provider]) -> list[Provider]:
        """The providers of ``pool`` that serve ``model`` (configured or listed), in pool order.

        When none is known to, those whose list is unknown (they might); else none.
        """
        serving = [p for p in pool if _configures(p, model) or self._lists(p.name, model)]
        if serving:
            return serving
        return [p for p in pool if self.listed(p.name) is None]

    def configured_anywhere(self, model: str, pool: Collection[Provider]) -> bool:
        """True when some provider of ``pool`` has ``model`` as its model or vision model."""
        return any(_configures(p, model) for p in pool)

    async def refresh(self, pool: Collection[Provider]) -> None:
        """List the models of every provider of ``pool`` whose list is stale, concurrently."""
        async with self._lock:  # concurrent requests share one refresh
            stale = [p for p in pool if self._stale(p.name)]
            results = await asyncio.gather(
                *(p.list_models(timeout=self._timeout) for p in stale), return_exceptions=True
            )
            failures: list[BaseException] = []
            for provider, result in zip(stale, results, strict=True):
                if isinstance(result, BaseException):
                    self.record(provider.name, None)
                    if not isinstance(result, ProviderError):
                        failures.append(result)  # a bug of ours: not swallowed
                else:
                    self.record(provider.name, result)
        if failures:
            raise failures[0]

    def _stale(self, name: str) -> bool:
        listing = self._listings.get(name)
        if listing is None:
            return True
        age = self._clock() - listing.at
        return age >= (self._ttl if listing.models is not None else self._retry)

    def _lists(self, name: str, model: str) -> bool:
        listed = self.listed(name)
        return listed is not None and any(same_model(m, model) for m in listed)


def _configures(provider: Provider, model: str) -> bool:
    settings = provider.settings
    return model in (settings.model, settings.vision_model)
