"""What every provider is, whatever it serves: its identity, traits, errors and deadlines.

``ProviderCore`` is the root of the provider classes: ``MediaCalls`` (embeddings, speech,
images) and ``BaseProvider`` (chat) build on it. SDK-free.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, ClassVar

from addon.errors import (
    HubError,
    ProviderAuthError,
    ProviderError,
    ProviderResponseError,
    ProviderTimeoutError,
)

if TYPE_CHECKING:
    from addon.providers.traits import ModelTraits
    from addon.settings import ProviderSettings


def without_key(text: str, key: str) -> str:
    """``text`` with ``key`` blanked (keys shorter than 4 characters are left: too common)."""
    return text.replace(key, "***") if len(key) >= 4 else text


class ProviderCore:
    """A configured provider: its settings, its models' traits, one error map, deadlines.

    Subclasses map SDK exceptions with their own ``map_error``; ``_guard`` and ``_deadline``
    make every call end by its deadline and leave the provider as a ``ProviderError`` only.
    """

    provider_type: str = ""
    requires_api_key: bool = False
    sdk_errors: ClassVar[tuple[type[Exception], ...]] = ()
    """The exception classes the SDK and its transport raise; ``map_error`` maps them (and
    ``TimeoutError``). Anything else raised during a call is a bug in the hub's own code: it is
    not a provider failure and escapes unmapped, to be logged and answered ``internal_error``."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.name = settings.name
        self.settings = settings

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} model={self.settings.model}>"

    def traits(self, model: str) -> ModelTraits:
        """Capabilities and quirks of ``model`` (from the traits data file)."""
        from addon.providers.traits import traits_for

        return traits_for(self.provider_type, model)

    def supports_vision(self, model: str) -> bool:
        """Vision-capable: the traits say so, or the user named it as the vision model."""
        return self.traits(model).vision or (model == self.settings.vision_model != "")

    def is_sdk_error(self, err: Exception) -> bool:
        """True for what the SDK or its transport raised (a timeout included)."""
        return isinstance(err, (TimeoutError, *self.sdk_errors))

    def map_error(self, err: Exception) -> ProviderError:
        """Map an SDK exception into the hub's hierarchy. Subclasses extend this."""
        if isinstance(err, ProviderError):
            return err
        if isinstance(err, TimeoutError):
            return ProviderTimeoutError(f"{self.name} did not answer in time")
        return ProviderResponseError(f"{self.name} failed: {type(err).__name__}")

    def without_key(self, text: str) -> str:
        """``text`` with this provider's key blanked: vendors echo keys in their error messages."""
        return without_key(text, self.settings.api_key.reveal())

    def require_key(self) -> None:
        """Refuse a call before anything is sent when this provider needs a key and has none."""
        if self.requires_api_key and not self.settings.api_key:
            raise ProviderAuthError(f"{self.name} has no API key configured")

    async def _guard[T](self, awaitable: Awaitable[T], timeout: float) -> T:
        """Await under a hard deadline and map the SDK's errors once (only theirs)."""
        async with self._deadline(timeout):
            try:
                return await awaitable
            except HubError:
                raise
            except Exception as err:
                if not self.is_sdk_error(err):
                    raise
                raise self.map_error(err) from err

    async def _relay[T](self, items: AsyncIterator[T], timeout: float) -> AsyncIterator[T]:
        """Pass a stream's items on under one deadline, mapping the SDK's errors (only theirs)."""
        async with self._deadline(timeout):
            try:
                async for item in items:
                    yield item
            except HubError:
                raise
            except Exception as err:
                if not self.is_sdk_error(err):
                    raise
                raise self.map_error(err) from err

    @asynccontextmanager
    async def _deadline(self, timeout: float) -> AsyncIterator[None]:
        """A backstop deadline on top of the SDK's own timeout."""
        try:
            async with asyncio.timeout(timeout):
                yield
        except TimeoutError as err:
            raise ProviderTimeoutError(f"{self.name} did not answer within {timeout:g}s") from err
