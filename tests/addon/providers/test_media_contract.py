"""The media half of the provider contract, on every provider class.

A capability a provider does not serve is refused with ``ProviderCapabilityError`` before
anything is sent (the manager moves on without blame); ``supports`` and ``default_model`` read
the traits data and the provider's options; the shared wrapper bounds every call by its
deadline, maps SDK errors once, checks what the hook returned, and gives non-streaming vendors
a stream of one piece.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from addon.errors import (
    ProviderAuthError,
    ProviderCapabilityError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from addon.models import (
    AudioChunk,
    AudioFormat,
    AudioInput,
    Capability,
    EmbeddingRequest,
    EmbeddingResponse,
    ImageRequest,
    ImageResponse,
    SpeechRequest,
    TranscriptDelta,
    TranscriptionRequest,
    TranscriptionResponse,
    Usage,
)
from addon.providers import create_provider
from addon.providers.base import Provider
from addon.settings import ProviderSettings, Secret
from tests.addon.routing.media_fakes import MP3, Scripted, scripted

CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: a call that went out would not refuse
TYPES = ("openai", "openai_compatible", "anthropic", "gemini", "ollama")
AUDIO = AudioInput(b"RIFF" + b"\0" * 40, AudioFormat.WAV, 16000, 1, 2.0)


def settings(provider_type: str, **options: Any) -> ProviderSettings:
    return ProviderSettings(
        name=f"my-{provider_type}",
        type=provider_type,
        model="some-chat-model",
        api_key=Secret("sk-test-key-123456"),
        base_url=CLOSED_PORT,
        **options,
    )


async def call(provider: Provider, capability: Capability, model: str = "") -> Any:
    """One call of ``capability`` on ``provider`` (streams drained)."""
    if capability is Capability.EMBEDDINGS:
        return await provider.embed(EmbeddingRequest(("hi",), model), timeout=2)
    if capability is Capability.TRANSCRIPTION:
        return [
            i
            async for i in provider.transcribe_stream(TranscriptionRequest(AUDIO, model), timeout=2)
        ]
    if capability is Capability.SPEECH:
        return [i async for i in provider.speak_stream(SpeechRequest("hi", model), timeout=2)]
    return await provider.generate_image(ImageRequest("a cat", model), timeout=2)


MEDIA = (Capability.EMBEDDINGS, Capability.TRANSCRIPTION, Capability.SPEECH, Capability.IMAGES)


@pytest.mark.parametrize("capability", MEDIA)
@pytest.mark.parametrize("provider_type", TYPES)
async def test_an_unserved_capability_is_refused_before_anything_is_sent(
    provider_type: str, capability: Capability
) -> None:
    provider = create_provider(settings(provider_type))
    try:
        if capability in getattr(provider, "media_capabilities", frozenset()):
            pytest.skip(f"{provider_type} serves {capability}")
        with pytest.raises(ProviderCapabilityError) as refused:
            await call(provider, capability)
        assert refused.value.retryable
        assert not refused.value.provider_fault
    finally:
        await provider.close()


@pytest.mark.parametrize(
    ("provider_type", "capability", "expected"),
    [
        ("openai", Capability.EMBEDDINGS, "text-embedding-3-small"),
        ("openai", Capability.TRANSCRIPTION, "gpt-4o-mini-transcribe"),
        ("openai", Capability.SPEECH, "gpt-4o-mini-tts"),
        ("openai", Capability.IMAGES, "gpt-image-1.5"),
        ("gemini", Capability.EMBEDDINGS, "gemini-embedding-001"),
        ("gemini", Capability.TRANSCRIPTION, "gemini-2.5-flash"),
        ("gemini", Capability.SPEECH, "gemini-3.8-flash-tts"),
        ("gemini", Capability.IMAGES, "gemini-2.5-flash-image"),
        ("ollama", Capability.EMBEDDINGS, "embeddinggemma"),
        ("ollama", Capability.SPEECH, ""),
        ("anthropic", Capability.EMBEDDINGS, ""),
        ("openai_compatible", Capability.EMBEDDINGS, ""),
        ("openai", Capability.CHAT, "gpt-4.1-mini"),
        ("openai", Capability.VISION, "gpt-4.1-mini"),
    ],
)
def test_the_default_model_of_each_type(
    provider_type: str, capability: Capability, expected: str
) -> None:
    assert scripted("p", provider_type).default_model(capability) == expected


def test_options_name_the_models() -> None:
    provider = scripted(
        "p",
        "openai_compatible",
        embedding_model="nomic-embed-text",
        transcription_model="whisper-large-v3",
        speech_model="kokoro",
        image_model="sdxl",
        vision_model="llava",
    )
    assert [provider.default_model(c) for c in (*MEDIA, Capability.VISION)] == [
        "nomic-embed-text",
        "whisper-large-v3",
        "kokoro",
        "sdxl",
        "llava",
    ]


@pytest.mark.parametrize(
    ("provider_type", "capability", "model", "options", "expected"),
    [
        # The traits data says what a model can do...
        ("openai", Capability.EMBEDDINGS, "text-embedding-3-large", {}, True),
        ("openai", Capability.EMBEDDINGS, "gpt-4.1-mini", {}, False),
        ("openai", Capability.SPEECH, "gpt-4o-mini-tts", {}, True),
        ("openai", Capability.TRANSCRIPTION, "gpt-4o-transcribe", {}, True),
        ("openai", Capability.TRANSCRIPTION, "gpt-4o", {}, False),
        ("openai", Capability.IMAGES, "dall-e-3", {}, True),
        ("gemini", Capability.TRANSCRIPTION, "gemini-2.5-flash", {}, True),
        ("gemini", Capability.SPEECH, "gemini-2.5-flash", {}, False),
        ("ollama", Capability.EMBEDDINGS, "nomic-embed-text:latest", {}, True),
        ("ollama", Capability.EMBEDDINGS, "gemma3:4b", {}, False),
        # ... and a model named in the options is taken at its word.
        ("openai_compatible", Capability.EMBEDDINGS, "e5", {"embedding_model": "e5"}, True),
        ("openai_compatible", Capability.EMBEDDINGS, "e5", {}, False),
        ("openai_compatible", Capability.EMBEDDINGS, "", {}, False),
        # Chat: every model but those that only embed, speak, transcribe or draw.
        ("openai", Capability.CHAT, "gpt-4.1-mini", {}, True),
        ("openai", Capability.CHAT, "text-embedding-3-small", {}, False),
        ("ollama", Capability.CHAT, "nomic-embed-text", {}, False),
        ("gemini", Capability.VISION, "gemini-2.5-flash", {}, True),
    ],
)
def test_supports_reads_traits_and_options(
    provider_type: str,
    capability: Capability,
    model: str,
    options: dict[str, Any],
    expected: bool,
) -> None:
    assert scripted("p", provider_type, **options).supports(capability, model) is expected


def test_a_capability_the_class_does_not_implement_is_never_supported() -> None:
    provider = scripted("p", "openai", frozenset({Capability.EMBEDDINGS}))
    assert provider.supports(Capability.EMBEDDINGS, "text-embedding-3-small")
    assert not provider.supports(Capability.SPEECH, "tts-1")


async def test_a_model_that_cannot_serve_the_capability_is_a_capability_miss() -> None:
    provider = scripted("p", "openai")
    with pytest.raises(ProviderCapabilityError, match=r"'gpt-4\.1-mini'"):
        await provider.embed(EmbeddingRequest(("x",), "gpt-4.1-mini"), timeout=1)
    with pytest.raises(ProviderCapabilityError, match="set embedding_model"):
        await scripted("c", "openai_compatible").embed(EmbeddingRequest(("x",)), timeout=1)
    assert provider.calls == []


async def test_a_missing_key_is_refused_after_the_capability_check() -> None:
    provider = Scripted(
        ProviderSettings(name="k", type="openai", model="m"),
        frozenset({Capability.EMBEDDINGS}),
    )
    provider.requires_api_key = True
    with pytest.raises(ProviderAuthError):
        await provider.embed(EmbeddingRequest(("x",)), timeout=1)
    with pytest.raises(ProviderCapabilityError):  # not an auth failure: nothing to serve with
        await provider.speak(SpeechRequest("x"), timeout=1)


async def test_the_model_is_resolved_and_the_latency_measured() -> None:
    provider = scripted("p", "openai")
    response = await provider.embed(EmbeddingRequest(("a", "b")), timeout=1)
    assert provider.calls[0].model == "text-embedding-3-small"
    assert len(response.vectors) == 2
    assert response.latency_ms >= 0.0


class Broken(Scripted):
    """Hooks that misbehave the ways vendors (and bugs) do."""

    sdk_errors = (ConnectionResetError,)
    mode = ""

    async def _embed(self, request: EmbeddingRequest, *, timeout: float) -> EmbeddingResponse:
        if self.mode == "hang":
            await asyncio.sleep(timeout * 10)
        if self.mode == "sdk":
            raise ConnectionResetError("peer reset")
        if self.mode == "bug":
            raise KeyError("ours")
        return EmbeddingResponse(((1.0,),), request.model, Usage(1))  # one vector, any inputs

    async def _generate_image(self, request: ImageRequest, *, timeout: float) -> ImageResponse:
        self._called(request, timeout)
        return ImageResponse((), request.model, Usage())


def broken(mode: str) -> Broken:
    provider = Broken(ProviderSettings(name="b", type="openai", model="m"), frozenset(MEDIA))
    provider.mode = mode
    return provider


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("hang", ProviderTimeoutError),
        ("sdk", ProviderResponseError),  # the base map: an SDK error is the provider's failure
        ("bug", KeyError),  # our own bug escapes unmapped (answered internal_error upstream)
        ("", ProviderResponseError),  # two inputs, one vector: not a usable answer
    ],
)
async def test_the_wrapper_bounds_maps_and_checks(mode: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        await broken(mode).embed(EmbeddingRequest(("a", "b")), timeout=0.05)


async def test_an_image_answer_without_images_is_the_providers_failure() -> None:
    with pytest.raises(ProviderResponseError, match="no image"):
        await broken("").generate_image(ImageRequest("a cat"), timeout=1)


async def test_non_streaming_vendors_stream_one_piece_then_the_response() -> None:
    provider = scripted("p", "openai")
    spoken = [i async for i in provider.speak_stream(SpeechRequest("hello"), timeout=1)]
    assert [type(i).__name__ for i in spoken] == ["AudioChunk", "SpeechResponse"]
    assert isinstance(spoken[0], AudioChunk)
    assert spoken[0].data == MP3
    heard = [i async for i in provider.transcribe_stream(TranscriptionRequest(AUDIO), timeout=1)]
    assert isinstance(heard[0], TranscriptDelta)
    assert isinstance(heard[1], TranscriptionResponse)
    assert heard[0].text == heard[1].text == "turn on the light"


async def test_a_stream_is_bounded_by_one_deadline() -> None:
    class Slow(Scripted):
        async def _transcribe_stream(
            self, request: TranscriptionRequest, *, timeout: float
        ) -> AsyncIterator[TranscriptDelta | TranscriptionResponse]:
            yield TranscriptDelta("turn ")
            await asyncio.sleep(timeout * 10)
            yield await self._transcribe(request, timeout=timeout)

    provider = Slow(ProviderSettings(name="s", type="openai", model="m"), frozenset(MEDIA))
    pieces: list[Any] = []

    async def drain() -> None:
        async for item in provider.transcribe_stream(TranscriptionRequest(AUDIO), timeout=0.05):
            pieces.append(item)

    with pytest.raises(ProviderTimeoutError):
        await drain()
    assert pieces == [TranscriptDelta("turn ")]
