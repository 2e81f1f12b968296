"""Speech-to-text entities: Assist's PCM stream to the hub's transcriptions, errors, routing."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator
from typing import Any

import pytest
from homeassistant.components import stt
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ai_provider_hub import stt as hub_stt

from .fake_hub import FakeHub
from .helpers import ADD_ON_ERRORS, exception_message

ENTITY = "stt.ai_provider_hub_stt"
PATH = "/api/v1/transcriptions"
# One second of a 440 Hz-ish square wave would do; any bytes are PCM, so keep them varied.
PCM = bytes(range(256)) * 125
ROUTING = {
    "provider": "openai",
    "model": "whisper-1",
    "strategy": "cost",
    "tag": "voice",
    "prompt": "Kitchen",
}


@pytest.fixture
def stt_data() -> dict[str, Any] | None:
    """The entry has a speech-to-text entity with the default settings."""
    return {}


def metadata(**changes: Any) -> stt.SpeechMetadata:
    """What Assist sends: 16 kHz 16-bit mono PCM in English (``changes`` override)."""
    values: dict[str, Any] = {
        "language": "en-US",
        "format": stt.AudioFormats.WAV,
        "codec": stt.AudioCodecs.PCM,
        "bit_rate": stt.AudioBitRates.BITRATE_16,
        "sample_rate": stt.AudioSampleRates.SAMPLERATE_16000,
        "channel": stt.AudioChannels.CHANNEL_MONO,
    }
    return stt.SpeechMetadata(**{**values, **changes})


async def chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def entity(hass: HomeAssistant) -> stt.SpeechToTextEntity:
    found = stt.async_get_speech_to_text_entity(hass, ENTITY)
    assert found is not None
    return found


async def transcribe(hass: HomeAssistant, data: bytes = PCM, **changes: Any) -> stt.SpeechResult:
    meta = metadata(**changes)
    engine = entity(hass)
    assert engine.check_metadata(meta)
    return await engine.async_process_audio_stream(meta, chunks(data))


def wav_parts(data: bytes) -> tuple[bytes, int, int, int]:
    with wave.open(io.BytesIO(data), "rb") as reader:
        frames = reader.readframes(reader.getnframes())
        return frames, reader.getframerate(), reader.getnchannels(), reader.getsampwidth()


@pytest.mark.parametrize(
    ("rate", "channel"),
    [
        (stt.AudioSampleRates.SAMPLERATE_16000, stt.AudioChannels.CHANNEL_MONO),
        (stt.AudioSampleRates.SAMPLERATE_44100, stt.AudioChannels.CHANNEL_STEREO),
    ],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_pcm_is_sent_as_wav(
    hass: HomeAssistant,
    fake_hub: FakeHub,
    rate: stt.AudioSampleRates,
    channel: stt.AudioChannels,
) -> None:
    result = await transcribe(hass, sample_rate=rate, channel=channel)
    assert result.result is stt.SpeechResultState.SUCCESS
    assert result.text == "Turn on the kitchen light"
    [sent] = fake_hub.sent(PATH)
    filename, content_type, audio = sent.body["file"]
    assert (filename, content_type) == ("speech.wav", "audio/wav")
    assert wav_parts(audio) == (PCM, rate.value, channel.value, 2)
    # The language as transcribers take it; the entity is the caller when nothing else runs.
    assert {k: v for k, v in sent.body.items() if k != "file"} == {
        "language": "en",
        "tag": ENTITY,
    }


@pytest.mark.usefixtures("loaded_entry")
async def test_ogg_opus_is_sent_as_it_is(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    ogg = b"OggS" + bytes(200)
    result = await transcribe(
        hass, ogg, format=stt.AudioFormats.OGG, codec=stt.AudioCodecs.OPUS, language="de-DE"
    )
    assert result.text == "Turn on the kitchen light"
    [sent] = fake_hub.sent(PATH)
    assert sent.body["file"] == ("speech.ogg", "audio/ogg", ogg)
    assert sent.body["language"] == "de"


@pytest.mark.parametrize("stt_data", [ROUTING])
@pytest.mark.usefixtures("loaded_entry")
async def test_subentry_routing_and_prompt(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    await transcribe(hass)
    [sent] = fake_hub.sent(PATH)
    fields = {k: v for k, v in sent.body.items() if k != "file"}
    assert fields == {**ROUTING, "language": "en"}  # the subentry's tag wins


@pytest.mark.usefixtures("loaded_entry")
async def test_unsupported_audio_is_refused_before_sending(hass: HomeAssistant) -> None:
    engine = entity(hass)
    assert not engine.check_metadata(metadata(bit_rate=stt.AudioBitRates.BITRATE_8))
    assert not engine.check_metadata(metadata(language="xx-XX"))


@pytest.mark.parametrize(
    ("audio_format", "codec"),
    [
        (stt.AudioFormats.WAV, stt.AudioCodecs.OPUS),
        (stt.AudioFormats.OGG, stt.AudioCodecs.PCM),
    ],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_mismatched_format_and_codec_are_refused(
    hass: HomeAssistant,
    fake_hub: FakeHub,
    audio_format: stt.AudioFormats,
    codec: stt.AudioCodecs,
) -> None:
    """Home Assistant checks the format and the codec one by one; they must also agree."""
    result = await transcribe(hass, format=audio_format, codec=codec)
    assert result.result is stt.SpeechResultState.ERROR
    assert fake_hub.sent(PATH) == []


@pytest.mark.parametrize(("status", "key", "_cls"), ADD_ON_ERRORS)
@pytest.mark.usefixtures("loaded_entry")
async def test_hub_errors_are_an_error_result_with_a_translated_log(
    hass: HomeAssistant,
    fake_hub: FakeHub,
    caplog: pytest.LogCaptureFixture,
    status: int,
    key: str,
    _cls: type[Exception],
) -> None:
    fake_hub.fail(PATH, status, key, "no luck")
    result = await transcribe(hass)
    assert result.result is stt.SpeechResultState.ERROR
    assert result.text is None
    expected = key if key != "something_new" else "unknown_error"
    assert exception_message(expected, message="no luck") in caplog.text


async def test_rejected_token_starts_reauth(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    fake_hub.fail(PATH, 401, "unauthorized")
    result = await transcribe(hass)
    assert result.result is stt.SpeechResultState.ERROR
    flows = hass.config_entries.flow.async_progress_by_handler("ai_provider_hub")
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert flows[0]["context"]["entry_id"] == loaded_entry.entry_id


@pytest.mark.usefixtures("loaded_entry")
async def test_nothing_said_is_no_text(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    """An empty transcript: success without text (Assist: "no text recognized", not a failure)."""
    fake_hub.bodies[PATH]["text"] = "  "
    result = await transcribe(hass)
    assert result.result is stt.SpeechResultState.SUCCESS
    assert result.text == ""


@pytest.mark.usefixtures("loaded_entry")
async def test_endless_audio_is_refused(
    hass: HomeAssistant, fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stuck microphone: past the hub's upload limit the stream is drained, nothing sent."""
    monkeypatch.setattr(hub_stt, "MAX_AUDIO_BYTES", len(PCM) - 1)
    result = await transcribe(hass)
    assert result.result is stt.SpeechResultState.ERROR
    assert fake_hub.sent(PATH) == []


@pytest.mark.usefixtures("loaded_entry")
async def test_malformed_answer_is_an_error(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    fake_hub.bodies[PATH] = {"text": "no figures"}
    result = await transcribe(hass)
    assert result.result is stt.SpeechResultState.ERROR
    assert fake_hub.sent(PATH)


@pytest.mark.usefixtures("loaded_entry")
async def test_through_home_assistants_speech_api(
    hass: HomeAssistant, fake_hub: FakeHub, hass_client: ClientSessionGenerator
) -> None:
    """``POST /api/stt/<entity>`` as a voice satellite uses it, headers and all."""
    assert await async_setup_component(hass, "stt", {})
    client = await hass_client()
    headers = {
        "X-Speech-Content": (
            "format=wav; codec=pcm; sample_rate=16000; bit_rate=16; channel=1; language=en-US"
        )
    }
    resp = await client.post(f"/api/stt/{ENTITY}", data=PCM, headers=headers)
    assert resp.status == 200
    assert await resp.json() == {"text": "Turn on the kitchen light", "result": "success"}
    [sent] = fake_hub.sent(PATH)
    assert wav_parts(sent.body["file"][2])[0] == PCM
