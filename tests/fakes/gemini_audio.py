"""Audio on ``FakeGemini``: audio understanding (inline audio parts) and the TTS models.

Audio input: ``inlineData`` parts of the documented audio MIME types (``audio/wav``,
``audio/mp3``, ``audio/aiff``, ``audio/aac``, ``audio/ogg``, ``audio/flac``; ``audio/mpeg`` and
``audio/x-wav`` as aliases); anything else is refused ("Unsupported MIME type"). The model hears
what the audio says (``tests.fakes.audio``) and bills 32 tokens per second of audio in
``promptTokensDetails`` (modality ``AUDIO``).

Speech output: the ``*-tts`` models answer only ``responseModalities: ["AUDIO"]`` (other
combinations get Google's "requested combination of response modalities" error, as do other
models asked for AUDIO), refuse a system instruction ("Developer instruction is not enabled"),
take one of the 30 prebuilt voices in ``speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName``
(the Gemini 3 TTS models require one), and answer ``inlineData`` of mime type
``audio/L16;codec=pcm;rate=24000``: raw 16-bit mono PCM that says the prompt's text, billed as
25 audio tokens per second in ``candidatesTokensDetails``. Streamed, the PCM comes in pieces.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from typing import Any, Final

from tests.fakes.audio import speech_seconds, spoken_text, voice_pcm
from tests.fakes.openai_audio import audio_seconds

PCM_MIME: Final = "audio/L16;codec=pcm;rate=24000"
TTS_RATE: Final = 24_000
INPUT_TOKENS_PER_SECOND: Final = 32
OUTPUT_TOKENS_PER_SECOND: Final = 25
AUDIO_TYPES: Final = frozenset(
    {
        "audio/wav",
        "audio/x-wav",
        "audio/mp3",
        "audio/mpeg",
        "audio/aiff",
        "audio/aac",
        "audio/ogg",
        "audio/flac",
    }
)
VOICES: Final = frozenset(
    {
        "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe",
        "Autonoe", "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib",
        "Rasalgethi", "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima",
        "Achird", "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
    }
)  # fmt: skip
INVALID_ARGUMENT: Final = "Request contains an invalid argument."

Envelope = Callable[[str, list[dict[str, Any]], dict[str, Any], str | None], dict[str, Any]]


def is_tts(model: str) -> bool:
    """Whether ``model`` is one of Gemini's text-to-speech models."""
    return "-tts" in model


def audio_problem(model: str, body: Mapping[str, Any]) -> str | None:
    """What the API would refuse about audio in ``body`` (None: nothing)."""
    config = body.get("generationConfig") or {}
    modalities = [str(m).upper() for m in config.get("responseModalities") or []]
    if is_tts(model) and modalities != ["AUDIO"]:
        return _modalities_refused(model, modalities, "AUDIO")
    if not is_tts(model) and "AUDIO" in modalities:
        return _modalities_refused(model, modalities, "TEXT")
    for part in _parts(body):
        blob = part.get("inlineData") or part.get("inline_data") or {}
        mime = str(blob.get("mimeType") or blob.get("mime_type") or "")
        if mime.startswith("audio/") and mime.split(";", maxsplit=1)[0] not in AUDIO_TYPES:
            return f"Unsupported MIME type: {mime}"
    return _tts_problem(model, body) if is_tts(model) else None


def _modalities_refused(model: str, modalities: list[str], accepted: str) -> str:
    listed = f" ({', '.join(modalities)})" if modalities else ""
    return (
        f"The requested combination of response modalities{listed} is not supported by the "
        f"model. models/{model} accepts the following combination of response modalities:\n"
        f"* {accepted}\n"
    )


def _tts_problem(model: str, body: Mapping[str, Any]) -> str | None:
    if "systemInstruction" in body:
        return "Developer instruction is not enabled for this model"
    speech = _field(body.get("generationConfig"), "speechConfig")
    voice = _field(_field(_field(speech, "voiceConfig"), "prebuiltVoiceConfig"), "voiceName")
    if voice is None and model.startswith("gemini-3"):
        return INVALID_ARGUMENT
    if voice is not None and voice not in VOICES:
        return INVALID_ARGUMENT
    if not prompt_text(body).strip():
        return INVALID_ARGUMENT
    return None


def _field(message: Any, camel: str) -> Any:
    """A proto JSON field by either spelling (the parser takes lowerCamel and snake_case)."""
    if not isinstance(message, Mapping):
        return None
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return message.get(camel, message.get(snake))


def _parts(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        part
        for content in body.get("contents") or []
        for part in content.get("parts") or []
        if isinstance(part, Mapping)
    ]


def prompt_text(body: Mapping[str, Any]) -> str:
    """All text parts of the request, in order."""
    return "".join(str(part["text"]) for part in _parts(body) if "text" in part)


def heard(body: Mapping[str, Any]) -> tuple[str | None, float]:
    """What the audio parts of the request say, and how many seconds of audio they hold."""
    texts: list[str] = []
    seconds = 0.0
    for part in _parts(body):
        blob = part.get("inlineData") or part.get("inline_data") or {}
        if not str(blob.get("mimeType") or blob.get("mime_type") or "").startswith("audio/"):
            continue
        # proto JSON bytes: the SDK sends URL-safe base64
        data = base64.urlsafe_b64decode(
            str(blob.get("data", "")).replace("+", "-").replace("/", "_")
        )
        seconds += audio_seconds(data)
        said = spoken_text(data)
        if said is not None:
            texts.append(said)
    return (" ".join(texts) if texts else None), seconds


def with_audio_input(body: Mapping[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    """``usage`` with the request's audio counted in the prompt (32 tokens a second)."""
    _text, seconds = heard(body)
    if not seconds:
        return usage
    tokens = math.ceil(seconds * INPUT_TOKENS_PER_SECOND)
    return {
        **usage,
        "promptTokenCount": usage["promptTokenCount"] + tokens,
        "totalTokenCount": usage["totalTokenCount"] + tokens,
        "promptTokensDetails": [
            *usage.get("promptTokensDetails", []),
            {"modality": "AUDIO", "tokenCount": tokens},
        ],
    }


def speech_chunks(
    model: str, body: Mapping[str, Any], envelope: Envelope, pieces: int
) -> list[dict[str, Any]]:
    """The TTS answer: PCM saying the prompt, in ``pieces`` responses (1: not streamed)."""
    text = prompt_text(body)
    pcm = voice_pcm(text, TTS_RATE)
    size = -(-len(pcm) // max(pieces, 1))
    size += size % 2
    chunks = [pcm[i : i + size] for i in range(0, len(pcm), size)] or [b""]
    prompt_tokens = max(1, math.ceil(len(text) / 4))
    audio_tokens = math.ceil(speech_seconds(text) * OUTPUT_TOKENS_PER_SECOND)
    answers = []
    for index, chunk in enumerate(chunks, start=1):
        last = index == len(chunks)
        so_far = audio_tokens if last else audio_tokens * index // len(chunks)
        usage = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": so_far,
            "totalTokenCount": prompt_tokens + so_far,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
            "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": so_far}],
        }
        part = {"inlineData": {"mimeType": PCM_MIME, "data": base64.b64encode(chunk).decode()}}
        answers.append(envelope(model, [part], usage, "STOP" if last else None))
    return answers
