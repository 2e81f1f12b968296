"""A configured provider whose SDK is imported on its first call instead of at start-up.

Importing a vendor's SDK costs up to a second of CPU and tens of MiB (Anthropic's alone about
1 s and 38 MiB), so the hub builds ``LazyProvider``s and starts answering without any. Routing
asks only what the provider's class declares (``PROVIDER_FACTS``: the key rule and the media
capabilities, checked against the classes by the tests) and what the settings say; both are
answered here. Health checks do not load it either: given a ``probe.Prober``, an unloaded
provider answers ``health`` with a plain HTTP probe of the vendor's model list. The first other
call (or the manager's ``warm_up`` of the first choice, right after start) imports the SDK on
a worker thread, so the event loop keeps serving, builds the real provider, and hands it that
call and every later one.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from addon.errors import ConfigError, HubError
from addon.models import (
    AudioChunk,
    Capability,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    HealthStatus,
    ImageRequest,
    ImageResponse,
    ModelInfo,
    SpeechRequest,
    SpeechResponse,
    StreamDelta,
    TranscriptDelta,
    TranscriptionRequest,
    TranscriptionResponse,
)
from addon.providers.base import BaseProvider
from addon.providers.probe import can_probe

if TYPE_CHECKING:
    from types import ModuleType

    from addon.providers.base import Provider
    from addon.providers.probe import Prober
    from addon.settings import ProviderSettings

_ALL_MEDIA: Final = frozenset(
    {Capability.EMBEDDINGS, Capability.TRANSCRIPTION, Capability.SPEECH, Capability.IMAGES}
)
# One SDK import at a time: two threads importing packages that import each other can see
# each other's half-initialised modules.
_IMPORTING: Final = threading.Lock()


@dataclass(frozen=True, slots=True)
class ProviderFacts:
    """What a provider class declares that routing needs before its SDK is loaded."""

    module: str
    class_name: str
    requires_api_key: bool
    media_capabilities: frozenset[Capability]


PROVIDER_FACTS: Final[dict[str, ProviderFacts]] = {
    "openai": ProviderFacts("addon.providers.openai", "OpenAIProvider", True, _ALL_MEDIA),
    "openai_compatible": ProviderFacts(
        "addon.providers.openai", "OpenAICompatibleProvider", False, _ALL_MEDIA
    ),
    "anthropic": ProviderFacts("addon.providers.anthropic", "AnthropicProvider", True, frozenset()),
    "gemini": ProviderFacts("addon.providers.gemini", "GeminiProvider", True, _ALL_MEDIA),
    "ollama": ProviderFacts(
        "addon.providers.ollama", "OllamaProvider", False, frozenset({Capability.EMBEDDINGS})
    ),
}


def import_sdk_module(name: str) -> ModuleType:
    """Import the provider module ``name`` (and its SDK), one import at a time."""
    with _IMPORTING:
        return importlib.import_module(name)


class LazyProvider(BaseProvider):
    """The provider of ``settings``, loaded on its first call (see the module docstring)."""

    def __init__(
        self, settings: ProviderSettings, facts: ProviderFacts, prober: Prober | None = None
    ) -> None:
        super().__init__(settings)
        self.provider_type = settings.type
        self.requires_api_key = facts.requires_api_key
        self.media_capabilities = facts.media_capabilities
        self._facts = facts
        self._loaded: Provider | None = None
        self._loading = asyncio.Lock()
        self._prober = prober if prober is not None and can_probe(settings) else None

    def __repr__(self) -> str:
        state = "loaded" if self._loaded is not None else "not loaded yet"
        return f"<LazyProvider {self.name} type={self.provider_type} {state}>"

    @property
    def is_loaded(self) -> bool:
        """True once the real provider is built."""
        return self._loaded is not None

    @property
    def probes_health(self) -> bool:
        """True while ``health`` is a plain HTTP probe (not loaded, and a prober given)."""
        return self._loaded is None and self._prober is not None

    async def loaded(self) -> Provider:
        """The real provider, imported and built on the first call."""
        if self._loaded is None:
            async with self._loading:
                if self._loaded is None:
                    module = await asyncio.to_thread(import_sdk_module, self._facts.module)
                    cls = getattr(module, self._facts.class_name)
                    self._loaded = build_provider(cls, self.settings)
        return self._loaded

    # --- the contract, handed to the real provider -----------------------------------------
    async def chat(self, request: ChatRequest, *, timeout: float) -> ChatResponse:
        """The real provider's answer."""
        return await (await self.loaded()).chat(request, timeout=timeout)

    async def chat_stream(
        self, request: ChatRequest, *, timeout: float
    ) -> AsyncIterator[StreamDelta]:
        """The real provider's stream."""
        items = (await self.loaded()).chat_stream(request, timeout=timeout)
        try:
            async for delta in items:
                yield delta
        finally:
            await _close(items)

    async def embed(self, request: EmbeddingRequest, *, timeout: float) -> EmbeddingResponse:
        """The real provider's vectors."""
        return await (await self.loaded()).embed(request, timeout=timeout)

    async def transcribe(
        self, request: TranscriptionRequest, *, timeout: float
    ) -> TranscriptionResponse:
        """The real provider's transcript."""
        return await (await self.loaded()).transcribe(request, timeout=timeout)

    async def transcribe_stream(
        self, request: TranscriptionRequest, *, timeout: float
    ) -> AsyncIterator[TranscriptDelta | TranscriptionResponse]:
        """The real provider's transcript pieces."""
        items = (await self.loaded()).transcribe_stream(request, timeout=timeout)
        try:
            async for item in items:
                yield item
        finally:
            await _close(items)

    async def speak(self, request: SpeechRequest, *, timeout: float) -> SpeechResponse:
        """The real provider's speech."""
        return await (await self.loaded()).speak(request, timeout=timeout)

    async def speak_stream(
        self, request: SpeechRequest, *, timeout: float
    ) -> AsyncIterator[AudioChunk | SpeechResponse]:
        """The real provider's audio chunks."""
        items = (await self.loaded()).speak_stream(request, timeout=timeout)
        try:
            async for item in items:
                yield item
        finally:
            await _close(items)

    async def generate_image(self, request: ImageRequest, *, timeout: float) -> ImageResponse:
        """The real provider's images."""
        return await (await self.loaded()).generate_image(request, timeout=timeout)

    async def list_models(self, *, timeout: float) -> list[ModelInfo]:
        """The real provider's models."""
        return await (await self.loaded()).list_models(timeout=timeout)

    async def health(self, *, timeout: float) -> HealthStatus:
        """The vendor's model list probed (not loaded, a prober given), else the real check.

        Both give the same answers (the contract suite runs its health cases through both).
        """
        if self._loaded is None and self._prober is not None:
            return await self._prober.health(
                self.settings, timeout=timeout, requires_key=self.requires_api_key
            )
        return await (await self.loaded()).health(timeout=timeout)

    async def validate_credentials(self, *, timeout: float) -> None:
        """The real provider's key check."""
        await (await self.loaded()).validate_credentials(timeout=timeout)

    async def close(self) -> None:
        """Close the real provider, if it was ever loaded."""
        if self._loaded is not None:
            await self._loaded.close()


def unloaded(provider: Provider) -> LazyProvider | None:
    """``provider`` when it was built lazily and its SDK is not loaded yet, else None.

    Callers that time a call load it first (``loaded``), so a deadline never counts the import.
    """
    if isinstance(provider, LazyProvider) and not provider.is_loaded:
        return provider
    return None


async def _close(items: AsyncIterator[object]) -> None:
    """Close the real provider's stream with ours (its deadline and connection go at once)."""
    aclose = getattr(items, "aclose", None)
    if aclose is not None:
        await aclose()


def build_provider(
    cls: Callable[[ProviderSettings], Provider], settings: ProviderSettings
) -> Provider:
    """``cls(settings)``; what the SDK's constructor raises becomes a ``ConfigError``."""
    try:
        return cls(settings)
    except HubError:
        raise
    except Exception as err:
        raise ConfigError(
            f"Provider {settings.name!r} cannot be set up with its settings "
            f"({type(err).__name__}; see the log)"
        ) from err
