"""Text-to-speech entities: the hub's speech in the format asked, voices, errors, routing."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest
from homeassistant.components import media_source, tts
from homeassistant.components.tts.entity import TTSAudioRequest
from homeassistant.components.tts.helper import get_engine_instance
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_provider_hub.speech import GEMINI_VOICES, OPENAI_VOICES
from custom_components.ai_provider_hub.tts import HubTTSEntity

from .fake_hub import PROVIDERS, SPEECH, FakeHub
from .helpers import ADD_ON_ERRORS, exception_message

ENTITY = "tts.ai_provider_hub_tts"
PATH = "/api/v1/speech"
SETTINGS = {
    "provider": "openai",
    "model": "gpt-4o-mini-tts",
    "strategy": "cost",
    "tag": "voice",
    "voice": "coral",
    "speed": 1.25,
    "prompt": "Speak calmly.",
}
GEMINI = {
    **PROVIDERS["providers"][0],
    "name": "gemini",
    "type": "gemini",
    "media_models": {"speech": "gemini-2.5-flash-preview-tts"},
}


@pytest.fixture
def tts_data() -> dict[str, Any] | None:
    """The entry has a text-to-speech entity with the default settings."""
    return {}


def engine(hass: HomeAssistant) -> HubTTSEntity:
    found = get_engine_instance(hass, ENTITY)
    assert isinstance(found, HubTTSEntity)
    return found


async def speak(hass: HomeAssistant, message: str, **options: Any) -> bytes:
    """The audio Home Assistant's TTS manager hands a player for ``message``."""
    stream = tts.async_create_stream(hass, ENTITY, "en-US", options or None)
    stream.async_set_message(message)
    return b"".join([chunk async for chunk in stream.async_stream_result()])


@pytest.mark.usefixtures("loaded_entry")
async def test_speaks_mp3_by_default(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    audio = await speak(hass, "The light is on.")
    assert audio[:3] == b"ID3"  # Home Assistant tags the MP3 it caches
    assert SPEECH[10:] in audio
    [sent] = fake_hub.sent(PATH)
    assert sent.body == {
        "text": "The light is on.",
        "format": "mp3",
        "language": "en-US",
        "tag": ENTITY,
    }


@pytest.mark.parametrize("tts_data", [SETTINGS])
@pytest.mark.usefixtures("loaded_entry")
async def test_subentry_settings_are_sent(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    await speak(hass, "Hello")
    [sent] = fake_hub.sent(PATH)
    assert sent.body == {
        "text": "Hello",
        "format": "mp3",
        "language": "en-US",
        "tag": "voice",  # the subentry's tag wins
        "provider": "openai",
        "model": "gpt-4o-mini-tts",
        "strategy": "cost",
        "voice": "coral",
        "speed": 1.25,
        "instructions": "Speak calmly.",
    }


@pytest.mark.parametrize(
    ("preferred", "asked", "extension"),
    [
        ("mp3", "mp3", "mp3"),
        ("wav", "wav", "wav"),
        ("flac", "flac", "flac"),
        ("ogg", "opus", "ogg"),
        ("raw", "pcm", "raw"),
        ("weird", "mp3", "mp3"),
    ],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_format_as_home_assistant_prefers(
    hass: HomeAssistant, fake_hub: FakeHub, preferred: str, asked: str, extension: str
) -> None:
    found = await engine(hass).async_get_tts_audio(
        "Hi", "en-US", {tts.ATTR_PREFERRED_FORMAT: preferred}
    )
    assert found == (extension, SPEECH)
    [sent] = fake_hub.sent(PATH)
    assert sent.body["format"] == asked


@pytest.mark.usefixtures("loaded_entry")
async def test_wav_when_no_provider_makes_the_format(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    """Gemini speaks WAV only: the entity asks again in WAV and Home Assistant converts."""
    fake_hub.speech_formats = frozenset({"wav", "pcm"})
    found = await engine(hass).async_get_tts_audio(
        "Hi", "en-US", {tts.ATTR_PREFERRED_FORMAT: "mp3"}
    )
    assert found == ("wav", SPEECH)
    assert [r.body["format"] for r in fake_hub.sent(PATH)] == ["mp3", "wav"]


@pytest.mark.usefixtures("loaded_entry")
async def test_voice_from_the_pipeline_wins(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    await engine(hass).async_get_tts_audio("Hi", "en-US", {tts.ATTR_VOICE: "nova"})
    [sent] = fake_hub.sent(PATH)
    assert sent.body["voice"] == "nova"


@pytest.mark.parametrize(
    ("providers", "tts_data", "expected"),
    [
        # An add-on that does not say what its providers serve: every vendor with voices.
        ([PROVIDERS["providers"][0]], {}, list(OPENAI_VOICES)),
        # Only those that serve speech, in order, without repeats.
        (
            [{**PROVIDERS["providers"][0], "media_models": {"speech": "tts-1"}}, GEMINI],
            {},
            [*OPENAI_VOICES, *GEMINI_VOICES],
        ),
        (
            [{**PROVIDERS["providers"][0], "media_models": {"embeddings": "e"}}, GEMINI],
            {},
            list(GEMINI_VOICES),
        ),
        # A pinned provider: its voices; a configured voice stays offered.
        ([PROVIDERS["providers"][0], GEMINI], {"provider": "gemini"}, list(GEMINI_VOICES)),
        (
            [PROVIDERS["providers"][0]],
            {"voice": "my-clone"},
            ["my-clone", *OPENAI_VOICES],
        ),
    ],
)
async def test_voices_of_the_vendors_behind_the_hub(
    hass: HomeAssistant,
    fake_hub: FakeHub,
    config_entry: MockConfigEntry,
    providers: list[dict[str, Any]],
    expected: list[str],
) -> None:
    fake_hub.bodies["/api/v1/providers"] = {"providers": providers}
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    voices = engine(hass).async_get_supported_voices("en-US")
    assert voices is not None
    assert [v.voice_id for v in voices] == expected


@pytest.mark.parametrize(("status", "key", "cls"), ADD_ON_ERRORS)
@pytest.mark.usefixtures("loaded_entry")
async def test_hub_errors_are_translated(
    hass: HomeAssistant,
    fake_hub: FakeHub,
    status: int,
    key: str,
    cls: type[HomeAssistantError],
) -> None:
    fake_hub.fail(PATH, status, key, "no luck")
    with pytest.raises(cls) as caught:
        await engine(hass).async_get_tts_audio("Hi", "en-US", {tts.ATTR_PREFERRED_FORMAT: "wav"})
    expected = key if key != "something_new" else "unknown_error"
    assert caught.value.translation_key == expected
    assert str(caught.value) == exception_message(expected, message="no luck")
    assert len(fake_hub.sent(PATH)) == 1  # asked once: WAV has no fallback


async def test_rejected_token_starts_reauth(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    fake_hub.fail(PATH, 401, "unauthorized")
    with pytest.raises(HomeAssistantError):
        await engine(hass).async_get_tts_audio("Hi", "en-US", {})
    flows = hass.config_entries.flow.async_progress_by_handler("ai_provider_hub")
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert flows[0]["context"]["entry_id"] == loaded_entry.entry_id


@pytest.mark.usefixtures("loaded_entry")
async def test_answer_that_is_not_audio_is_an_error(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    fake_hub.speech_formats = frozenset()
    fake_hub.errors[PATH] = (200, {"not": "audio"})
    with pytest.raises(HomeAssistantError) as caught:
        await engine(hass).async_get_tts_audio("Hi", "en-US", {})
    assert caught.value.translation_key == "invalid_response"


async def message(text: str) -> AsyncGenerator[str]:
    for word in text.split(" "):
        yield word + " "


@pytest.mark.usefixtures("loaded_entry")
async def test_audio_is_streamed_on(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    """Streaming input (Assist's answer as it is written): one request, the audio handed on."""
    speaker = engine(hass)
    assert speaker.async_supports_streaming_input()
    request = TTSAudioRequest(
        "en-US", {tts.ATTR_PREFERRED_FORMAT: "flac"}, message("The light is on.")
    )
    answer = await speaker.async_stream_tts_audio(request)
    assert answer.extension == "flac"
    assert b"".join([chunk async for chunk in answer.data_gen]) == SPEECH
    [sent] = fake_hub.sent(PATH)
    assert sent.body["text"] == "The light is on. "
    assert sent.body["format"] == "flac"


@pytest.mark.usefixtures("loaded_entry")
async def test_torn_audio_is_an_error(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    """The hub cuts the connection when the vendor fails midway: never a short file."""
    fake_hub.speech_torn = True
    request = TTSAudioRequest("en-US", {}, message("Hi"))
    answer = await engine(hass).async_stream_tts_audio(request)
    with pytest.raises(HomeAssistantError) as caught:
        async for _chunk in answer.data_gen:
            pass
    assert caught.value.translation_key == "cannot_connect"
    with pytest.raises(HomeAssistantError):
        await engine(hass).async_get_tts_audio("Hi", "en-US", {})


@pytest.mark.usefixtures("loaded_entry")
async def test_automation_that_speaks_is_the_caller(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    """``tts.speak`` in an automation: the player resolves the audio in the call, so the
    speech request is filed under the automation, not the TTS entity."""

    async def play_media(call: ServiceCall) -> None:  # a player, as players resolve media
        await media_source.async_resolve_media(hass, call.data["media_content_id"], None)

    hass.services.async_register("media_player", "play_media", play_media)
    automation = {
        "id": "1712345678902",
        "alias": "Dinner call",
        "triggers": [{"trigger": "event", "event_type": "dinner"}],
        "actions": [
            {
                "action": "tts.speak",
                "target": {"entity_id": ENTITY},
                "data": {"media_player_entity_id": "media_player.kitchen", "message": "Dinner!"},
            }
        ],
    }
    assert await async_setup_component(hass, "automation", {"automation": [automation]})
    hass.bus.async_fire("dinner")
    await hass.async_block_till_done(wait_background_tasks=True)  # the audio is made in one
    [sent] = fake_hub.sent(PATH)
    assert sent.body["text"] == "Dinner!"
    assert sent.body["tag"] == "automation.dinner_call"
