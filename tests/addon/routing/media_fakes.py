"""Scripted media providers for the generic path's tests: real provider classes, no network.

``Scripted`` is a real ``BaseProvider`` subclass (its public calls, deadlines and error mapping
are the production code's); only its hooks answer from a script instead of a vendor SDK, so
the routing, budgets, cache and ledger around them can be tested for every capability before
and beside the vendors' own media tests.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from addon.errors import ProviderError
from addon.models import (
    AudioChunk,
    Capability,
    EmbeddingRequest,
    EmbeddingResponse,
    GeneratedImage,
    ImageRequest,
    ImageResponse,
    SpeechRequest,
    SpeechResponse,
    TranscriptDelta,
    TranscriptionRequest,
    TranscriptionResponse,
    Usage,
)
from addon.providers.base import BaseProvider
from addon.settings import ProviderSettings

ALL_MEDIA = frozenset(
    {Capability.EMBEDDINGS, Capability.TRANSCRIPTION, Capability.SPEECH, Capability.IMAGES}
)
DIMENSIONS = 4
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
MP3 = b"ID3\x04\0\0\0\0\0\0" + b"\xff\xfb" * 8


class Scripted(BaseProvider):
    """A provider of ``provider_type`` whose media hooks answer from a script.

    ``fail(err)`` makes the next call raise ``err``; ``calls`` lists the requests received and
    ``timeouts`` the deadline each call was given.
    """

    def __init__(self, settings: ProviderSettings, capabilities: frozenset[Capability]) -> None:
        super().__init__(settings)
        self.provider_type = settings.type
        self.media_capabilities = capabilities
        self.failures: deque[ProviderError] = deque()
        self.calls: list[Any] = []
        self.timeouts: list[float] = []

    def fail(self, err: ProviderError, times: int = 1) -> None:
        """The next ``times`` calls raise ``err``."""
        self.failures.extend([err] * times)

    def _called(self, request: Any, timeout: float) -> None:
        self.calls.append(request)
        self.timeouts.append(timeout)
        if self.failures:
            raise self.failures.popleft()

    async def _embed(self, request: EmbeddingRequest, *, timeout: float) -> EmbeddingResponse:
        self._called(request, timeout)
        size = request.dimensions or DIMENSIONS
        vectors = tuple(tuple(float(len(text) + i) for i in range(size)) for text in request.inputs)
        tokens = sum(len(text.split()) for text in request.inputs)
        return EmbeddingResponse(vectors, request.model, Usage(input_tokens=tokens))

    async def _transcribe(
        self, request: TranscriptionRequest, *, timeout: float
    ) -> TranscriptionResponse:
        self._called(request, timeout)
        seconds = request.audio.duration_s or 0.0
        return TranscriptionResponse(
            "turn on the light", request.model, Usage(audio_seconds=seconds)
        )

    async def _speak(self, request: SpeechRequest, *, timeout: float) -> SpeechResponse:
        self._called(request, timeout)
        usage = Usage(characters=len(request.text))
        return SpeechResponse(MP3, request.format, request.model, usage)

    async def _generate_image(self, request: ImageRequest, *, timeout: float) -> ImageResponse:
        self._called(request, timeout)
        images = tuple(GeneratedImage(PNG) for _ in range(request.count))
        return ImageResponse(images, request.model, Usage(images=request.count))

    async def list_models(self, *, timeout: float) -> list[Any]:
        """Nothing listed (the health check's call)."""
        self.timeouts.append(timeout)
        return []


class StreamingScripted(Scripted):
    """Streams speech in two chunks and a transcript in words (as streaming vendors do)."""

    async def _speak_stream(
        self, request: SpeechRequest, *, timeout: float
    ) -> AsyncIterator[AudioChunk | SpeechResponse]:
        response = await self._speak(request, timeout=timeout)
        half = len(response.audio) // 2
        yield AudioChunk(response.audio[:half])
        yield AudioChunk(response.audio[half:])
        yield response

    async def _transcribe_stream(
        self, request: TranscriptionRequest, *, timeout: float
    ) -> AsyncIterator[TranscriptDelta | TranscriptionResponse]:
        response = await self._transcribe(request, timeout=timeout)
        for word in response.text.split(" "):
            yield TranscriptDelta(word + " ")
        yield response


def scripted(
    name: str,
    provider_type: str = "openai",
    capabilities: frozenset[Capability] = ALL_MEDIA,
    *,
    streaming: bool = False,
    **settings: Any,
) -> Scripted:
    """A scripted provider named ``name`` of ``provider_type`` with ``settings``."""
    options = ProviderSettings(name=name, type=provider_type, model="gpt-4.1-mini", **settings)
    kind = StreamingScripted if streaming else Scripted
    return kind(options, capabilities)
