"""The fakes' audio endpoints, driven by the official SDKs as a real client would drive them.

The fakes must speak each vendor's documented audio wire format (multipart uploads, binary and
SSE speech, Gemini's inline audio parts and AUDIO responses) and refuse what the vendor refuses;
these tests hold them to it independently of the hub's providers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tests.fakes.audio import spoken_text, voice_pcm, wav_file
from tests.fakes.audio_containers import mp3_file, ogg_opus_file, webm_file
from tests.fakes.base import Fault
from tests.fakes.gemini import FakeGemini
from tests.fakes.openai import FakeOpenAI

KEY = "sk-proj-audio0123456789abcdef"
TEXT = "turn on the kitchen light"


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI(api_key=KEY)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    sdk = openai.AsyncOpenAI(api_key=KEY, base_url=f"{fake.url}/v1", max_retries=0)
    yield sdk
    await sdk.close()


WAV = wav_file(voice_pcm(TEXT, 16_000), 16_000)


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("speech.wav", WAV),
        ("speech.mp3", mp3_file(TEXT)),
        ("speech.ogg", ogg_opus_file(TEXT)),
    ],
)
async def test_whisper_transcribes_what_the_audio_says(
    client: openai.AsyncOpenAI, fake: FakeOpenAI, filename: str, data: bytes
) -> None:
    result = await client.audio.transcriptions.create(
        model="whisper-1", file=(filename, data), language="en"
    )
    assert result.text == TEXT
    assert result.usage is not None
    assert result.usage.type == "duration"
    assert result.usage.seconds >= 1
    recorded = fake.requests[-1]
    assert recorded.path == "/v1/audio/transcriptions"
    assert recorded.headers["Content-Type"].startswith("multipart/form-data; boundary=")


async def test_gpt4o_transcribe_bills_tokens(client: openai.AsyncOpenAI) -> None:
    result = await client.audio.transcriptions.create(
        model="gpt-4o-mini-transcribe", file=("a.wav", WAV), prompt="lights"
    )
    assert result.text == TEXT
    assert result.usage is not None
    assert result.usage.type == "tokens"
    details = result.usage.input_token_details
    assert details is not None
    assert details.audio_tokens == 20  # 1.94 s at 10 audio tokens per second, rounded up
    assert details.text_tokens == 2
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens


async def test_text_and_verbose_formats(client: openai.AsyncOpenAI) -> None:
    text = await client.audio.transcriptions.create(
        model="whisper-1", file=("a.wav", WAV), response_format="text"
    )
    assert text.strip() == TEXT
    verbose = await client.audio.transcriptions.create(
        model="whisper-1",
        file=("a.wav", WAV),
        response_format="verbose_json",
        timestamp_granularities=["word"],
    )
    assert verbose.duration == pytest.approx(1.94)
    assert verbose.segments is not None
    assert verbose.segments[0].text.strip() == TEXT
    assert verbose.words is not None
    assert [w.word for w in verbose.words] == TEXT.split()


async def test_streamed_transcript_arrives_as_deltas_then_done(client: openai.AsyncOpenAI) -> None:
    stream = await client.audio.transcriptions.create(
        model="gpt-4o-mini-transcribe", file=("a.wav", WAV), stream=True
    )
    deltas, done = [], None
    async for event in stream:
        if event.type == "transcript.text.delta":
            deltas.append(event.delta)
        elif event.type == "transcript.text.done":
            done = event
    assert len(deltas) == len(TEXT.split())
    assert "".join(deltas) == TEXT
    assert done is not None
    assert done.text == TEXT
    assert done.usage is not None
    assert done.usage.output_tokens > 0


@pytest.mark.parametrize(
    ("kwargs", "status", "says"),
    [
        (
            {"model": "gpt-4o-transcribe", "response_format": "verbose_json"},
            400,
            "is not compatible with model 'gpt-4o-transcribe'",
        ),
        ({"model": "gpt-4o"}, 400, "invalid model ID"),
        ({"model": "whisper-1", "file": ("notes.txt", WAV)}, 400, "Invalid file format"),
        ({"model": "whisper-1", "file": ("a.wav", b"not audio at all")}, 400, "corrupted"),
        (
            {"model": "gpt-4o-transcribe", "file": ("a.mp3", b"not audio at all")},
            400,
            "does not support the format",
        ),
        ({"model": "whisper-1", "file": ("a.wav", wav_file(bytes(100)))}, 400, "too short"),
        ({"model": "whisper-1", "file": ("a.wav", bytes(26_214_401))}, 413, "26214400"),
    ],
)
async def test_transcription_refusals(
    client: openai.AsyncOpenAI, kwargs: dict[str, object], status: int, says: str
) -> None:
    arguments: dict[str, object] = {"file": ("a.wav", WAV), **kwargs}
    with pytest.raises(openai.APIStatusError) as caught:
        await client.audio.transcriptions.create(**arguments)  # type: ignore[call-overload]
    assert caught.value.status_code == status
    assert says in caught.value.message


@pytest.mark.parametrize(
    ("response_format", "content_type"),
    [
        ("mp3", "audio/mpeg"),
        ("opus", "audio/opus"),
        ("aac", "audio/aac"),
        ("flac", "audio/flac"),
        ("wav", "audio/wav"),
        ("pcm", "audio/pcm"),
    ],
)
async def test_speech_in_every_format_says_the_input(
    client: openai.AsyncOpenAI, response_format: str, content_type: str
) -> None:
    async with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts",
        voice="coral",
        input=TEXT,
        response_format=response_format,  # type: ignore[arg-type]
    ) as response:
        assert response.headers["Content-Type"] == content_type
        chunks = [chunk async for chunk in response.iter_bytes()]
    audio = b"".join(chunks)
    assert spoken_text(audio) == TEXT


async def test_speech_sse_events_carry_base64_audio_and_usage(fake: FakeOpenAI) -> None:
    async with (
        openai.AsyncOpenAI(api_key=KEY, base_url=f"{fake.url}/v1", max_retries=0) as sdk,
        sdk.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts",
            voice="alloy",
            input=TEXT,
            response_format="wav",
            stream_format="sse",
        ) as response,
    ):
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = [
            json.loads(line.removeprefix("data: "))
            async for line in response.iter_lines()
            if line.startswith("data: ")
        ]
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert {e["type"] for e in events[:-1]} == {"speech.audio.delta"}
    assert spoken_text(audio) == TEXT
    assert events[-1]["type"] == "speech.audio.done"
    assert events[-1]["usage"]["total_tokens"] > 0


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"voice": "bob"}, "voice"),
        ({"input": "x" * 4097}, "input"),
        ({"speed": 5.0}, "speed"),
        ({"model": "tts-1", "stream_format": "sse"}, "stream_format"),
        ({"model": "whisper-1"}, "model"),
    ],
)
async def test_speech_refusals_name_the_parameter(
    client: openai.AsyncOpenAI, kwargs: dict[str, object], param: str
) -> None:
    arguments: dict[str, object] = {"model": "gpt-4o-mini-tts", "voice": "alloy", "input": TEXT}
    with pytest.raises(openai.BadRequestError) as caught:
        await client.audio.speech.create(**{**arguments, **kwargs})  # type: ignore[arg-type]
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["param"] == param


async def test_audio_routes_suffer_queued_faults(
    client: openai.AsyncOpenAI, fake: FakeOpenAI
) -> None:
    fake.fail_next(Fault.RATE_LIMIT, retry_after=3)
    with pytest.raises(openai.RateLimitError) as caught:
        await client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT)
    assert caught.value.response.headers["Retry-After"] == "3"
    fake.fail_next(Fault.SERVER_ERROR)
    with pytest.raises(openai.InternalServerError):
        await client.audio.transcriptions.create(model="whisper-1", file=("a.wav", WAV))


# --- Gemini: audio understanding and the TTS models, through google-genai ----------------
GEMINI_KEY = "gemini-audio-key-0123456789"


@pytest.fixture
async def gemini() -> AsyncIterator[FakeGemini]:
    server = FakeGemini(api_key=GEMINI_KEY)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def genai_client(gemini: FakeGemini) -> genai.Client:
    return genai.Client(
        api_key=GEMINI_KEY,
        http_options=types.HttpOptions(
            base_url=gemini.url, retry_options=types.HttpRetryOptions(attempts=1)
        ),
    )


def _speech_config(voice: str = "Kore") -> types.GenerateContentConfig:
    return types.GenerateContentConfig(
        response_modalities=["AUDIO"],
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice)
            )
        ),
    )


@pytest.mark.parametrize(
    ("mime", "data"),
    [("audio/wav", WAV), ("audio/mp3", mp3_file(TEXT)), ("audio/ogg", ogg_opus_file(TEXT))],
)
async def test_gemini_hears_inline_audio_and_bills_audio_tokens(
    genai_client: genai.Client, mime: str, data: bytes
) -> None:
    response = await genai_client.aio.models.generate_content(
        model="gemini-2.5-flash",
        contents=types.Content(
            role="user",
            parts=[
                types.Part.from_text(text="Transcribe this audio."),
                types.Part.from_bytes(data=data, mime_type=mime),
            ],
        ),
    )
    assert response.text == TEXT
    usage = response.usage_metadata
    assert usage is not None
    assert usage.prompt_tokens_details is not None
    audio = [d for d in usage.prompt_tokens_details if d.modality == types.MediaModality.AUDIO]
    assert [d.token_count for d in audio] == [63]  # 1.94 s at 32 tokens per second


async def test_gemini_tts_answers_pcm_that_says_the_text(
    genai_client: genai.Client, gemini: FakeGemini
) -> None:
    response = await genai_client.aio.models.generate_content(
        model="gemini-3.8-flash-tts", contents=TEXT, config=_speech_config()
    )
    assert response.candidates
    content = response.candidates[0].content
    assert content is not None
    assert content.parts
    blob = content.parts[0].inline_data
    assert blob is not None
    assert blob.mime_type == "audio/L16;codec=pcm;rate=24000"
    assert blob.data is not None
    assert spoken_text(blob.data) == TEXT
    sent = gemini.requests[-1].body["generationConfig"]  # the SDK writes snake_case inside
    assert sent["speechConfig"]["voice_config"]["prebuilt_voice_config"]["voice_name"] == "Kore"
    usage = response.usage_metadata
    assert usage is not None
    assert usage.candidates_tokens_details is not None
    assert usage.candidates_tokens_details[0].modality == types.MediaModality.AUDIO


async def test_gemini_tts_streams_pcm_in_pieces(genai_client: genai.Client) -> None:
    pieces = [
        chunk.candidates[0].content.parts[0].inline_data.data
        async for chunk in await genai_client.aio.models.generate_content_stream(
            model="gemini-3.8-flash-tts", contents=TEXT, config=_speech_config("Puck")
        )
        if chunk.candidates
        and chunk.candidates[0].content
        and chunk.candidates[0].content.parts
        and chunk.candidates[0].content.parts[0].inline_data
        and chunk.candidates[0].content.parts[0].inline_data.data
    ]
    assert len(pieces) == 3
    assert spoken_text(b"".join(pieces)) == TEXT


@pytest.mark.parametrize(
    ("model", "contents", "config", "says"),
    [
        ("gemini-3.8-flash-tts", TEXT, None, "response modalities is not supported"),
        (
            "gemini-2.5-flash",
            TEXT,
            types.GenerateContentConfig(response_modalities=["AUDIO"]),
            "response modalities (AUDIO) is not supported",
        ),
        (
            "gemini-3.8-flash-tts",
            TEXT,
            types.GenerateContentConfig(response_modalities=["AUDIO"]),
            "invalid argument",
        ),
        ("gemini-3.8-flash-tts", TEXT, _speech_config("alloy"), "invalid argument"),
        (
            "gemini-3.8-flash-tts",
            TEXT,
            _speech_config().model_copy(update={"system_instruction": "Be calm"}),
            "Developer instruction is not enabled",
        ),
        (
            "gemini-2.5-flash",
            [types.Part.from_bytes(data=webm_file(TEXT), mime_type="audio/webm")],
            None,
            "Unsupported MIME type: audio/webm",
        ),
    ],
)
async def test_gemini_audio_refusals(
    genai_client: genai.Client,
    model: str,
    contents: object,
    config: types.GenerateContentConfig | None,
    says: str,
) -> None:
    with pytest.raises(genai_errors.ClientError) as caught:
        await genai_client.aio.models.generate_content(
            model=model,
            contents=contents,  # type: ignore[arg-type]
            config=config,
        )
    assert caught.value.code == 400
    assert says in str(caught.value.message)
