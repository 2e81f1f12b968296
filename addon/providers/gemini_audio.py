"""Speech to text and text to speech on the Gemini API (``generateContent``, via the SDK).

Transcription: a Gemini model hears the audio as an inline part (the documented audio types:
WAV, MP3, AAC, Ogg, FLAC; raw PCM goes as WAV) under an instruction to write down what is
said; the answer's text is the transcript, streamed as it comes. Audio is billed as input
tokens (32 a second).

Speech: a ``*-tts`` model asked for ``responseModalities: ["AUDIO"]`` with a prebuilt voice
answers raw 16-bit PCM (``audio/L16;codec=pcm;rate=24000``), returned as PCM or wrapped as
WAV. The TTS models take no system instruction, so style instructions lead the text, as
Google's guide writes them ("Say cheerfully: ..."). Streamed, the PCM arrives in pieces (a WAV
stream starts with a header of unknown length).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Final

from google import genai
from google.genai import types

from addon.audio import as_container, pcm_to_wav
from addon.audio.wav import streaming_wav_header
from addon.errors import ProviderCapabilityError, ProviderResponseError
from addon.models import (
    AudioChunk,
    AudioFormat,
    SpeechRequest,
    SpeechResponse,
    TranscriptDelta,
    TranscriptionRequest,
    TranscriptionResponse,
    Usage,
)

#: What Gemini hears inline (the documented audio MIME types), by the hub's format.
AUDIO_TYPES: Final = {
    AudioFormat.WAV: "audio/wav",
    AudioFormat.MP3: "audio/mp3",
    AudioFormat.AAC: "audio/aac",
    AudioFormat.OGG: "audio/ogg",
    AudioFormat.OPUS: "audio/ogg",
    AudioFormat.FLAC: "audio/flac",
}
SPEECH_FORMATS: Final = frozenset({AudioFormat.PCM, AudioFormat.WAV})
DEFAULT_VOICE: Final = "Kore"
#: Gemini's 30 prebuilt voices (https://ai.google.dev/gemini-api/docs/speech-generation).
VOICE_NAMES: Final = (
    "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe",
    "Autonoe", "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib",
    "Rasalgethi", "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima",
    "Achird", "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
)  # fmt: skip
VOICES: Final = {name.lower(): name for name in VOICE_NAMES}
DEFAULT_RATE: Final = 24_000
INSTRUCTION: Final = (
    "Transcribe the speech in this audio word for word. Answer with the transcript only: no "
    "timestamps, speaker labels, translation or comments, and nothing at all if no one speaks."
)

Usages = Callable[[types.GenerateContentResponseUsageMetadata | None], Usage]


def transcription_contents(request: TranscriptionRequest, provider: str) -> list[types.Content]:
    """The instruction (with the language and context asked) and the audio as one user turn."""
    audio = as_container(request.audio)
    mime = AUDIO_TYPES.get(audio.format)
    if mime is None:
        raise ProviderCapabilityError(f"{provider} does not take {audio.format} audio")
    instruction = INSTRUCTION
    if request.language:
        instruction += f" The speech is in the language with ISO 639-1 code {request.language}."
    if request.prompt:
        instruction += f" Context (spellings, names): {request.prompt}"
    parts = [types.Part(text=instruction), types.Part.from_bytes(data=audio.data, mime_type=mime)]
    return [types.Content(role="user", parts=parts)]


async def transcribe(
    client: genai.Client,
    request: TranscriptionRequest,
    *,
    config: types.GenerateContentConfig,
    usage_of: Usages,
    provider: str,
) -> TranscriptionResponse:
    """One ``generateContent`` call; its text is the transcript."""
    response = await client.aio.models.generate_content(
        model=request.model, contents=transcription_contents(request, provider), config=config
    )
    return _transcription(request, response.text or "", usage_of(response.usage_metadata))


async def transcribe_stream(
    client: genai.Client,
    request: TranscriptionRequest,
    *,
    config: types.GenerateContentConfig,
    usage_of: Usages,
    provider: str,
) -> AsyncIterator[TranscriptDelta | TranscriptionResponse]:
    """The transcript's text as it streams, then the transcription (the last chunk's usage)."""
    stream = await client.aio.models.generate_content_stream(
        model=request.model, contents=transcription_contents(request, provider), config=config
    )
    pieces: list[str] = []
    metadata = None
    async for chunk in stream:
        metadata = chunk.usage_metadata or metadata
        text = chunk.text or ""
        if text:
            pieces.append(text)
            yield TranscriptDelta(text)
    yield _transcription(request, "".join(pieces), usage_of(metadata))


def _transcription(request: TranscriptionRequest, text: str, usage: Usage) -> TranscriptionResponse:
    seconds = request.audio.duration_s or 0.0
    return TranscriptionResponse(
        text=text.strip(),
        model=request.model,
        usage=Usage(usage.input_tokens, usage.output_tokens, audio_seconds=seconds),
        language=request.language,
    )


# --- speech -------------------------------------------------------------------------------
def voice_for(voice: str | None) -> str:
    """The prebuilt voice named (in any case), else the default voice.

    Voice names are per vendor: a request that fails over from another vendor is spoken in
    Gemini's default voice rather than refused.
    """
    return VOICES.get((voice or "").lower(), DEFAULT_VOICE)


def speech_config(
    request: SpeechRequest, options: types.HttpOptions
) -> types.GenerateContentConfig:
    """AUDIO out, a prebuilt voice (Gemini 3 TTS models require one), the language if regional."""
    voice = types.VoiceConfig(
        prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice_for(request.voice))
    )
    language = request.language if request.language and "-" in request.language else None
    return types.GenerateContentConfig(
        response_modalities=["AUDIO"],
        speech_config=types.SpeechConfig(voice_config=voice, language_code=language),
        http_options=options,
    )


def speech_text(request: SpeechRequest) -> str:
    """The text to speak, led by the style instruction when there is one."""
    if not request.instructions:
        return request.text
    return f"{request.instructions.strip().rstrip(':')}: {request.text}"


def check_speech_format(request: SpeechRequest, provider: str) -> None:
    """Gemini speaks raw PCM: the hub gives it as PCM or WAV, nothing else."""
    if request.format not in SPEECH_FORMATS:
        raise ProviderCapabilityError(
            f"{provider} speaks only wav or pcm audio, not {request.format}"
        )


async def speak_stream(
    client: genai.Client,
    request: SpeechRequest,
    *,
    options: types.HttpOptions,
    usage_of: Usages,
    provider: str,
) -> AsyncIterator[AudioChunk | SpeechResponse]:
    """PCM pieces as they stream (after a WAV header for WAV), then the whole response."""
    check_speech_format(request, provider)
    stream = await client.aio.models.generate_content_stream(
        model=request.model, contents=speech_text(request), config=speech_config(request, options)
    )
    pcm = bytearray()
    rate = DEFAULT_RATE
    metadata = None
    async for chunk in stream:
        metadata = chunk.usage_metadata or metadata
        for data, chunk_rate in _pcm_parts(chunk, provider):
            if not pcm and request.format is AudioFormat.WAV:
                yield AudioChunk(streaming_wav_header(chunk_rate))
            rate = chunk_rate
            pcm += data
            yield AudioChunk(data)
    yield speech_response(request, bytes(pcm), rate, usage_of(metadata), provider)


async def speak(
    client: genai.Client,
    request: SpeechRequest,
    *,
    options: types.HttpOptions,
    usage_of: Usages,
    provider: str,
) -> SpeechResponse:
    """One ``generateContent`` call answered with PCM."""
    check_speech_format(request, provider)
    response = await client.aio.models.generate_content(
        model=request.model, contents=speech_text(request), config=speech_config(request, options)
    )
    found = _pcm_parts(response, provider)
    rate = found[0][1] if found else DEFAULT_RATE
    pcm = b"".join(data for data, _rate in found)
    return speech_response(request, pcm, rate, usage_of(response.usage_metadata), provider)


def speech_response(
    request: SpeechRequest, pcm: bytes, rate: int, usage: Usage, provider: str
) -> SpeechResponse:
    """PCM (or WAV around it) with tokens, characters and seconds counted."""
    if not pcm:
        raise ProviderResponseError(f"{provider} returned no audio")
    audio = pcm_to_wav(pcm, rate) if request.format is AudioFormat.WAV else pcm
    return SpeechResponse(
        audio=audio,
        format=request.format,
        model=request.model,
        usage=Usage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            characters=len(request.text),
            audio_seconds=round(len(pcm) / (2 * rate), 3),
        ),
        sample_rate=rate,
    )


def _pcm_parts(response: types.GenerateContentResponse, provider: str) -> list[tuple[bytes, int]]:
    """The raw PCM of the answer's inline audio parts, with their sample rate."""
    candidates = response.candidates or []
    content = candidates[0].content if candidates else None
    found = []
    for part in (content.parts or []) if content is not None else []:
        blob = part.inline_data
        if blob is None or not blob.data:
            continue
        found.append((blob.data, _pcm_rate(blob.mime_type or "", provider)))
    return found


def _pcm_rate(mime: str, provider: str) -> int:
    """The rate of ``audio/L16;codec=pcm;rate=24000`` (raw little-endian 16-bit PCM)."""
    kind, *params = (p.strip() for p in mime.split(";"))
    values: dict[str, Any] = dict(p.partition("=")[::2] for p in params)
    if kind.lower() not in ("audio/l16", "audio/pcm"):
        raise ProviderResponseError(f"{provider} answered audio of type {mime!r}, not PCM")
    try:
        return int(values.get("rate") or DEFAULT_RATE)
    except ValueError as err:
        raise ProviderResponseError(f"{provider} answered PCM of rate {values['rate']!r}") from err
