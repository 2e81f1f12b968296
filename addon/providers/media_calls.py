"""The provider contract beyond chat: embeddings, speech to text, text to speech, images.

Every provider has these calls; one that does not serve a capability refuses it with
``ProviderCapabilityError`` (the manager then moves on without blaming it). A provider serves
a capability when its class lists it in ``media_capabilities`` and implements the hook
(``_embed``, ``_transcribe``, ``_speak``, ``_generate_image``; ``_transcribe_stream`` and
``_speak_stream`` where the vendor streams), and only with a model that has it
(``supports``: the traits data, or the model named in the provider's options).

The public calls wrap the hooks as ``chat`` wraps ``_chat``: the key is checked, the model
resolved, the call bounded by its deadline, SDK errors mapped once (``map_error``), the
latency measured. Hooks receive the request with its model set and speak to their SDK only.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from typing import Final

from addon.errors import ProviderCapabilityError, ProviderResponseError
from addon.images.generation import rules_for
from addon.models import (
    AudioChunk,
    Capability,
    EmbeddingRequest,
    EmbeddingResponse,
    ImageRequest,
    ImageResponse,
    SpeechRequest,
    SpeechResponse,
    TranscriptDelta,
    TranscriptionRequest,
    TranscriptionResponse,
)
from addon.providers.core import ProviderCore
from addon.settings import MEDIA_MODEL_OPTIONS

CHARS_PER_TOKEN: Final = 4
"""For text whose tokens the vendor does not report: the vendors' own rule of thumb."""


def estimated_tokens(texts: Iterable[str]) -> int:
    """Tokens of ``texts`` when the vendor does not say (about four characters per token)."""
    return sum(math.ceil(len(text) / CHARS_PER_TOKEN) for text in texts)


class MediaCalls(ProviderCore):
    """The media half of the provider contract (see the module docstring)."""

    media_capabilities: frozenset[Capability] = frozenset()
    """The capabilities beyond chat this provider's code implements."""

    def default_model(self, capability: Capability) -> str:
        """The model used for ``capability`` when the request pins none ("" = none)."""
        if capability is Capability.CHAT:
            return self.settings.model
        if capability is Capability.VISION:
            return self.settings.vision_model or self.settings.model
        return self.settings.media_model(capability)

    def supports(self, capability: Capability, model: str) -> bool:
        """True when ``model`` on this provider can serve ``capability``."""
        if capability is Capability.CHAT:
            return self.traits(model).chat
        if capability is Capability.VISION:
            return self.supports_vision(model)
        if capability not in self.media_capabilities or not model:
            return False
        flagged: bool = getattr(self.traits(model), capability.value)
        return flagged or model == self.settings.media_model(capability)

    # --- the calls ----------------------------------------------------------------------
    async def embed(self, request: EmbeddingRequest, *, timeout: float) -> EmbeddingResponse:
        """One vector per input of ``request``, in order, within ``timeout`` seconds."""
        request = replace(request, model=self._model_for(Capability.EMBEDDINGS, request.model))
        started = time.perf_counter()
        response = await self._guard(self._embed(request, timeout=timeout), timeout)
        self._check_vectors(request, response)
        return replace(response, latency_ms=_since(started))

    async def transcribe(
        self, request: TranscriptionRequest, *, timeout: float
    ) -> TranscriptionResponse:
        """The transcript of ``request.audio`` within ``timeout`` seconds."""
        request = replace(request, model=self._model_for(Capability.TRANSCRIPTION, request.model))
        started = time.perf_counter()
        response = await self._guard(self._transcribe(request, timeout=timeout), timeout)
        return replace(response, latency_ms=_since(started))

    async def transcribe_stream(
        self, request: TranscriptionRequest, *, timeout: float
    ) -> AsyncIterator[TranscriptDelta | TranscriptionResponse]:
        """Transcript pieces as they come, then the whole ``TranscriptionResponse``."""
        request = replace(request, model=self._model_for(Capability.TRANSCRIPTION, request.model))
        async for item in self._relay(self._transcribe_stream(request, timeout=timeout), timeout):
            yield item

    async def speak(self, request: SpeechRequest, *, timeout: float) -> SpeechResponse:
        """``request.text`` spoken, in ``request.format``, within ``timeout`` seconds."""
        request = replace(request, model=self._model_for(Capability.SPEECH, request.model))
        started = time.perf_counter()
        response = await self._guard(self._speak(request, timeout=timeout), timeout)
        return replace(response, latency_ms=_since(started))

    async def speak_stream(
        self, request: SpeechRequest, *, timeout: float
    ) -> AsyncIterator[AudioChunk | SpeechResponse]:
        """Audio chunks as they come, then the ``SpeechResponse`` (with the usage)."""
        request = replace(request, model=self._model_for(Capability.SPEECH, request.model))
        async for item in self._relay(self._speak_stream(request, timeout=timeout), timeout):
            yield item

    async def generate_image(self, request: ImageRequest, *, timeout: float) -> ImageResponse:
        """``request.count`` images for ``request.prompt`` within ``timeout`` seconds."""
        request = replace(request, model=self._model_for(Capability.IMAGES, request.model))
        rules = rules_for(request.model)
        problem = rules.problem(request.prompt, request.count, request.size, request.quality)
        if problem is not None:
            field, takes = problem
            raise ProviderCapabilityError(f"{field}: {self.name}'s {request.model} takes {takes}")
        started = time.perf_counter()
        response = await self._guard(self._generate_image(request, timeout=timeout), timeout)
        if not response.images:
            raise ProviderResponseError(f"{self.name} returned no image")
        return replace(response, latency_ms=_since(started))

    # --- hooks (a provider implements those of its media_capabilities) -------------------
    async def _embed(self, request: EmbeddingRequest, *, timeout: float) -> EmbeddingResponse:
        raise NotImplementedError

    async def _transcribe(
        self, request: TranscriptionRequest, *, timeout: float
    ) -> TranscriptionResponse:
        raise NotImplementedError

    async def _transcribe_stream(
        self, request: TranscriptionRequest, *, timeout: float
    ) -> AsyncIterator[TranscriptDelta | TranscriptionResponse]:
        """Default for vendors that do not stream: one call, its text as one piece."""
        response = await self._transcribe(request, timeout=timeout)
        if response.text:
            yield TranscriptDelta(response.text)
        yield response

    async def _speak(self, request: SpeechRequest, *, timeout: float) -> SpeechResponse:
        raise NotImplementedError

    async def _speak_stream(
        self, request: SpeechRequest, *, timeout: float
    ) -> AsyncIterator[AudioChunk | SpeechResponse]:
        """Default for vendors that do not stream: one call, its audio as one chunk."""
        response = await self._speak(request, timeout=timeout)
        yield AudioChunk(response.audio)
        yield response

    async def _generate_image(self, request: ImageRequest, *, timeout: float) -> ImageResponse:
        raise NotImplementedError

    # --- helpers ------------------------------------------------------------------------
    def unknown_model(self, vendor_message: str) -> ProviderCapabilityError:
        """The vendor does not have the model of a media call (404): a capability miss.

        Another provider may well have a model for the capability, so the walk moves on
        without blaming this one; the message says what the vendor said.
        """
        return ProviderCapabilityError(f"{self.name} has no such model: {vendor_message}")

    def _check_vectors(self, request: EmbeddingRequest, response: EmbeddingResponse) -> None:
        """One vector per input, all of one length (the one asked for), of finite numbers."""
        vectors = response.vectors
        lengths = {len(vector) for vector in vectors}
        problem = None
        if len(vectors) != len(request.inputs):
            problem = f"{len(vectors)} vectors for {len(request.inputs)} inputs"
        elif len(lengths) != 1 or 0 in lengths:
            problem = f"vectors of lengths {sorted(lengths)}"
        elif request.dimensions is not None and lengths != {request.dimensions}:
            problem = f"{lengths.pop()}-dimensional vectors where {request.dimensions} were asked"
        elif not all(math.isfinite(value) for vector in vectors for value in vector):
            problem = "vectors with values that are not numbers"
        if problem is not None:
            raise ProviderResponseError(f"{self.name} returned {problem}")

    def _model_for(self, capability: Capability, pinned: str) -> str:
        """The model of this call; ``ProviderCapabilityError`` when it cannot serve it."""
        model = pinned or self.default_model(capability)
        if not model and capability in self.media_capabilities:
            option = MEDIA_MODEL_OPTIONS[capability]
            raise ProviderCapabilityError(f"{self.name} has no {capability} model: set {option}")
        if not self.supports(capability, model):
            raise ProviderCapabilityError(
                f"{self.name} cannot serve {capability}"
                + (f" with model {model!r}" if model else "")
            )
        self.require_key()
        return model


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
