"""What the hub's speech entities offer: languages, voices per vendor, audio formats.

The hub routes speech to OpenAI (and OpenAI-compatible servers, which take OpenAI's voice
names) and Gemini; the voices offered are those of the vendors behind the hub that serve
speech. Home Assistant streams speech to text as raw PCM, which is sent to the hub as WAV.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterable
from typing import Final

from .api_models import ProviderInfo

# OpenAI's speech languages (https://platform.openai.com/docs/guides/speech-to-text), as Home
# Assistant's language tags; Gemini's transcription and speech cover these too.
LANGUAGES: Final = (
    "af-ZA", "ar-SA", "az-AZ", "be-BY", "bg-BG", "bs-BA", "ca-ES", "cs-CZ", "cy-GB", "da-DK",
    "de-DE", "el-GR", "en-GB", "en-US", "es-ES", "es-MX", "et-EE", "fa-IR", "fi-FI", "fil-PH",
    "fr-CA", "fr-FR", "gl-ES", "he-IL", "hi-IN", "hr-HR", "hu-HU", "hy-AM", "id-ID", "is-IS",
    "it-IT", "ja-JP", "kk-KZ", "kn-IN", "ko-KR", "lt-LT", "lv-LV", "mi-NZ", "mk-MK", "mr-IN",
    "ms-MY", "ne-NP", "nl-NL", "no-NO", "pl-PL", "pt-BR", "pt-PT", "ro-RO", "ru-RU", "sk-SK",
    "sl-SI", "sr-RS", "sv-SE", "sw-KE", "ta-IN", "th-TH", "tr-TR", "uk-UA", "ur-PK", "vi-VN",
    "zh-CN",
)  # fmt: skip
DEFAULT_LANGUAGE: Final = "en-US"
# https://platform.openai.com/docs/guides/text-to-speech#voice-options
OPENAI_VOICES: Final = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer",
    "verse", "marin", "cedar",
)  # fmt: skip
# https://ai.google.dev/gemini-api/docs/speech-generation#voices
GEMINI_VOICES: Final = (
    "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe",
    "Autonoe", "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib",
    "Rasalgethi", "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima",
    "Achird", "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
)  # fmt: skip
VOICES_BY_TYPE: Final[dict[str, tuple[str, ...]]] = {
    "openai": OPENAI_VOICES,
    "openai_compatible": OPENAI_VOICES,
    "gemini": GEMINI_VOICES,
}
SPEECH: Final = "speech"

# Home Assistant's preferred formats -> (the hub's speech format, the file extension it is).
HUB_FORMATS: Final[dict[str, tuple[str, str]]] = {
    "mp3": ("mp3", "mp3"),
    "wav": ("wav", "wav"),
    "flac": ("flac", "flac"),
    "ogg": ("opus", "ogg"),
    "oga": ("opus", "ogg"),
    "opus": ("opus", "ogg"),
    "aac": ("aac", "aac"),
    "raw": ("pcm", "raw"),
    "pcm": ("pcm", "raw"),
}
DEFAULT_FORMAT: Final = "mp3"
# Every vendor behind the hub speaks WAV (Gemini only WAV and PCM): asked when the format the
# pipeline prefers has no capable provider; Home Assistant then converts it.
FALLBACK_FORMAT: Final = "wav"


def speech_providers(providers: Iterable[ProviderInfo], pinned: str | None) -> list[ProviderInfo]:
    """The providers that may speak: the pinned one, else those serving speech.

    An older add-on does not list what providers serve: then every provider counts.
    """
    candidates = [p for p in providers if pinned is None or p.name == pinned]
    serving = [p for p in candidates if SPEECH in p.media_models]
    listed = any(p.media_models for p in candidates)
    return serving if listed else candidates


def voices(providers: Iterable[ProviderInfo]) -> list[str]:
    """The voice names of these providers' vendors, in the vendors' own order, no repeats."""
    names: dict[str, None] = {}
    for provider in providers:
        names.update(dict.fromkeys(VOICES_BY_TYPE.get(provider.type, ())))
    return list(names)


def hub_format(preferred: str | None) -> tuple[str, str]:
    """The hub format and file extension for Home Assistant's preferred format."""
    return HUB_FORMATS.get((preferred or DEFAULT_FORMAT).lower(), HUB_FORMATS[DEFAULT_FORMAT])


def pcm_to_wav(pcm: bytes, *, rate: int, channels: int, sample_bytes: int) -> bytes:
    """Raw little-endian PCM as a WAV file (the format every transcriber takes)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(sample_bytes)
        writer.setframerate(rate)
        writer.writeframes(pcm)
    return out.getvalue()


def language_code(language: str | None) -> str | None:
    """ISO-639-1 from a language tag (``en-US`` -> ``en``), as transcribers take it."""
    if not language:
        return None
    return language.replace("_", "-").split("-", 1)[0].lower() or None
