"""Text to speech through the real hub: ``POST /api/v1/speech`` and ``POST /v1/audio/speech``.

HTTP -> app -> manager -> real SDK -> the simulated vendors; the /v1 door is driven by the
official ``openai`` client. The fakes' speech codes the text it says (``tests.fakes.audio``),
so the audio that comes back is checked for saying what was asked.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest
from aiohttp.test_utils import TestClient

from addon.audio import inspect_audio
from tests.conftest import AUTH, TOKEN, Fakes, HubClientFactory, provider_options
from tests.fakes.audio import read_voice, spoken_text
from tests.fakes.base import Fault

TEXT = "The kitchen light is on."


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


async def speak(client: TestClient[Any, Any], **body: Any) -> tuple[int, dict[str, str], bytes]:
    """POST a speech request; the status, headers and the whole body."""
    response = await client.post("/api/v1/speech", json=body, headers=AUTH)
    return response.status, dict(response.headers), await response.read()


def vendor_calls(fakes: Fakes) -> int:
    """Requests that reached a vendor's speech (OpenAI's route, Gemini's generate)."""
    openai_calls = [r for r in fakes.openai.requests if r.path == "/v1/audio/speech"]
    gemini_calls = [r for r in fakes.gemini.requests if "enerateContent" in r.path]
    return len(openai_calls) + len(gemini_calls)


# --- the native door ------------------------------------------------------------------------
async def test_streamed_wav_says_the_text_with_who_spoke_and_is_ledgered(
    client: TestClient[Any, Any],
) -> None:
    status, headers, audio = await speak(client, text=TEXT, format="wav", tag="voice.kitchen")
    assert status == 200, audio
    assert headers["Content-Type"] == "audio/wav"
    assert headers["Transfer-Encoding"] == "chunked"
    assert (headers["X-Hub-Provider"], headers["X-Hub-Model"]) == ("openai", "gpt-4o-mini-tts")
    assert headers["X-Request-ID"]
    assert "X-Hub-Cost-USD" not in headers  # known only once the audio is whole
    assert spoken_text(audio) == TEXT
    usage = await (await client.get("/api/v1/usage", headers=AUTH)).json()
    by = usage["by_capability"]["speech"]
    assert (by["requests"], usage["by_tag"]["voice.kitchen"]["requests"]) == (1, 1)
    recent = await (await client.get("/api/v1/requests?limit=5", headers=AUTH)).json()
    assert [r["capability"] for r in recent["requests"]] == ["speech"]


async def test_the_whole_audio_at_once_carries_its_cost(client: TestClient[Any, Any]) -> None:
    status, headers, audio = await speak(client, text=TEXT, stream=False)
    assert status == 200, audio
    assert headers["Content-Type"] == "audio/mpeg"
    assert int(headers["Content-Length"]) == len(audio)
    seconds = inspect_audio(audio).duration_s
    assert seconds is not None
    assert float(headers["X-Hub-Cost-USD"]) == pytest.approx(seconds / 60 * 0.015, rel=0.05)
    assert headers["X-Hub-Attempts"] == "openai=ok"
    assert spoken_text(audio) == TEXT


async def test_raw_pcm_says_its_rate(client: TestClient[Any, Any]) -> None:
    status, headers, audio = await speak(client, text=TEXT, format="pcm", stream=False)
    assert status == 200, audio
    assert headers["Content-Type"] == "audio/pcm;rate=24000;channels=1"
    assert headers["X-Hub-Sample-Rate"] == "24000"
    assert read_voice(audio) == TEXT


async def test_openai_down_fails_over_to_gemini_in_its_own_voice(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    fakes.openai.fail_next(Fault.SERVER_ERROR)
    status, headers, audio = await speak(client, text=TEXT, format="wav", voice="coral")
    assert status == 200, audio
    assert (headers["X-Hub-Provider"], headers["X-Hub-Model"]) == (
        "gemini",
        "gemini-3.8-flash-tts",
    )
    assert spoken_text(audio) == TEXT
    sent = [r for r in fakes.gemini.requests if "enerateContent" in r.path][-1].body
    voice = sent["generationConfig"]["speechConfig"]["voice_config"]["prebuilt_voice_config"]
    assert voice["voice_name"] == "Kore"


async def test_mp3_with_openai_down_has_no_one_to_speak_it(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    fakes.openai.fail_always(Fault.SERVER_ERROR)
    status, _, body = await speak(client, text=TEXT, format="mp3")
    answer = json.loads(body)
    assert status == 502, answer
    assert answer["error"]["key"] == "all_providers_failed"
    outcomes = {a["provider"]: a["outcome"] for a in answer["error"]["attempts"]}
    assert outcomes == {"openai": "provider_bad_response", "gemini": "capability_miss"}


async def test_a_budget_holds_per_character(hub_client: HubClientFactory, fakes: Fakes) -> None:
    """tts-1 costs $15 per million characters: $0.001 a day pays for 60 characters once."""
    client = await hub_client(budget_daily_usd=0.001)
    text = "x" * 60
    status, headers, audio = await speak(
        client, text=text, provider="openai", model="tts-1", stream=False
    )
    assert status == 200, audio
    assert float(headers["X-Hub-Cost-USD"]) == pytest.approx(60 * 15 / 1e6)
    status, _, body = await speak(client, text=text, provider="openai", model="tts-1")
    assert status == 429, body
    assert json.loads(body)["error"]["key"] == "budget_exceeded"
    assert vendor_calls(fakes) == 1


@pytest.mark.parametrize(
    ("body", "status", "key", "where"),
    [
        ({}, 400, "invalid_request", "text"),
        ({"text": ""}, 400, "invalid_request", "text"),
        ({"text": "x" * 4097}, 413, "payload_too_large", "4096"),
        ({"text": TEXT, "format": "ogg"}, 400, "invalid_request", "format"),
        ({"text": TEXT, "speed": 5}, 400, "invalid_request", "speed"),
        ({"text": TEXT, "voice": 7}, 400, "invalid_request", "voice"),
        ({"text": TEXT, "stream": "yes"}, 400, "invalid_request", "stream"),
        ({"text": TEXT, "input": TEXT}, 400, "invalid_request", "input"),
        ({"text": TEXT, "provider": "anthropic"}, 422, "no_capable_provider", "speech"),
    ],
)
async def test_bad_requests_are_refused_before_any_vendor(
    client: TestClient[Any, Any],
    fakes: Fakes,
    body: dict[str, Any],
    status: int,
    key: str,
    where: str,
) -> None:
    got, _, raw = await speak(client, **body)
    answer = json.loads(raw)
    assert got == status, answer
    assert answer["error"]["key"] == key
    assert where in answer["error"]["message"]
    assert vendor_calls(fakes) == 0


async def test_a_vendor_that_stalls_mid_audio_cuts_the_connection(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    providers = [{**p, "timeout": 1} for p in provider_options(fakes)]
    client = await hub_client(providers=providers, request_timeout=2)
    fakes.openai.fail_next(Fault.STALL_STREAM)
    body = {"text": TEXT * 4, "format": "wav"}  # long enough for a first chunk before the stall
    response = await client.post("/api/v1/speech", json=body, headers=AUTH)
    assert response.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):  # an incomplete body, not a short file
        await response.read()


# --- the OpenAI-compatible door -------------------------------------------------------------
async def test_the_openai_client_streams_speech(sdk: openai.AsyncOpenAI) -> None:
    async with sdk.audio.speech.with_streaming_response.create(
        model="auto", voice="alloy", input=TEXT, response_format="wav"
    ) as response:
        assert response.headers["Content-Type"] == "audio/wav"
        assert response.headers["X-Hub-Provider"] == "openai"
        chunks = [chunk async for chunk in response.iter_bytes()]
    assert spoken_text(b"".join(chunks)) == TEXT


async def test_the_openai_door_fails_over_to_gemini(sdk: openai.AsyncOpenAI, fakes: Fakes) -> None:
    fakes.openai.fail_next(Fault.RATE_LIMIT)
    async with sdk.audio.speech.with_streaming_response.create(
        model="auto", voice={"id": "alloy"}, input=TEXT, response_format="wav"
    ) as response:
        assert response.headers["X-Hub-Provider"] == "gemini"
        audio = await response.read()
    assert spoken_text(audio) == TEXT


async def test_sse_sends_base64_audio_then_usage(client: TestClient[Any, Any]) -> None:
    body = {"model": "openai/gpt-4o-mini-tts", "input": TEXT, "voice": "nova"}
    body |= {"response_format": "wav", "stream_format": "sse"}
    response = await client.post("/v1/audio/speech", json=body, headers=AUTH)
    assert response.status == 200
    events = [
        json.loads(block.removeprefix("data: "))
        for block in (await response.text()).strip().split("\n\n")
    ]
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert {e["type"] for e in events[:-1]} == {"speech.audio.delta"}
    assert spoken_text(audio) == TEXT
    assert events[-1]["type"] == "speech.audio.done"
    assert set(events[-1]["usage"]) == {"input_tokens", "output_tokens", "total_tokens"}


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"input": "x" * 4097}, 413, "payload_too_large"),
        ({"response_format": "ogg"}, 400, "invalid_request"),
        ({"speed": 0.1}, 400, "invalid_request"),
        ({"model": "anthropic"}, 422, "no_capable_provider"),
    ],
)
async def test_the_openai_door_refuses_in_openais_shape(
    sdk: openai.AsyncOpenAI, fakes: Fakes, extra: dict[str, Any], status: int, code: str
) -> None:
    body: dict[str, Any] = {"model": "auto", "voice": "alloy", "input": TEXT, **extra}
    with pytest.raises(openai.APIStatusError) as caught:
        await sdk.audio.speech.create(**body)
    assert caught.value.status_code == status
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == code
    assert vendor_calls(fakes) == 0


async def test_cache_answers_the_same_request_without_the_vendor(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    first = await speak(client, text=TEXT, format="wav", cache=True)
    again = await speak(client, text=TEXT, format="wav", cache=True)
    assert (first[0], again[0]) == (200, 200)
    assert again[2] == first[2]
    assert spoken_text(again[2]) == TEXT
    assert (again[1]["X-Hub-Cost-USD"], again[1]["X-Hub-Attempts"]) == ("0.00000000", "")
    assert vendor_calls(fakes) == 1
