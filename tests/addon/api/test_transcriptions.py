"""Speech to text through the real hub: ``POST /api/v1/transcriptions`` and the /v1 door.

HTTP -> app -> manager -> real SDK -> the simulated vendors; the /v1 door is driven by the
official ``openai`` client. The fakes hear what the test audio says (``tests.fakes.audio``), so
a transcript is checked against the words coded into the audio sent.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH, TOKEN, Fakes, HubClientFactory
from tests.fakes.audio import voice_pcm, wav_file
from tests.fakes.audio_containers import flac_file, mp3_file, ogg_opus_file
from tests.fakes.base import Fault

SAID = "turn on the kitchen light"
WAV = wav_file(voice_pcm(SAID))
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@pytest.fixture
async def client(hub_client: HubClientFactory) -> TestClient[Any, Any]:
    """The hub over the fakes (priority: openai, anthropic, gemini, ollama)."""
    return await hub_client()


@pytest.fixture
async def sdk(client: TestClient[Any, Any]) -> AsyncIterator[openai.AsyncOpenAI]:
    """The official OpenAI client pointed at the hub's /v1."""
    url = str(client.make_url("/v1"))
    async with openai.AsyncOpenAI(base_url=url, api_key=TOKEN, max_retries=0) as api:
        yield api


async def transcribe(
    client: TestClient[Any, Any],
    audio: bytes | io.BytesIO,
    content_type: str = "audio/wav",
    filename: str = "speech.wav",
    **fields: str,
) -> tuple[int, dict[str, Any]]:
    """POST the audio as a ``file`` part beside ``fields`` (as the integration sends it)."""
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field("file", audio, filename=filename, content_type=content_type)
    response = await client.post("/api/v1/transcriptions", data=form, headers=AUTH)
    return response.status, await response.json()


def vendor_calls(fakes: Fakes) -> int:
    """Requests that reached a vendor's transcription (OpenAI's route, Gemini's generate)."""
    openai_calls = [r for r in fakes.openai.requests if r.path == "/v1/audio/transcriptions"]
    gemini_calls = [r for r in fakes.gemini.requests if "generateContent" in r.path]
    return len(openai_calls) + len(gemini_calls)


# --- the native door ------------------------------------------------------------------------
async def test_a_wav_is_transcribed_with_the_hubs_figures_and_ledgered(
    client: TestClient[Any, Any],
) -> None:
    status, body = await transcribe(client, WAV, language="en-US", tag="voice.kitchen")
    assert status == 200, body
    assert (body["text"], body["language"]) == (SAID, "en")
    assert (body["provider"], body["model"]) == ("openai", "gpt-4o-mini-transcribe")
    assert body["usage"]["audio_seconds"] == pytest.approx(len(SAID) * 0.06 + 0.44, abs=0.01)
    assert body["usage"]["input_tokens"] > 0
    assert body["cost_usd"] > 0
    assert [(a["provider"], a["outcome"]) for a in body["attempts"]] == [("openai", "ok")]
    usage = await (await client.get("/api/v1/usage", headers=AUTH)).json()
    assert usage["by_capability"]["transcription"]["requests"] == 1
    assert usage["by_tag"]["voice.kitchen"]["requests"] == 1
    recent = await (await client.get("/api/v1/requests?limit=5", headers=AUTH)).json()
    assert [r["capability"] for r in recent["requests"]] == ["transcription"]


@pytest.mark.parametrize(
    ("content_type", "fields"),
    [
        ("application/octet-stream", {"sample_rate": "16000"}),  # HA's STT stream, rate as a field
        ("audio/L16;rate=16000;channels=1", {}),  # the rate in the part's type
        ("application/octet-stream", {"format": "pcm", "sample_rate": "16000", "channels": "1"}),
    ],
)
async def test_raw_pcm_with_its_rate_is_heard(
    client: TestClient[Any, Any], fakes: Fakes, content_type: str, fields: dict[str, str]
) -> None:
    status, body = await transcribe(
        client, voice_pcm(SAID), content_type, "speech.raw", language="en", **fields
    )
    assert status == 200, body
    assert body["text"] == SAID
    sent = [r for r in fakes.openai.requests if r.path == "/v1/audio/transcriptions"]
    assert b"RIFF" in sent[0].body  # raw PCM travels as WAV (OpenAI takes files)


@pytest.mark.parametrize(
    ("audio", "content_type"),
    [
        (mp3_file(SAID), "audio/mpeg"),
        (flac_file(SAID), "audio/flac"),
        (ogg_opus_file(SAID), "audio/ogg"),
    ],
)
async def test_compressed_formats_are_sniffed_and_heard(
    client: TestClient[Any, Any], audio: bytes, content_type: str
) -> None:
    status, body = await transcribe(client, audio, content_type, "speech.bin")
    assert status == 200, body
    assert body["text"] == SAID


async def test_json_with_base64_audio(client: TestClient[Any, Any]) -> None:
    payload = {"audio": base64.b64encode(WAV).decode(), "provider": "gemini", "prompt": "lights"}
    response = await client.post("/api/v1/transcriptions", json=payload, headers=AUTH)
    body = await response.json()
    assert response.status == 200, body
    assert (body["text"], body["provider"], body["model"]) == (SAID, "gemini", "gemini-2.5-flash")


async def test_openai_down_fails_over_to_gemini(client: TestClient[Any, Any], fakes: Fakes) -> None:
    fakes.openai.fail_next(Fault.SERVER_ERROR)
    status, body = await transcribe(client, WAV)
    assert status == 200, body
    assert body["text"] == SAID
    assert [(a["provider"], a["outcome"]) for a in body["attempts"]] == [
        ("openai", "provider_bad_response"),
        ("gemini", "ok"),
    ]


async def test_every_vendor_down_is_a_502_with_the_attempts(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    fakes.openai.fail_always(Fault.SERVER_ERROR)
    fakes.gemini.fail_always(Fault.SERVER_ERROR)
    status, body = await transcribe(client, WAV)
    assert status == 502
    assert body["error"]["key"] == "all_providers_failed"
    assert {a["provider"] for a in body["error"]["attempts"]} == {"openai", "gemini"}


async def test_the_stream_sends_pieces_then_the_whole_answer(client: TestClient[Any, Any]) -> None:
    form = aiohttp.FormData()
    form.add_field("stream", "true")
    form.add_field("file", WAV, filename="a.wav", content_type="audio/wav")
    response = await client.post("/api/v1/transcriptions", data=form, headers=AUTH)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events = _events(await response.text())
    deltas = [data["text"] for name, data in events if name == "delta"]
    assert len(deltas) > 1
    assert "".join(deltas).strip() == SAID
    name, done = events[-1]
    assert (name, done["text"], done["provider"]) == ("done", SAID, "openai")


async def test_a_spent_budget_holds_per_audio_second(hub_client: HubClientFactory) -> None:
    """whisper-1 costs $0.006 a minute: $0.001 a day pays for one 8 s clip, not two."""
    client = await hub_client(budget_daily_usd=0.001)
    clip = wav_file(voice_pcm("x" * 125))  # 125 bytes of "speech": 7.7 s
    first = await transcribe(client, clip, model="whisper-1", provider="openai")
    assert first[0] == 200, first[1]
    assert first[1]["usage"]["audio_seconds"] == pytest.approx(8.0)
    assert first[1]["cost_usd"] == pytest.approx(8 * 0.006 / 60)
    status, body = await transcribe(client, clip, model="whisper-1", provider="openai")
    assert status == 429, body
    assert body["error"]["key"] == "budget_exceeded"


@pytest.mark.parametrize(
    ("audio", "content_type", "fields", "status", "key", "where"),
    [
        (PNG, "image/png", {}, 415, "unsupported_media", "image/png"),
        (b"hello, world" * 10, "text/plain", {}, 415, "unsupported_media", "Unsupported audio"),
        (
            voice_pcm(SAID),
            "application/octet-stream",
            {"format": "pcm"},
            400,
            "invalid_request",
            "sample_rate",
        ),
        (voice_pcm(SAID), "audio/L16", {}, 400, "invalid_request", "sample_rate"),
        (voice_pcm(SAID)[:-1], "audio/L16;rate=16000", {}, 400, "invalid_request", "multiple"),
        (b"", "audio/wav", {}, 400, "invalid_request", "empty"),
        (WAV, "audio/wav", {"sample_rate": "7999"}, 400, "invalid_request", "sample_rate"),
        (WAV, "audio/wav", {"language": "english please"}, 400, "invalid_request", "language"),
        (WAV, "audio/wav", {"temperature": "0"}, 400, "invalid_request", "temperature"),
        (WAV, "audio/wav", {"stream": "maybe"}, 400, "invalid_request", "stream"),
        (WAV, "audio/wav", {"provider": "anthropic"}, 422, "no_capable_provider", "transcription"),
    ],
)
async def test_bad_audio_is_refused_before_any_vendor(
    client: TestClient[Any, Any],
    fakes: Fakes,
    audio: bytes,
    content_type: str,
    fields: dict[str, str],
    status: int,
    key: str,
    where: str,
) -> None:
    got, body = await transcribe(client, audio, content_type, "clip.bin", **fields)
    assert got == status, body
    assert body["error"]["key"] == key
    assert where in body["error"]["message"]
    assert vendor_calls(fakes) == 0


async def test_audio_over_25_mib_is_a_413_while_it_arrives(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    status, body = await transcribe(client, io.BytesIO(WAV + bytes(25 * 1024 * 1024)))
    assert status == 413
    assert body["error"]["key"] == "payload_too_large"
    assert vendor_calls(fakes) == 0


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/api/v1/transcriptions", "audio/wav", WAV),
        ("/v1/audio/transcriptions", "audio/wav", WAV),
        ("/v1/audio/transcriptions", "application/json", b'{"model": "auto"}'),
    ],
)
async def test_a_body_in_another_shape_is_a_415(
    client: TestClient[Any, Any], path: str, content_type: str, body: bytes
) -> None:
    response = await client.post(path, data=body, headers={**AUTH, "Content-Type": content_type})
    assert response.status == 415
    answer = (await response.json())["error"]
    assert answer.get("key", answer.get("code")) == "unsupported_media"


# --- the OpenAI-compatible door -------------------------------------------------------------
async def test_the_openai_client_transcribes(sdk: openai.AsyncOpenAI) -> None:
    result = await sdk.audio.transcriptions.create(
        model="auto", file=("speech.wav", WAV, "audio/wav"), language="en"
    )
    assert result.text == SAID
    assert result.usage is not None
    assert result.usage.type == "tokens"


async def test_whisper_pinned_answers_text_and_verbose_json(sdk: openai.AsyncOpenAI) -> None:
    text = await sdk.audio.transcriptions.create(
        model="openai/whisper-1", file=("speech.wav", WAV), response_format="text"
    )
    assert text.strip() == SAID
    verbose = await sdk.audio.transcriptions.create(
        model="whisper-1", file=("speech.wav", WAV), response_format="verbose_json", language="en"
    )
    assert (verbose.text, verbose.language) == (SAID, "en")
    assert verbose.duration == pytest.approx(len(SAID) * 0.06 + 0.44, abs=0.01)
    assert verbose.usage is not None
    assert verbose.usage.type == "duration"


async def test_the_openai_client_streams_the_transcript(sdk: openai.AsyncOpenAI) -> None:
    stream = await sdk.audio.transcriptions.create(
        model="openai/gpt-4o-mini-transcribe", file=("speech.wav", WAV), stream=True
    )
    deltas: list[str] = []
    done = None
    async for event in stream:
        if event.type == "transcript.text.delta":
            deltas.append(event.delta)
        else:
            done = event
    assert "".join(deltas).strip() == SAID
    assert done is not None
    assert done.text == SAID


async def test_the_openai_door_fails_over_and_says_so(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    fakes.openai.fail_next(Fault.RATE_LIMIT)
    url = str(client.make_url("/v1"))
    async with openai.AsyncOpenAI(base_url=url, api_key=TOKEN, max_retries=0) as api:
        raw = await api.audio.transcriptions.with_raw_response.create(
            model="auto", file=("speech.wav", WAV)
        )
    assert raw.parse().text == SAID
    assert raw.headers["X-Hub-Attempts"] == "openai=provider_rate_limited, gemini=ok"


@pytest.mark.parametrize(
    ("audio", "extra", "status", "code"),
    [
        (PNG, {}, 415, "unsupported_media"),
        (WAV, {"response_format": "srt"}, 400, "invalid_request"),
        (WAV, {"timestamp_granularities": ["word"]}, 400, "invalid_request"),
    ],
)
async def test_the_openai_door_refuses_in_openais_shape(
    sdk: openai.AsyncOpenAI,
    fakes: Fakes,
    audio: bytes,
    extra: dict[str, Any],
    status: int,
    code: str,
) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        await sdk.audio.transcriptions.create(model="auto", file=("a.wav", audio), **extra)
    assert caught.value.status_code == status
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == code
    assert vendor_calls(fakes) == 0


def _events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def _lasting(seconds: int) -> bytes:
    """A FLAC whose header says it lasts ``seconds`` (STREAMINFO's 36-bit sample count)."""
    data = bytearray(flac_file(SAID, rate=24_000))
    packed = int.from_bytes(data[18:26], "big")
    packed = (packed >> 36 << 36) | (seconds * 24_000)
    data[18:26] = packed.to_bytes(8, "big")
    return bytes(data)


async def test_audio_over_30_minutes_is_a_413_naming_its_length(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    status, body = await transcribe(client, _lasting(1801), "audio/flac", "long.flac")
    assert status == 413, body
    assert body["error"]["key"] == "payload_too_large"
    assert "1801.0 s" in body["error"]["message"]
    assert vendor_calls(fakes) == 0
    status, body = await transcribe(client, _lasting(1799), "audio/flac", "long.flac")
    assert status == 200, body  # just under the bound: heard (the fake reads the samples)
