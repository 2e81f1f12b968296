"""Speech to text and text to speech over OpenAI's audio API (and the servers that speak it).

Transcription uploads the audio as a file (``/v1/audio/transcriptions``, multipart) in one of
the formats OpenAI decodes; raw PCM is wrapped as WAV first. ``whisper-1`` reports the audio's
seconds, the ``gpt-*-transcribe`` models tokens; a server that reports nothing is counted by
the duration measured at the edge. The ``gpt-*-transcribe`` models stream (``transcript.text.
delta`` events); ``whisper-1`` and other servers answer once.

Speech (``/v1/audio/speech``) comes back as bytes of the format asked, read as they arrive;
the usage counts the characters (what ``tts-1`` bills) and the seconds of audio produced
(what ``gpt-4o-mini-tts`` costs by OpenAI's per-minute figure), read from the audio itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Final

from openai import AsyncOpenAI, omit
from openai.types.audio import Transcription

from addon.audio import MIME_TYPES, as_container
from addon.audio.duration import NOMINAL_BITRATE, measure
from addon.errors import InvalidRequestError, ProviderCapabilityError, ProviderResponseError
from addon.models import (
    AudioChunk,
    AudioFormat,
    AudioInput,
    SpeechRequest,
    SpeechResponse,
    TranscriptDelta,
    TranscriptionRequest,
    TranscriptionResponse,
    Usage,
)
from addon.providers.media_calls import estimated_tokens

#: Containers OpenAI's transcription decodes, by the file extension it goes by.
UPLOAD_EXTENSIONS: Final = {
    AudioFormat.WAV: "wav",
    AudioFormat.MP3: "mp3",
    AudioFormat.OGG: "ogg",
    AudioFormat.OPUS: "ogg",
    AudioFormat.FLAC: "flac",
    AudioFormat.M4A: "m4a",
    AudioFormat.WEBM: "webm",
}
#: The hub's speech formats -> OpenAI's ``response_format``.
SPEECH_FORMATS: Final = {
    AudioFormat.MP3: "mp3",
    AudioFormat.OPUS: "opus",
    AudioFormat.OGG: "opus",
    AudioFormat.AAC: "aac",
    AudioFormat.FLAC: "flac",
    AudioFormat.WAV: "wav",
    AudioFormat.PCM: "pcm",
}
SPEECH_RATE: Final = 24_000  # OpenAI's speech is 24 kHz mono (pcm: 16-bit little-endian)
DEFAULT_VOICE: Final = "alloy"
#: OpenAI's built-in voices (https://platform.openai.com/docs/guides/text-to-speech).
OPENAI_VOICES: Final = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer"}
    | {"verse", "marin", "cedar"}
)
CLASSIC_TTS: Final = ("tts-1", "tts-1-hd")  # no ``instructions``
CHUNK: Final = 16 * 1024


def streams_transcript(model: str) -> bool:
    """Whether OpenAI streams the transcript of ``model`` (the gpt-*-transcribe family)."""
    return model.startswith("gpt-") and "transcribe" in model


async def transcribe(
    client: AsyncOpenAI, request: TranscriptionRequest, *, timeout: float, provider: str
) -> TranscriptionResponse:
    """One transcription, read as JSON."""
    result = await client.audio.transcriptions.create(
        **_upload(request, provider), response_format="json", timeout=timeout
    )
    return _transcription(request, result.text, _usage_of(result, request, result.text))


async def transcribe_stream(
    client: AsyncOpenAI, request: TranscriptionRequest, *, timeout: float, provider: str
) -> AsyncIterator[TranscriptDelta | TranscriptionResponse]:
    """Text deltas as OpenAI sends them, then the transcription with ``done``'s usage."""
    stream = await client.audio.transcriptions.create(
        **_upload(request, provider), response_format="json", stream=True, timeout=timeout
    )
    pieces: list[str] = []
    try:
        async for event in stream:
            if event.type == "transcript.text.delta" and event.delta:
                pieces.append(event.delta)
                yield TranscriptDelta(event.delta)
            elif event.type == "transcript.text.done":
                usage = _token_usage(event.usage, request, event.text)
                yield _transcription(request, event.text, usage)
                return
    finally:
        await stream.close()
    raise ProviderResponseError(
        f"{provider} ended the transcript stream without its done event"
        + (f" after {len(pieces)} pieces" if pieces else "")
    )


def _upload(request: TranscriptionRequest, provider: str) -> dict[str, Any]:
    audio = as_container(request.audio)
    extension = UPLOAD_EXTENSIONS.get(audio.format)
    if extension is None:
        raise ProviderCapabilityError(f"{provider} does not take {audio.format} audio")
    return {
        "model": request.model,
        "file": (f"audio.{extension}", audio.data, MIME_TYPES[audio.format]),
        "language": request.language or omit,
        "prompt": request.prompt or omit,
    }


def _transcription(request: TranscriptionRequest, text: str, usage: Usage) -> TranscriptionResponse:
    return TranscriptionResponse(
        text=text.strip(), model=request.model, usage=usage, language=request.language
    )


def _usage_of(result: Transcription, request: TranscriptionRequest, text: str) -> Usage:
    """OpenAI's usage (tokens or seconds), else the measured seconds and estimated tokens."""
    usage = getattr(result, "usage", None)
    if usage is not None and usage.type == "duration":
        return Usage(audio_seconds=float(usage.seconds))
    return _token_usage(usage, request, text)


def _token_usage(usage: Any, request: TranscriptionRequest, text: str) -> Usage:
    seconds = _seconds(request.audio)
    if usage is None or getattr(usage, "type", "tokens") != "tokens":
        return Usage(output_tokens=estimated_tokens([text]), audio_seconds=seconds)
    return Usage(
        input_tokens=usage.input_tokens, output_tokens=usage.output_tokens, audio_seconds=seconds
    )


def _seconds(audio: AudioInput) -> float:
    return audio.duration_s if audio.duration_s is not None else 0.0


# --- speech -------------------------------------------------------------------------------
def voice_for(voice: str | None, voices: frozenset[str] | None) -> str:
    """The voice to ask for: ``voice`` when the vendor has it, else its default.

    ``voices`` None takes any name (a compatible server's own voices). Voice names are per
    vendor: a request that fails over from another vendor (or a Home Assistant voice picked
    for one vendor) is spoken in this vendor's default voice rather than refused.
    """
    if not voice:
        return DEFAULT_VOICE
    if voices is None:
        return voice
    return voice.lower() if voice.lower() in voices else DEFAULT_VOICE


async def speak(
    client: AsyncOpenAI,
    request: SpeechRequest,
    *,
    timeout: float,
    provider: str,
    voices: frozenset[str] | None = None,
) -> SpeechResponse:
    """The whole audio of one synthesis."""
    stream = speak_stream(client, request, timeout=timeout, provider=provider, voices=voices)
    chunks = [item.data async for item in stream if isinstance(item, AudioChunk)]
    return speech_response(request, b"".join(chunks), provider)


async def speak_stream(
    client: AsyncOpenAI,
    request: SpeechRequest,
    *,
    timeout: float,
    provider: str,
    voices: frozenset[str] | None = None,
) -> AsyncIterator[AudioChunk | SpeechResponse]:
    """The audio as it arrives, then the response (its usage read from the whole audio)."""
    wire_format = SPEECH_FORMATS.get(request.format)
    if wire_format is None:
        raise ProviderCapabilityError(f"{provider} cannot speak {request.format} audio")
    received: list[bytes] = []
    async with client.audio.speech.with_streaming_response.create(
        model=request.model,
        input=request.text,
        voice=voice_for(request.voice, voices),
        response_format=wire_format,  # type: ignore[arg-type]
        speed=request.speed if request.speed is not None else omit,
        instructions=_instructions(request),
        timeout=timeout,
    ) as response:
        async for chunk in response.iter_bytes(CHUNK):
            received.append(chunk)
            yield AudioChunk(chunk)
    yield speech_response(request, b"".join(received), provider)


def _instructions(request: SpeechRequest) -> Any:
    if not request.instructions or request.model.startswith(CLASSIC_TTS):
        return omit
    return request.instructions


def speech_response(request: SpeechRequest, audio: bytes, provider: str) -> SpeechResponse:
    """The response for ``audio`` spoken from ``request``: characters and seconds counted."""
    if not audio:
        raise ProviderResponseError(f"{provider} returned no audio")
    seconds = speech_seconds(audio, request.format, SPEECH_RATE)
    return SpeechResponse(
        audio=audio,
        format=request.format,
        model=request.model,
        usage=Usage(characters=len(request.text), audio_seconds=seconds),
        sample_rate=SPEECH_RATE if request.format in (AudioFormat.PCM, AudioFormat.WAV) else None,
    )


def speech_seconds(audio: bytes, fmt: AudioFormat, pcm_rate: int) -> float:
    """How long synthesised audio lasts (read from its headers; raw PCM by its rate)."""
    if fmt is AudioFormat.PCM:
        return round(len(audio) / (2 * pcm_rate), 3)
    try:
        return round(measure(audio, fmt).seconds, 3)
    except InvalidRequestError:  # headers we cannot read: a nominal voice bitrate
        return round(len(audio) * 8 / NOMINAL_BITRATE.get(fmt, 64_000), 3)
