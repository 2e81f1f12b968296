"""Speech-to-text entities (one per ``stt`` subentry) backed by the hub's transcriptions.

Home Assistant streams the voice command as raw 16-bit PCM (or Ogg Opus): it is collected,
given a WAV header, and sent to ``POST /api/v1/transcriptions`` with the subentry's routing
and the caller's tag. A failure is logged with its translated message and reported as an
error result, which the Assist pipeline turns into its own "speech-to-text failed" event.
Silence (an empty transcript) is a success without text: "no text recognized".
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable
from typing import Final

from homeassistant.components import stt
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api_media_models import Transcript
from .const import CONF_PROMPT, SUBENTRY_STT
from .coordinator import HubConfigEntry
from .errors import ask_hub
from .llm_entity import HubLLMEntity, add_subentry_entities
from .speech import LANGUAGES, language_code, pcm_to_wav

_LOGGER = logging.getLogger(__name__)

PARALLEL_UPDATES = 0  # each utterance is its own request; the hub owns concurrency limits
# A voice command is seconds long; this bounds what one stream may collect (25 MiB, the hub's
# upload limit) so a stuck microphone cannot grow memory without end.
MAX_AUDIO_BYTES: Final = 25 * 1024 * 1024


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001 - Home Assistant's signature
    entry: HubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one speech-to-text entity per ``stt`` subentry."""
    add_subentry_entities(entry, async_add_entities, SUBENTRY_STT, HubSTTEntity)


class HubSTTEntity(stt.SpeechToTextEntity, HubLLMEntity):
    """Transcribes Assist's voice commands through the hub."""

    @property
    def supported_languages(self) -> list[str]:
        """The languages the hub's transcribers take."""
        return list(LANGUAGES)

    @property
    def supported_formats(self) -> list[stt.AudioFormats]:
        """Raw PCM (sent as WAV) and Ogg."""
        return [stt.AudioFormats.WAV, stt.AudioFormats.OGG]

    @property
    def supported_codecs(self) -> list[stt.AudioCodecs]:
        """PCM and Opus."""
        return [stt.AudioCodecs.PCM, stt.AudioCodecs.OPUS]

    @property
    def supported_bit_rates(self) -> list[stt.AudioBitRates]:
        """16-bit samples (what Assist records)."""
        return [stt.AudioBitRates.BITRATE_16]

    @property
    def supported_sample_rates(self) -> list[stt.AudioSampleRates]:
        """Any rate: the WAV header says which."""
        return list(stt.AudioSampleRates)

    @property
    def supported_channels(self) -> list[stt.AudioChannels]:
        """Mono and stereo."""
        return list(stt.AudioChannels)

    async def async_process_audio_stream(
        self, metadata: stt.SpeechMetadata, stream: AsyncIterable[bytes]
    ) -> stt.SpeechResult:
        """Collect the stream, send it to the hub, return the transcript."""
        audio = await _collect(stream)
        # Home Assistant checks each field alone (and its HTTP API leaves them plain strings):
        # raw PCM is WAV, Opus comes in Ogg.
        if (metadata.format == stt.AudioFormats.WAV) != (metadata.codec == stt.AudioCodecs.PCM):
            _LOGGER.error("%s: %s audio in %s is not taken", self.entity_id, *_kind(metadata))
            return stt.SpeechResult(None, stt.SpeechResultState.ERROR)
        if audio is None:
            _LOGGER.error("%s: the audio is over %d bytes", self.entity_id, MAX_AUDIO_BYTES)
            return stt.SpeechResult(None, stt.SpeechResultState.ERROR)
        try:
            transcript = await self._async_transcribe(metadata, audio)
        except HomeAssistantError as err:
            _LOGGER.error("%s: %s", self.entity_id, err)  # noqa: TRY400 - translated; no traceback
            return stt.SpeechResult(None, stt.SpeechResultState.ERROR)
        # Nothing said is a success without text: the pipeline reports "no text recognized".
        return stt.SpeechResult(transcript.text.strip(), stt.SpeechResultState.SUCCESS)

    async def _async_transcribe(self, metadata: stt.SpeechMetadata, audio: bytes) -> Transcript:
        if metadata.format == stt.AudioFormats.WAV:
            audio = pcm_to_wav(
                audio,
                rate=metadata.sample_rate.value,
                channels=metadata.channel.value,
                sample_bytes=metadata.bit_rate.value // 8,
            )
            filename, content_type = "speech.wav", "audio/wav"
        else:
            filename, content_type = "speech.ogg", "audio/ogg"
        fields = {key: str(value) for key, value in self.routing().items()}
        if language := language_code(metadata.language):
            fields["language"] = language
        if prompt := self.subentry.data.get(CONF_PROMPT):
            fields["prompt"] = str(prompt)
        client = self.entry.runtime_data.client
        request = client.transcribe(
            audio, filename=filename, content_type=content_type, fields=fields
        )
        return await ask_hub(self.hass, self.entry, request)


def _kind(metadata: stt.SpeechMetadata) -> tuple[str, str]:
    return str(metadata.codec), str(metadata.format)


async def _collect(stream: AsyncIterable[bytes]) -> bytes | None:
    """The whole stream (``None`` once it passes ``MAX_AUDIO_BYTES``; the rest is drained)."""
    chunks = bytearray()
    over = False
    async for chunk in stream:
        if not over and len(chunks) + len(chunk) > MAX_AUDIO_BYTES:
            over = True
            chunks.clear()
        if not over:
            chunks.extend(chunk)
    return None if over else bytes(chunks)
