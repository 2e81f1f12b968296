"""Speech to text and text to speech on every provider that has them, through the real SDKs.

OpenAI (``gpt-4o-mini-transcribe``/``whisper-1``, ``gpt-4o-mini-tts``/``tts-1``), an
OpenAI-compatible server (a local Whisper/TTS server speaks the same API) and Gemini (audio
understanding with ``gemini-2.5-flash``, speech with ``gemini-3.8-flash-tts``), against the
fakes. The transcript must be what the audio says and the speech must say the text; usage
carries each vendor's units; a format a vendor cannot take or give is a capability miss.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from addon.audio import inspect_audio
from addon.errors import (
    ProviderBadRequestError,
    ProviderCapabilityError,
    ProviderRateLimitError,
)
from addon.models import (
    AudioChunk,
    AudioFormat,
    SpeechRequest,
    SpeechResponse,
    TranscriptDelta,
    TranscriptionRequest,
    TranscriptionResponse,
)
from addon.providers import create_provider
from addon.providers.base import Provider
from addon.settings import ProviderSettings, Secret
from tests.fakes.audio import read_voice, speech_seconds, spoken_text, voice_pcm, wav_file
from tests.fakes.audio_containers import (
    aac_file,
    flac_file,
    m4a_file,
    mp3_file,
    ogg_opus_file,
    webm_file,
)
from tests.fakes.base import FakeServer, Fault
from tests.fakes.gemini import FakeGemini
from tests.fakes.openai import FakeOpenAI

KEY = "sk-test-audio-0123456789"
TEXT = "turn on the kitchen light"


@dataclass(frozen=True)
class Vendor:
    """One provider type with audio: its fake and its settings."""

    name: str
    make_fake: Callable[[], FakeServer]
    refused_input: frozenset[AudioFormat]  # formats it cannot hear
    spoken: frozenset[AudioFormat]  # formats it can speak

    def settings(self, fake: FakeServer, **options: Any) -> ProviderSettings:
        base = fake.url if self.name == "gemini" else f"{fake.url}/v1"
        if self.name == "openai_compatible":
            options = {"transcription_model": "whisper-1", "speech_model": "tts-1", **options}
        return ProviderSettings(
            name=f"my-{self.name}",
            type=self.name,
            model="chat-model",
            api_key=Secret(KEY),
            base_url=base,
            timeout=10,
            **options,
        )


OPENAI_SPOKEN = frozenset(
    {AudioFormat.MP3, AudioFormat.OPUS, AudioFormat.AAC, AudioFormat.FLAC, AudioFormat.WAV}
) | {AudioFormat.PCM, AudioFormat.OGG}
VENDORS = [
    Vendor("openai", lambda: FakeOpenAI(api_key=KEY), frozenset({AudioFormat.AAC}), OPENAI_SPOKEN),
    Vendor(
        "openai_compatible",
        lambda: FakeOpenAI(api_key=KEY),
        frozenset({AudioFormat.AAC}),
        OPENAI_SPOKEN,
    ),
    Vendor(
        "gemini",
        lambda: FakeGemini(api_key=KEY),
        frozenset({AudioFormat.M4A, AudioFormat.WEBM}),
        frozenset({AudioFormat.WAV, AudioFormat.PCM}),
    ),
]
UPLOADS = {
    AudioFormat.WAV: wav_file(voice_pcm(TEXT)),
    AudioFormat.MP3: mp3_file(TEXT),
    AudioFormat.OGG: ogg_opus_file(TEXT),
    AudioFormat.FLAC: flac_file(TEXT),
    AudioFormat.M4A: m4a_file(TEXT),
    AudioFormat.WEBM: webm_file(TEXT),
    AudioFormat.AAC: aac_file(TEXT),
}


@pytest.fixture(params=VENDORS, ids=lambda v: v.name)
def vendor(request: pytest.FixtureRequest) -> Vendor:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def fake(vendor: Vendor) -> AsyncIterator[FakeServer]:
    server = vendor.make_fake()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def provider(vendor: Vendor, fake: FakeServer) -> AsyncIterator[Provider]:
    instance = create_provider(vendor.settings(fake))
    yield instance
    await instance.close()


def upload(fmt: AudioFormat) -> TranscriptionRequest:
    if fmt is AudioFormat.PCM:
        audio = inspect_audio(voice_pcm(TEXT), declared="pcm", sample_rate=16_000)
    else:
        audio = inspect_audio(UPLOADS[fmt])
    return TranscriptionRequest(audio=audio, language="en")


# --- speech to text -----------------------------------------------------------------------
@pytest.mark.parametrize("fmt", [*UPLOADS, AudioFormat.PCM])
async def test_transcripts_say_what_the_audio_says(
    vendor: Vendor, provider: Provider, fmt: AudioFormat
) -> None:
    request = upload(fmt)
    if fmt in vendor.refused_input:
        with pytest.raises(ProviderCapabilityError, match=str(fmt)):
            await provider.transcribe(request, timeout=10)
        return
    result = await provider.transcribe(request, timeout=10)
    assert result.text == TEXT
    assert result.language == "en"
    assert result.usage.audio_seconds > 0


async def test_each_vendor_reports_its_own_units(vendor: Vendor, provider: Provider) -> None:
    result = await provider.transcribe(upload(AudioFormat.WAV), timeout=10)
    usage = result.usage
    if vendor.name == "openai":  # gpt-4o-mini-transcribe: tokens (10 audio tokens a second)
        assert usage.input_tokens == 20
        assert usage.audio_seconds == pytest.approx(1.94)
        assert usage.output_tokens > 0
    elif vendor.name == "openai_compatible":  # whisper-1: whole seconds
        assert (usage.input_tokens, usage.audio_seconds) == (0, 2.0)
    else:  # Gemini: 32 audio tokens a second plus the instruction's text tokens
        assert usage.input_tokens == 12 + 63
        assert usage.audio_seconds == pytest.approx(1.94)


async def test_the_upload_is_the_vendors_documented_request(
    vendor: Vendor, provider: Provider, fake: FakeServer
) -> None:
    await provider.transcribe(upload(AudioFormat.PCM), timeout=10)
    sent = fake.requests[-1]
    if vendor.name == "gemini":
        assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
        parts = sent.body["contents"][0]["parts"]
        assert "Transcribe" in parts[0]["text"]
        assert "ISO 639-1 code en" in parts[0]["text"]
        # the SDK writes the part camelCase, the blob's fields snake_case
        assert parts[1]["inlineData"]["mime_type"] == "audio/wav"  # raw PCM goes as WAV
        return
    assert sent.path == "/v1/audio/transcriptions"
    assert b'filename="audio.wav"' in sent.body
    assert b'name="language"\r\n\r\nen' in sent.body
    assert b"RIFF" in sent.body


@pytest.mark.parametrize(
    ("name", "model", "pieces"),
    [
        ("openai", "gpt-4o-mini-transcribe", len(TEXT.split())),
        ("openai", "whisper-1", 1),  # whisper answers once: one piece
        ("openai_compatible", "whisper-1", 1),
        ("gemini", "gemini-2.5-flash", 3),
    ],
)
async def test_streamed_transcripts(
    vendor: Vendor, provider: Provider, name: str, model: str, pieces: int
) -> None:
    if vendor.name != name:
        pytest.skip(f"{name} only")
    request = TranscriptionRequest(audio=upload(AudioFormat.WAV).audio, model=model)
    items = [item async for item in provider.transcribe_stream(request, timeout=10)]
    deltas = [item.text for item in items if isinstance(item, TranscriptDelta)]
    final = items[-1]
    assert isinstance(final, TranscriptionResponse)
    assert len(deltas) == pieces
    assert "".join(deltas).strip() == final.text == TEXT
    assert final.model == model


async def test_transcription_faults_map_to_hub_errors(provider: Provider, fake: FakeServer) -> None:
    fake.fail_next(Fault.RATE_LIMIT, retry_after=7)
    with pytest.raises(ProviderRateLimitError) as caught:
        await provider.transcribe(upload(AudioFormat.WAV), timeout=10)
    assert caught.value.retry_after == 7


async def test_an_upload_the_vendor_refuses_is_a_bad_request(
    vendor: Vendor, provider: Provider
) -> None:
    if vendor.name == "gemini":
        pytest.skip("Gemini hears any audio the hub sends it")
    short = inspect_audio(wav_file(voice_pcm("a", 16_000)[:3200]))  # 0.1 s: the fake's floor
    request = TranscriptionRequest(audio=short, model="gpt-4o-transcribe", prompt="x")
    result = await provider.transcribe(request, timeout=10)
    assert result.text  # exactly at the floor passes
    request = TranscriptionRequest(audio=upload(AudioFormat.WAV).audio, model="gpt-4o")
    with pytest.raises(ProviderCapabilityError, match="cannot serve transcription"):
        await provider.transcribe(request, timeout=10)


# --- text to speech -----------------------------------------------------------------------
def said(audio: bytes, fmt: AudioFormat) -> str | None:
    return read_voice(audio) if fmt is AudioFormat.PCM else spoken_text(audio)


@pytest.mark.parametrize("fmt", list(AudioFormat))
async def test_speech_says_the_text_in_every_format_the_vendor_gives(
    vendor: Vendor, provider: Provider, fmt: AudioFormat
) -> None:
    request = SpeechRequest(text=TEXT, format=fmt)
    if fmt not in vendor.spoken:
        with pytest.raises(ProviderCapabilityError, match=str(fmt)):
            await provider.speak(request, timeout=10)
        return
    result = await provider.speak(request, timeout=10)
    assert result.format is fmt
    assert said(result.audio, fmt) == TEXT
    assert result.usage.characters == len(TEXT)
    assert result.usage.audio_seconds == pytest.approx(speech_seconds(TEXT), abs=0.05)


async def test_speech_request_on_the_wire(
    vendor: Vendor, provider: Provider, fake: FakeServer
) -> None:
    request = SpeechRequest(
        text=TEXT, format=AudioFormat.WAV, voice=None, instructions="Say it calmly", speed=1.25
    )
    result = await provider.speak(request, timeout=10)
    body = fake.requests[-1].body
    if vendor.name == "gemini":
        config = body["generationConfig"]
        assert config["responseModalities"] == ["AUDIO"]
        assert (
            config["speechConfig"]["voice_config"]["prebuilt_voice_config"]["voice_name"] == "Kore"
        )
        assert body["contents"][0]["parts"][0]["text"] == f"Say it calmly: {TEXT}"
        assert "systemInstruction" not in body
        spoken = speech_seconds(f"Say it calmly: {TEXT}")  # the fake speaks the instruction too
        assert result.usage.output_tokens == math.ceil(spoken * 25)  # 25 audio tokens a second
        return
    assert (body["voice"], body["response_format"], body["speed"]) == ("alloy", "wav", 1.25)
    expected = None if vendor.name == "openai_compatible" else "Say it calmly"  # not on tts-1
    assert body.get("instructions") == expected


async def test_streamed_speech_arrives_in_chunks_that_make_the_whole(provider: Provider) -> None:
    text = TEXT * 8  # long enough for several network chunks
    request = SpeechRequest(text=text, format=AudioFormat.PCM)
    items = [item async for item in provider.speak_stream(request, timeout=10)]
    chunks = [item.data for item in items if isinstance(item, AudioChunk)]
    final = items[-1]
    assert isinstance(final, SpeechResponse)
    assert len(chunks) > 1
    assert b"".join(chunks) == final.audio
    assert read_voice(final.audio) == text


async def test_gemini_streams_wav_behind_a_header_of_unknown_length(
    vendor: Vendor, provider: Provider
) -> None:
    if vendor.name != "gemini":
        pytest.skip("Gemini only")
    items = [
        item
        async for item in provider.speak_stream(
            SpeechRequest(text=TEXT, format=AudioFormat.WAV), timeout=10
        )
    ]
    chunks = [item.data for item in items if isinstance(item, AudioChunk)]
    streamed = b"".join(chunks)
    assert streamed[:4] == b"RIFF"
    assert streamed[4:8] == b"\xff\xff\xff\xff"
    assert inspect_audio(streamed).duration_s == pytest.approx(speech_seconds(TEXT), abs=0.01)
    assert read_voice(streamed[44:]) == TEXT
    final = items[-1]
    assert isinstance(final, SpeechResponse)
    assert spoken_text(final.audio) == TEXT  # the whole file, sized


def _voice_sent(vendor: Vendor, body: dict[str, Any]) -> str:
    if vendor.name == "gemini":
        config = body["generationConfig"]["speechConfig"]
        return str(config["voice_config"]["prebuilt_voice_config"]["voice_name"])
    return str(body["voice"])


@pytest.mark.parametrize(
    ("voice", "openai_sends", "gemini_sends"),
    [
        ("coral", "coral", "Kore"),  # OpenAI's voice: Gemini speaks in its default
        ("Puck", "alloy", "Puck"),  # Gemini's voice: OpenAI speaks in its default
        ("PUCK", "alloy", "Puck"),  # names in any case
        ("no-such-voice", "alloy", "Kore"),
    ],
)
async def test_a_voice_the_vendor_lacks_is_its_default_voice(
    vendor: Vendor,
    provider: Provider,
    fake: FakeServer,
    voice: str,
    openai_sends: str,
    gemini_sends: str,
) -> None:
    """Voice names are per vendor: failover (or a voice picked for one vendor) still speaks.

    An OpenAI-compatible server's voices are its own: the name goes as given, and a name it
    does not have is its bad request.
    """
    request = SpeechRequest(text=TEXT, voice=voice, format=AudioFormat.WAV)
    if vendor.name == "openai_compatible":
        if voice == "coral":
            await provider.speak(request, timeout=10)
            assert _voice_sent(vendor, fake.requests[-1].body) == "coral"
        else:
            with pytest.raises(ProviderBadRequestError):
                await provider.speak(request, timeout=10)
        return
    result = await provider.speak(request, timeout=10)
    assert said(result.audio, AudioFormat.WAV) == TEXT
    expected = gemini_sends if vendor.name == "gemini" else openai_sends
    assert _voice_sent(vendor, fake.requests[-1].body) == expected
