"""Provider keys: put a new one in use, check one live, re-admit a provider whose key passes.

A live check answers valid, invalid, unreachable, rate limited, or another error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from addon.errors import (
    NotFoundError,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimitError,
    ProviderTimeoutError,
)
from addon.models import HealthStatus
from addon.providers.base import Provider
from addon.routing.catalog import ModelCatalog
from addon.routing.guard import Guards, credential_fingerprint
from addon.settings import ProviderSettings, Secret

ProviderFactory = Callable[[ProviderSettings], Provider]
KEY_CHECK_TIMEOUT = 15.0


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """The outcome of one live key check."""

    name: str
    result: str  # valid | invalid | unreachable | rate_limited | error
    message: str

    @property
    def valid(self) -> bool:
        """True when the provider accepted the key."""
        return self.result == "valid"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"name": self.name, "result": self.result, "message": self.message}


async def check_key(provider: Provider, timeout: float) -> KeyCheck:
    """Ask ``provider`` whether its key works (a provider failure is an outcome, not an error)."""
    try:
        await provider.validate_credentials(timeout=timeout)
    except ProviderError as err:
        return KeyCheck(provider.name, _outcome(err), err.message)
    return KeyCheck(provider.name, "valid", f"{provider.name} accepted the key")


def _outcome(err: ProviderError) -> str:
    if isinstance(err, ProviderAuthError):
        return "invalid"
    if isinstance(err, ProviderRateLimitError):
        return "rate_limited"
    if isinstance(err, ProviderConnectionError | ProviderTimeoutError):
        return "unreachable"
    return "error"


class ProviderKeys:
    """The manager's key desk: swaps rebuilt providers into its live ``providers`` map."""

    def __init__(
        self,
        providers: dict[str, Provider],
        guards: Guards,
        catalog: ModelCatalog,
        factory: ProviderFactory,
    ) -> None:
        self._providers = providers  # the manager's own map: replacements are seen by routing
        self._guards = guards
        self._catalog = catalog
        self._factory = factory

    def provider(self, name: str) -> Provider:
        """Provider ``name``; ``NotFoundError`` when there is none."""
        provider = self._providers.get(name)
        if provider is None:
            raise NotFoundError(f"No provider named {name!r}")
        return provider

    async def use(self, name: str, key: Secret) -> ProviderSettings:
        """Rebuild provider ``name`` with ``key`` and route to it from now on."""
        rebuilt = self._factory(replace(self.provider(name).settings, api_key=key))
        await self.replace(rebuilt)
        return rebuilt.settings

    async def test(self, name: str, key: Secret | None = None) -> KeyCheck:
        """Check ``key`` (default: the key in use) live against provider ``name``.

        A pass for the key in use re-admits a provider benched because that key was rejected.
        """
        provider = self.provider(name)
        in_use = key is None or key == provider.settings.api_key
        probe = provider
        if key is not None and not in_use:
            probe = self._factory(replace(provider.settings, api_key=key))
        started = self._guards.clock()
        try:
            result = await check_key(probe, KEY_CHECK_TIMEOUT)
        finally:
            if probe is not provider:
                await probe.close()
        if in_use and result.valid and self._providers.get(name) is provider:
            latency = round((self._guards.clock() - started) * 1000, 1)
            self._guards.health.record_success(name, latency)
            self._readmit(provider)
        return result

    def checked(self, name: str, status: HealthStatus) -> None:
        """A health check's result: a pass proves the key in use is accepted again."""
        if status.ok and name in self._providers:
            self._readmit(self._providers[name])

    async def replace(self, provider: Provider) -> None:
        """Swap in a rebuilt provider (e.g. after its key changed) and close the old one."""
        old = self._providers[provider.name]
        self._providers[provider.name] = provider
        self._guards.health.reset(provider.name)
        self._catalog.forget(provider.name)
        self._guards.breakers.get(provider.name).credentials_changed(
            credential_fingerprint(provider)
        )
        await old.close()

    def _readmit(self, provider: Provider) -> None:
        breaker = self._guards.breakers.get(provider.name)
        breaker.credentials_accepted(credential_fingerprint(provider))
