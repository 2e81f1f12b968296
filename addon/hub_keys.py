"""Checking a provider key live: valid, invalid, unreachable, rate limited, or another error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from addon.errors import (
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimitError,
    ProviderTimeoutError,
)
from addon.providers.base import Provider


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
