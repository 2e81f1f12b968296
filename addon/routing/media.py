"""The capabilities beyond chat through the attempt loop: one small call spec each.

A media request's call is its body with the model resolved for the provider (the pinned one,
else the provider's model for the capability). Each spec says what a call may use at most (the
worst case its budget reservation and rate limit hold until the call settles) and how to make
it; everything else (admission, failover, accounting, the ledger) is the loop's.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from typing import Any, Final, Never, Protocol, TypeIs

from addon.images.generation import normal_quality, rules_for
from addon.models import (
    AudioChunk,
    AudioFormat,
    AudioInput,
    EmbeddingRequest,
    EmbeddingResponse,
    ImageRequest,
    ImageResponse,
    MediaBody,
    MediaRequest,
    MediaResponse,
    SpeechRequest,
    SpeechResponse,
    TranscriptDelta,
    TranscriptionRequest,
    TranscriptionResponse,
    Usage,
)
from addon.pricing import ModelPrice
from addon.providers.base import Provider
from addon.routing.calls import Answered, CallSpec, Quote, Settled
from addon.routing.estimate import CHARS_PER_TOKEN, REQUEST_OVERHEAD

EMBEDDING_INPUT_OVERHEAD: Final = 2  # tokens a vendor may add per input (start/end markers)
AUDIO_TOKENS_PER_SECOND: Final = 32
"""Audio tokens per second of sound (Gemini's documented rate; OpenAI's is lower)."""
TRANSCRIPT_TOKENS_PER_SECOND: Final = 8  # fast speech is ~4 words (~5 tokens) per second
UNKNOWN_AUDIO_BYTES_PER_SECOND: Final = 2000
"""For audio whose duration was not measured: 16 kbit/s, lower than any speech codec in use
(so the estimated duration is longer than the real one)."""
SLOWEST_SPEECH_CHARS_PER_SECOND: Final = 8.0  # slow, careful speech; normal is ~15


def media_model(provider: Provider, request: MediaRequest[Any]) -> str:
    """The model ``provider`` would use for ``request``: the pinned one, else its own."""
    return request.body.model or provider.default_model(request.capability)


def text_tokens(text: str) -> int:
    """A generous token estimate of ``text`` (as chat estimates its prompts)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


class _Answer(Protocol):
    """What every media response has: the model that answered and what it used."""

    @property
    def model(self) -> str:
        """The model that answered."""

    @property
    def usage(self) -> Usage:
        """What the call used."""


class _MediaCall[B: MediaBody, A: _Answer, P](CallSpec[B, A, P, MediaResponse[A]]):
    """What every media spec shares: the call is the body with its model resolved."""

    answer_type: type

    def __init__(self, request: MediaRequest[B]) -> None:
        self._request = request

    @property
    def request(self) -> MediaRequest[B]:
        """The media request being answered."""
        return self._request

    async def prepare(self, provider: Provider, _timeout: float, /) -> B:
        """The body with the model ``provider`` uses."""
        return replace(self.request.body, model=media_model(provider, self.request))

    def model_of(self, call: B, /) -> str:
        """The call's model."""
        return call.model

    def bound(self, _provider: Provider, call: B, price: ModelPrice, /) -> tuple[B, Quote]:
        """The call unchanged, and the most it may use."""
        return call, Quote(call.model, price, self.worst(call), self.variant(call))

    def worst(self, call: B) -> Usage:
        """The most ``call`` may use, in every unit its vendor may bill."""
        raise NotImplementedError

    def variant(self, _call: B, /) -> str | None:
        """What a per-unit price depends on beyond the usage (images: quality and size)."""
        return None

    def is_answer(self, item: P | A, /) -> TypeIs[A]:
        """The capability's response ends a stream."""
        return isinstance(item, self.answer_type)

    def settled(self, answer: A, /) -> Settled:
        """What the answer used."""
        return Settled(answer.usage, answer.model)

    def respond(self, answer: A, answered: Answered, /) -> MediaResponse[A]:
        """The hub's response around the provider's answer."""
        return MediaResponse(
            request_id=answered.request_id,
            result=answer,
            provider=answered.provider,
            model=answered.model,
            usage=answered.usage,
            latency_ms=answered.latency_ms,
            attempts=answered.attempts,
            cost_usd=answered.cost_usd,
        )


class EmbedCall(_MediaCall[EmbeddingRequest, EmbeddingResponse, Never]):
    """Embeddings: billed per input token; no stream (the answer comes in one piece)."""

    answer_type = EmbeddingResponse

    def worst(self, call: EmbeddingRequest) -> Usage:
        """Every input's tokens (estimated generously)."""
        tokens = sum(text_tokens(text) + EMBEDDING_INPUT_OVERHEAD for text in call.inputs)
        return Usage(input_tokens=tokens)

    def invoke(
        self, provider: Provider, call: EmbeddingRequest, timeout: float, /
    ) -> Awaitable[EmbeddingResponse]:
        """One embeddings call."""
        return provider.embed(call, timeout=timeout)

    async def stream(
        self, provider: Provider, call: EmbeddingRequest, timeout: float, /
    ) -> AsyncIterator[EmbeddingResponse]:
        """The answer as the stream's only item."""
        yield await provider.embed(call, timeout=timeout)


class TranscribeCall(_MediaCall[TranscriptionRequest, TranscriptionResponse, TranscriptDelta]):
    """Speech to text: billed per audio minute or per audio and text token."""

    answer_type = TranscriptionResponse

    def worst(self, call: TranscriptionRequest) -> Usage:
        """The audio's tokens and duration, the prompt, and a transcript of fast speech."""
        seconds = audio_seconds(call.audio)
        return Usage(
            input_tokens=math.ceil(seconds * AUDIO_TOKENS_PER_SECOND)
            + text_tokens(call.prompt or "")
            + REQUEST_OVERHEAD,
            output_tokens=math.ceil(seconds * TRANSCRIPT_TOKENS_PER_SECOND) + REQUEST_OVERHEAD,
            audio_seconds=seconds,
        )

    def invoke(
        self, provider: Provider, call: TranscriptionRequest, timeout: float, /
    ) -> Awaitable[TranscriptionResponse]:
        """One transcription."""
        return provider.transcribe(call, timeout=timeout)

    async def stream(
        self, provider: Provider, call: TranscriptionRequest, timeout: float, /
    ) -> AsyncIterator[TranscriptDelta | TranscriptionResponse]:
        """Transcript pieces labelled with who is answering, then the transcription."""
        async for item in provider.transcribe_stream(call, timeout=timeout):
            if isinstance(item, TranscriptDelta):
                yield replace(item, provider=provider.name, model=call.model)
            else:
                yield item


class SpeakCall(_MediaCall[SpeechRequest, SpeechResponse, AudioChunk]):
    """Text to speech: billed per character, per audio minute, or per text and audio token."""

    answer_type = SpeechResponse

    def worst(self, call: SpeechRequest) -> Usage:
        """The text's characters and tokens, and the audio of slow speech at the speed asked."""
        characters = len(call.text)
        speed = call.speed if call.speed and call.speed > 0 else 1.0
        seconds = characters / SLOWEST_SPEECH_CHARS_PER_SECOND / speed
        return Usage(
            input_tokens=text_tokens(call.text + (call.instructions or "")) + REQUEST_OVERHEAD,
            output_tokens=math.ceil(seconds * AUDIO_TOKENS_PER_SECOND),
            audio_seconds=seconds,
            characters=characters,
        )

    def invoke(
        self, provider: Provider, call: SpeechRequest, timeout: float, /
    ) -> Awaitable[SpeechResponse]:
        """One synthesis."""
        return provider.speak(call, timeout=timeout)

    async def stream(
        self, provider: Provider, call: SpeechRequest, timeout: float, /
    ) -> AsyncIterator[AudioChunk | SpeechResponse]:
        """Audio chunks labelled with who is answering, then the speech response."""
        async for item in provider.speak_stream(call, timeout=timeout):
            if isinstance(item, AudioChunk):
                yield replace(item, provider=provider.name, model=call.model)
            else:
                yield item


class ImageCall(_MediaCall[ImageRequest, ImageResponse, Never]):
    """Image generation: billed per image (by quality and size) or per token."""

    answer_type = ImageResponse

    async def prepare(self, provider: Provider, timeout: float, /) -> ImageRequest:
        """The body with the provider's model, and that model's default size and quality.

        A DALL-E picture's price depends on both: the defaults make it known (a standard
        1024x1024 picture when the caller leaves them to the model).
        """
        call = await super().prepare(provider, timeout)
        rules = rules_for(call.model)
        return replace(
            call,
            size=call.size or rules.default_size,
            quality=normal_quality(call.quality) or rules.default_quality,
        )

    def worst(self, call: ImageRequest) -> Usage:
        """The prompt's tokens, and the model's dearest picture of that size and quality."""
        rules = rules_for(call.model)
        per_image = rules.output_tokens(call.size, call.quality) + rules.text_allowance
        return Usage(
            input_tokens=text_tokens(call.prompt) + REQUEST_OVERHEAD,
            output_tokens=call.count * per_image,
            images=call.count,
        )

    def variant(self, call: ImageRequest, /) -> str | None:
        """``"<quality> <size>"`` when both are known (else the dearest image is assumed)."""
        if call.quality and call.size:
            return f"{call.quality} {call.size}".lower()
        return None

    def invoke(
        self, provider: Provider, call: ImageRequest, timeout: float, /
    ) -> Awaitable[ImageResponse]:
        """One generation."""
        return provider.generate_image(call, timeout=timeout)

    async def stream(
        self, provider: Provider, call: ImageRequest, timeout: float, /
    ) -> AsyncIterator[ImageResponse]:
        """The answer as the stream's only item."""
        yield await provider.generate_image(call, timeout=timeout)


def audio_seconds(audio: AudioInput) -> float:
    """The audio's duration: measured at the edge, computed for raw PCM, else a long guess."""
    if audio.duration_s is not None:
        return audio.duration_s
    if audio.format is AudioFormat.PCM and audio.sample_rate:
        return len(audio.data) / (audio.sample_rate * (audio.channels or 1) * 2)
    return len(audio.data) / UNKNOWN_AUDIO_BYTES_PER_SECOND


def media_spec(
    request: MediaRequest[Any],
) -> EmbedCall | TranscribeCall | SpeakCall | ImageCall:
    """The call spec of ``request`` by its body."""
    body = request.body
    if isinstance(body, EmbeddingRequest):
        return EmbedCall(request)
    if isinstance(body, TranscriptionRequest):
        return TranscribeCall(request)
    if isinstance(body, SpeechRequest):
        return SpeakCall(request)
    return ImageCall(request)
