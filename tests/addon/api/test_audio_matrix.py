"""The provider x capability matrix for audio, through the hub's doors and the vendors' SDKs.

Every provider type with audio (OpenAI, an OpenAI-compatible server such as a local Whisper/TTS
server, Gemini) pinned in turn, for speech to text and text to speech, on the native door and
the OpenAI-compatible one (official ``openai`` client). What comes back must be what the audio
said, or audio saying the text; the ledger names the capability and the provider.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH, TOKEN, Fakes, HubClientFactory, provider_options
from tests.fakes.audio import spoken_text, voice_pcm, wav_file

SAID = "open the garage door"
# provider -> (its transcription model, its speech model)
MATRIX = {
    "openai": ("gpt-4o-mini-transcribe", "gpt-4o-mini-tts"),
    "local": ("whisper-1", "tts-1"),
    "gemini": ("gemini-2.5-flash", "gemini-3.8-flash-tts"),
}


@pytest.fixture
async def client(hub_client: HubClientFactory, fakes: Fakes) -> TestClient[Any, Any]:
    """The hub over the fakes plus ``local``: an OpenAI-compatible server with audio models."""
    local = {
        "name": "local",
        "type": "openai_compatible",
        "api_key": "sk-test-openai-key-123456",
        "base_url": f"{fakes.openai.url}/v1",
        "model": "gpt-4.1-mini",
        "transcription_model": "whisper-1",
        "speech_model": "tts-1",
        "priority": 50,
        "timeout": 5,
    }
    return await hub_client(providers=[*provider_options(fakes), local])


@pytest.fixture
async def sdk(client: TestClient[Any, Any]) -> AsyncIterator[openai.AsyncOpenAI]:
    """The official OpenAI client pointed at the hub's /v1."""
    url = str(client.make_url("/v1"))
    async with openai.AsyncOpenAI(base_url=url, api_key=TOKEN, max_retries=0) as api:
        yield api


@pytest.mark.parametrize("provider", list(MATRIX))
async def test_speech_to_text_on_each_provider(
    client: TestClient[Any, Any], sdk: openai.AsyncOpenAI, provider: str
) -> None:
    audio = wav_file(voice_pcm(SAID))
    form = aiohttp.FormData()
    form.add_field("provider", provider)
    form.add_field("file", audio, filename="a.wav", content_type="audio/wav")
    response = await client.post("/api/v1/transcriptions", data=form, headers=AUTH)
    body = await response.json()
    assert response.status == 200, body
    assert (body["text"], body["provider"], body["model"]) == (SAID, provider, MATRIX[provider][0])
    assert body["usage"]["audio_seconds"] > 0
    result = await sdk.audio.transcriptions.create(model=provider, file=("a.wav", audio))
    assert result.text == SAID
    usage = await (await client.get("/api/v1/usage", headers=AUTH)).json()
    assert usage["by_capability"]["transcription"]["requests"] == 2


@pytest.mark.parametrize("provider", list(MATRIX))
async def test_text_to_speech_on_each_provider(
    client: TestClient[Any, Any], sdk: openai.AsyncOpenAI, provider: str
) -> None:
    payload = {"text": SAID, "provider": provider, "format": "wav"}
    response = await client.post("/api/v1/speech", json=payload, headers=AUTH)
    audio = await response.read()
    assert response.status == 200, audio
    assert (response.headers["X-Hub-Provider"], response.headers["X-Hub-Model"]) == (
        provider,
        MATRIX[provider][1],
    )
    assert spoken_text(audio) == SAID
    async with sdk.audio.speech.with_streaming_response.create(
        model=provider, voice="alloy", input=SAID, response_format="wav"
    ) as streamed:
        assert spoken_text(await streamed.read()) == SAID
    usage = await (await client.get("/api/v1/usage", headers=AUTH)).json()
    assert usage["by_capability"]["speech"]["requests"] == 2
