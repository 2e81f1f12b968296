"""Beyond chat: embeddings, speech to text, text to speech and image generation, wire-neutral.

Each capability has a request the manager routes and a response a provider gives back, in the
same spirit as ``chat``: no SDK type, no HTTP detail. What a call used is counted in ``Usage``
(tokens, audio seconds, characters, images), which pricing turns into money.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from addon.models.chat import Usage


class Capability(StrEnum):
    """What a request asks a provider's model to do (routing, traits, prices, the ledger)."""

    CHAT = "chat"
    VISION = "vision"
    EMBEDDINGS = "embeddings"
    TRANSCRIPTION = "transcription"
    SPEECH = "speech"
    IMAGES = "images"


class AudioFormat(StrEnum):
    """Audio containers and codecs the hub accepts (sniffed) or produces."""

    WAV = "wav"
    MP3 = "mp3"
    OGG = "ogg"  # Ogg with Opus or Vorbis
    OPUS = "opus"  # Ogg Opus as OpenAI names its speech output
    FLAC = "flac"
    M4A = "m4a"  # MP4/AAC
    WEBM = "webm"
    AAC = "aac"
    PCM = "pcm"  # raw signed 16-bit little-endian; needs its sample rate


@dataclass(frozen=True, slots=True)
class AudioInput:
    """Audio to transcribe, checked at the edge: bytes, format, and what is known of it.

    ``sample_rate`` and ``channels`` are required for ``PCM`` and informative otherwise;
    ``duration_s`` is measured or estimated at the edge (limits, budgets).
    """

    data: bytes
    format: AudioFormat
    sample_rate: int | None = None
    channels: int | None = None
    duration_s: float | None = None

    def __repr__(self) -> str:
        return f"AudioInput({self.format}, {len(self.data)} bytes, {self.duration_s}s)"


@dataclass(frozen=True, slots=True)
class EmbeddingRequest:
    """Texts to embed; ``dimensions`` asks for shorter vectors where the model can."""

    inputs: tuple[str, ...]
    model: str = ""
    dimensions: int | None = None


@dataclass(frozen=True, slots=True)
class EmbeddingResponse:
    """One vector per input, in input order."""

    vectors: tuple[tuple[float, ...], ...]
    model: str
    usage: Usage
    latency_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class TranscriptionRequest:
    """Speech to text: the audio, and optionally its language (ISO-639-1) and a prompt."""

    audio: AudioInput
    model: str = ""
    language: str | None = None
    prompt: str | None = None


@dataclass(frozen=True, slots=True)
class TranscriptionResponse:
    """The transcript; ``usage.audio_seconds`` carries the billed duration."""

    text: str
    model: str
    usage: Usage
    language: str | None = None
    latency_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class TranscriptDelta:
    """A piece of a streamed transcript (where the vendor streams).

    Providers leave ``provider`` and ``model`` empty; the manager names who is answering on
    every piece it passes on (as on chat's ``StreamDelta``), so a front door can say so.
    """

    text: str
    provider: str | None = None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    """Text to speech: ``voice`` is the vendor's voice name (None: the provider's default)."""

    text: str
    model: str = ""
    voice: str | None = None
    format: AudioFormat = AudioFormat.MP3
    speed: float | None = None
    instructions: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class SpeechResponse:
    """Synthesised audio in the requested format; ``usage.characters`` carries the billed text."""

    audio: bytes
    format: AudioFormat
    model: str
    usage: Usage
    sample_rate: int | None = None
    latency_ms: float = 0.0

    def __repr__(self) -> str:
        return f"SpeechResponse({self.format}, {len(self.audio)} bytes, model={self.model})"


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """A piece of streamed speech audio, in the response's format.

    ``provider`` and ``model`` as on ``TranscriptDelta``: set by the manager, not providers.
    """

    data: bytes
    provider: str | None = None
    model: str | None = None

    def __repr__(self) -> str:
        return f"AudioChunk({len(self.data)} bytes, {self.provider}/{self.model})"


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """Image generation: what to draw, how many, and optionally how.

    ``size`` is ``WIDTHxHEIGHT``, ``quality`` ``low``/``medium``/``high`` and ``format``
    ``png``/``jpeg``/``webp`` (each None: the model's default; a vendor's PNG is re-encoded
    when another format is asked for).
    """

    prompt: str
    model: str = ""
    count: int = 1
    size: str | None = None
    quality: str | None = None
    format: str | None = None


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """One generated image: encoded bytes, their MIME type and (when read) pixel size."""

    data: bytes
    mime_type: str = "image/png"
    revised_prompt: str | None = None
    width: int | None = None
    height: int | None = None

    def __repr__(self) -> str:
        return f"GeneratedImage({self.mime_type}, {len(self.data)} bytes)"


@dataclass(frozen=True, slots=True)
class ImageResponse:
    """The generated images; ``usage.images`` (and tokens where billed so) count them."""

    images: tuple[GeneratedImage, ...]
    model: str
    usage: Usage
    latency_ms: float = 0.0
