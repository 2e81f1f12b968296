"""End to end beyond chat: a voice assistant, pictures and embeddings through the real add-on.

Home Assistant -> this integration -> the real add-on (``addon_process`` fixtures) -> the
simulated vendors. The fakes' "speech" is a code the fake transcriber reads back
(``tests.fakes.audio``), so a test can tell what the audio it sent and got back says.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components import assist_pipeline, stt, tts
from homeassistant.core import Context, HomeAssistant
from homeassistant.setup import async_setup_component
from PIL import Image

from tests.fakes.audio import spoken_text, voice_pcm

from .addon_process import Hub, act
from .helpers import add_fake_light, assist_tool, state

AGENT = "conversation.ai_provider_hub_conversation"
STT = "stt.ai_provider_hub_stt"
TTS = "tts.ai_provider_hub_tts"
AI_TASK = "ai_task.ai_provider_hub_ai_task"
COMMAND = "Turn on the kitchen light"
ANSWER = "Hello from the fake."
CHUNK = 3200  # 100 ms of 16 kHz 16-bit mono, as a satellite streams it
Events = list[assist_pipeline.PipelineEvent]


async def microphone(pcm: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(pcm), CHUNK):
        yield pcm[start : start + CHUNK]


async def run_pipeline(hass: HomeAssistant, audio: bytes, output: str) -> Events:
    """One Assist run: the hub's STT, agent and TTS; returns the pipeline's events."""
    assert await async_setup_component(hass, "assist_pipeline", {})
    pipeline = await assist_pipeline.async_create_default_pipeline(hass, STT, TTS, "Hub voice")
    assert pipeline is not None
    await assist_pipeline.async_update_pipeline(hass, pipeline, conversation_engine=AGENT)
    events: Events = []
    await assist_pipeline.async_pipeline_from_audio_stream(
        hass,
        context=Context(),
        event_callback=events.append,
        stt_metadata=stt.SpeechMetadata(
            language="en-US",
            format=stt.AudioFormats.WAV,
            codec=stt.AudioCodecs.PCM,
            bit_rate=stt.AudioBitRates.BITRATE_16,
            sample_rate=stt.AudioSampleRates.SAMPLERATE_16000,
            channel=stt.AudioChannels.CHANNEL_MONO,
        ),
        stt_stream=microphone(audio),
        pipeline_id=pipeline.id,
        # The format only (no rate): Home Assistant then hands on the hub's audio unconverted.
        tts_audio_output={tts.ATTR_PREFERRED_FORMAT: output},
        # The fakes' speech is a code, not a voice: no voice detection or noise filter on it.
        audio_settings=assist_pipeline.AudioSettings(is_vad_enabled=False),
    )
    return events


def of_type(events: Events, kind: assist_pipeline.PipelineEventType) -> dict[str, Any]:
    [event] = [e for e in events if e.type == kind]
    assert event.data is not None
    return event.data


async def spoken_audio(hass: HomeAssistant, events: Events) -> bytes:
    """The audio the pipeline's text-to-speech made (as a satellite fetches it)."""
    token = of_type(events, assist_pipeline.PipelineEventType.TTS_END)["tts_output"]["token"]
    stream = tts.async_get_stream(hass, token)
    assert stream is not None
    return b"".join([chunk async for chunk in stream.async_stream_result()])


@pytest.mark.parametrize("conversation_data", [{"llm_hass_api": ["assist"]}])
@pytest.mark.parametrize(("stt_data", "tts_data"), [({}, {})])
@pytest.mark.usefixtures("hub_entry")
async def test_voice_command_turns_on_the_light(hass: HomeAssistant, hub: Hub) -> None:
    """Audio in, the light on, audio out: every step answered by the hub."""
    await add_fake_light(hass)
    turn_on = await assist_tool(hass, "HassTurnOn")
    await hub.script_tools("openai", {"name": turn_on, "arguments": {"name": "Kitchen light"}})
    events = await run_pipeline(hass, voice_pcm(COMMAND), "wav")
    kinds = [e.type for e in events]
    assert assist_pipeline.PipelineEventType.ERROR not in kinds, events
    stt_end = of_type(events, assist_pipeline.PipelineEventType.STT_END)
    assert stt_end["stt_output"]["text"] == COMMAND
    assert state(hass, "light.kitchen_light") == "on"
    intent_end = of_type(events, assist_pipeline.PipelineEventType.INTENT_END)
    speech = intent_end["intent_output"]["response"]["speech"]["plain"]["speech"]
    assert speech == ANSWER
    audio = await spoken_audio(hass, events)
    assert audio[:4] == b"RIFF"
    assert spoken_text(audio) == ANSWER  # the audio says the agent's answer
    received = [r["path"] for r in await hub.received("openai")]
    assert received.count("/v1/audio/transcriptions") == 1
    assert received.count("/v1/audio/speech") == 1
    by_tag = (await hub.usage())["by_tag"]
    assert by_tag[STT]["requests"] == 1
    assert by_tag[AGENT]["requests"] == 2  # the tool call, then the answer
    assert by_tag[TTS]["requests"] == 1


@pytest.mark.parametrize(("stt_data", "tts_data"), [({}, {})])
@pytest.mark.usefixtures("hub_entry")
async def test_voice_answer_in_mp3(hass: HomeAssistant, hub: Hub) -> None:
    """A satellite that asks for MP3 gets the vendor's MP3 (tagged by Home Assistant)."""
    events = await run_pipeline(hass, voice_pcm("What time is it"), "mp3")
    assert assist_pipeline.PipelineEventType.ERROR not in [e.type for e in events], events
    audio = await spoken_audio(hass, events)
    assert audio[:3] == b"ID3"
    [speech] = [r["body"] for r in await hub.received("openai") if r["path"] == "/v1/audio/speech"]
    assert speech["response_format"] == "mp3"
    assert speech["input"] == ANSWER


@pytest.mark.usefixtures("hub_entry")
async def test_generate_image(hass: HomeAssistant, hub: Hub, media_dir: Path) -> None:
    result = await hass.services.async_call(
        "ai_task",
        "generate_image",
        {"task_name": "Card", "entity_id": AI_TASK, "instructions": "A cat in a party hat"},
        blocking=True,
        return_response=True,
    )
    assert result is not None
    assert str(result["mime_type"]).startswith("image/")
    assert str(result["model"]).startswith("openai/")
    assert result["width"]
    assert result["height"]
    # Home Assistant stored a picture of the size it reports.
    [stored] = [p for p in media_dir.rglob("*") if p.is_file()]
    with Image.open(io.BytesIO(stored.read_bytes())) as picture:
        assert picture.size == (result["width"], result["height"])
    [body] = [
        r["body"] for r in await hub.received("openai") if r["path"].endswith("/images/generations")
    ]
    assert body["prompt"] == "A cat in a party hat"
    assert (await hub.usage())["by_tag"][AI_TASK]["requests"] == 1


@pytest.mark.usefixtures("hub_entry")
async def test_embed(hass: HomeAssistant, hub: Hub) -> None:
    answer = await act(hass, "embed", text=["kitchen light", "front door"], tag="notes")
    vectors = answer["vectors"]
    assert len(vectors) == 2
    assert len(vectors[0]) == len(vectors[1]) == answer["dimensions"] > 0
    assert vectors[0] != vectors[1]
    assert answer["provider"] == "openai"
    [body] = [r["body"] for r in await hub.received("openai") if r["path"].endswith("/embeddings")]
    assert body["input"] == ["kitchen light", "front door"]
    assert (await hub.usage())["by_tag"]["notes"]["requests"] == 1
