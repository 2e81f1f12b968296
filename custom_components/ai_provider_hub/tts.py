"""Text-to-speech entities (one per ``tts`` subentry) backed by the hub's speech endpoint.

The text goes to ``POST /api/v1/speech`` with the subentry's routing, voice, speed and
instructions and the caller's tag, in the format Home Assistant prefers (mp3 unless asked
otherwise); the audio is handed on as it arrives, so a speaker can start before the end. When
no provider behind the hub can make that format (Gemini speaks only WAV), the entity asks for
WAV, which every vendor makes, and Home Assistant converts it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any, Final

from homeassistant.components.tts import (
    ATTR_PREFERRED_FORMAT,
    ATTR_VOICE,
    TextToSpeechEntity,
    TtsAudioType,
    Voice,
)
from homeassistant.components.tts.entity import TTSAudioRequest, TTSAudioResponse
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api_errors import HubApiError
from .api_media import SpeechStream
from .const import CONF_PROMPT, CONF_PROVIDER, CONF_SPEED, CONF_VOICE, SUBENTRY_TTS
from .coordinator import HubConfigEntry
from .errors import ask_hub, translated_hub_error
from .llm_entity import HubLLMEntity, add_subentry_entities
from .speech import (
    DEFAULT_FORMAT,
    DEFAULT_LANGUAGE,
    FALLBACK_FORMAT,
    LANGUAGES,
    hub_format,
    speech_providers,
    voices,
)

_LOGGER = logging.getLogger(__name__)

PARALLEL_UPDATES = 0  # each message is its own request; the hub owns concurrency limits
# Answers that mean "no provider makes this format": worth one more try in WAV.
FORMAT_MISSES: Final = frozenset({"no_capable_provider", "capability_miss"})
EXTENSIONS: Final = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/flac": "flac",
    "audio/ogg": "ogg",
    "audio/opus": "ogg",
    "audio/aac": "aac",
    "audio/pcm": "raw",
    "audio/l16": "raw",
}


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001 - Home Assistant's signature
    entry: HubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one text-to-speech entity per ``tts`` subentry."""
    add_subentry_entities(entry, async_add_entities, SUBENTRY_TTS, HubTTSEntity)


class HubTTSEntity(TextToSpeechEntity, HubLLMEntity):
    """Speaks through the hub, in the voices of the vendors behind it."""

    _attr_supported_options = [ATTR_VOICE, ATTR_PREFERRED_FORMAT]
    _attr_supported_languages = list(LANGUAGES)
    # The vendors' models read the language from the text; this one is what Home Assistant asks.
    _attr_default_language = DEFAULT_LANGUAGE

    # Home Assistant's TTS manager names the engine in the audio's tags and refuses a nameless
    # one, which a device-named entity is: named after its subentry instead (as core's are).
    _attr_has_entity_name = False

    def __init__(self, entry: HubConfigEntry, subentry: ConfigSubentry) -> None:
        super().__init__(entry, subentry)
        self._attr_name = subentry.title
        self._attr_default_options = {ATTR_PREFERRED_FORMAT: DEFAULT_FORMAT}
        if voice := subentry.data.get(CONF_VOICE):
            self._attr_default_options[ATTR_VOICE] = voice

    @callback
    def async_get_supported_voices(self, language: str) -> list[Voice] | None:  # noqa: ARG002 - Home Assistant's signature
        """The voices of the vendors that may speak (those serving speech, or the pinned one)."""
        providers = self.entry.runtime_data.coordinator.data.providers
        pinned = self.subentry.data.get(CONF_PROVIDER)
        names = voices(speech_providers(providers, pinned))
        if (configured := self.subentry.data.get(CONF_VOICE)) and configured not in names:
            names.insert(0, configured)
        return [Voice(name, name) for name in names] or None

    async def async_stream_tts_audio(self, request: TTSAudioRequest) -> TTSAudioResponse:
        """The whole message, then its audio handed on as the hub streams it."""
        message = "".join([chunk async for chunk in request.message_gen])
        extension, stream = await self._async_start(message, request.language, request.options)
        return TTSAudioResponse(extension, self._audio(stream))

    async def async_get_tts_audio(
        self, message: str, language: str, options: dict[str, Any]
    ) -> TtsAudioType:
        """The message as audio at once: ``(extension, bytes)``."""
        extension, stream = await self._async_start(message, language, options)
        return extension, b"".join([chunk async for chunk in self._audio(stream)])

    async def _async_start(
        self, message: str, language: str, options: Mapping[str, Any]
    ) -> tuple[str, SpeechStream]:
        """The hub's answer under way (refusals raised) and the file extension of its audio."""
        audio_format, extension = hub_format(options.get(ATTR_PREFERRED_FORMAT))
        payload = self._payload(message, language, options)
        client = self.entry.runtime_data.client
        try:
            stream = await ask_hub(
                self.hass, self.entry, client.speak(payload | {"format": audio_format})
            )
        except ServiceValidationError as err:
            if err.translation_key not in FORMAT_MISSES or audio_format == FALLBACK_FORMAT:
                raise
            _LOGGER.debug("No provider speaks %s (%s): asking for WAV", audio_format, err)
            audio_format, extension = hub_format(FALLBACK_FORMAT)
            stream = await ask_hub(
                self.hass, self.entry, client.speak(payload | {"format": audio_format})
            )
        return EXTENSIONS.get(stream.info.content_type.lower(), extension), stream

    def _payload(self, message: str, language: str, options: Mapping[str, Any]) -> dict[str, Any]:
        data = self.subentry.data
        payload: dict[str, Any] = {"text": message, **self.routing()}
        if language:
            payload["language"] = language
        if voice := options.get(ATTR_VOICE) or data.get(CONF_VOICE):
            payload["voice"] = voice
        if speed := data.get(CONF_SPEED):
            payload["speed"] = float(speed)
        if instructions := data.get(CONF_PROMPT):
            payload["instructions"] = instructions
        return payload

    async def _audio(self, stream: SpeechStream) -> AsyncGenerator[bytes]:
        """The audio's chunks; a hub failure midway (the audio torn) as a translated error."""
        try:
            async for chunk in stream.chunks:
                yield chunk
        except HubApiError as err:
            raise translated_hub_error(err) from err
