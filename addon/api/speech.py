"""Text to speech: ``POST /api/v1/speech`` (the hub's) and ``POST /v1/audio/speech`` (OpenAI's).

The answer is the audio itself (``Content-Type`` of its format), streamed as the vendor sends
it: the status line and headers go out with the first chunk, so failover happens only before
it. The hub's figures travel in headers (``X-Hub-Provider``, ``X-Hub-Model``; the cost,
``X-Hub-Cost-USD``, only when the whole audio is made first: ``stream: false``). A failure
after the first chunk cuts the connection, so no client mistakes a torn file for a whole one.
OpenAI's ``stream_format: sse`` answers ``speech.audio.delta`` events with base64 audio instead.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import voluptuous as vol
from aiohttp import web

from addon.api.body import checked_fields, read_json
from addon.api.context import hub
from addon.api.envelope import REQUEST_ID_HEADER, request_id
from addon.api.media_fields import LANGUAGE, NAME, TAG, flag, number
from addon.api.openai_compat import (
    ATTEMPTS_HEADER,
    format_attempts,
    openai_error_body,
    sse,
)
from addon.api.openai_request import resolve_target
from addon.api.streaming import started
from addon.audio import MIME_TYPES
from addon.errors import HubError, PayloadTooLargeError
from addon.models import (
    AudioChunk,
    AudioFormat,
    MediaRequest,
    MediaResponse,
    SpeechRequest,
    SpeechResponse,
)
from addon.settings import STRATEGIES

_LOGGER = logging.getLogger(__name__)

MAX_TEXT_CHARS: Final = 4096  # OpenAI's limit per request; Gemini's is larger
MAX_INSTRUCTIONS_CHARS: Final = 4096
PROVIDER_HEADER: Final = "X-Hub-Provider"
MODEL_HEADER: Final = "X-Hub-Model"
COST_HEADER: Final = "X-Hub-Cost-USD"
SAMPLE_RATE_HEADER: Final = "X-Hub-Sample-Rate"
FORMATS: Final = ("mp3", "opus", "aac", "flac", "wav", "pcm")
FORMAT: Final = vol.In(FORMATS, msg=f"must be one of {', '.join(FORMATS)}")
COMMON: Final[dict[Any, Any]] = {
    vol.Optional("instructions"): vol.Any(
        None, vol.All(str, vol.Length(max=MAX_INSTRUCTIONS_CHARS))
    ),
    vol.Optional("speed"): vol.Any(None, number(0.25, 4.0)),
}
NATIVE_SCHEMA: Final = vol.Schema(
    {
        **COMMON,
        vol.Required("text"): vol.All(str, vol.Length(min=1, msg="must not be empty")),
        vol.Optional("voice"): NAME,
        vol.Optional("format"): vol.Any(None, FORMAT),
        vol.Optional("language"): LANGUAGE,
        vol.Optional("model"): NAME,
        vol.Optional("provider"): NAME,
        vol.Optional("tag"): TAG,
        vol.Optional("strategy"): vol.Any(None, vol.In(STRATEGIES)),
        vol.Optional("stream"): flag,
        vol.Optional("cache"): flag,
    }
)
VOICE: Final = vol.Any(
    vol.All(str, vol.Length(min=1, max=200)),
    vol.All({vol.Required("id"): vol.All(str, vol.Length(min=1, max=200))}, lambda v: v["id"]),
    msg="must be a voice name or {id}",
)
OPENAI_SCHEMA: Final = vol.Schema(
    {
        **COMMON,
        vol.Required("model"): vol.All(str, vol.Length(min=1, max=200)),
        vol.Required("input"): vol.All(str, vol.Length(min=1, msg="must not be empty")),
        vol.Required("voice"): VOICE,
        vol.Optional("response_format"): FORMAT,
        vol.Optional("stream_format"): vol.In(("audio", "sse"), msg="must be audio or sse"),
    }
)


def _bounded(data: dict[str, Any], field: str) -> dict[str, Any]:
    text: str = data[field]
    if len(text) > MAX_TEXT_CHARS:
        raise PayloadTooLargeError(
            f"The text has {len(text)} characters; at most {MAX_TEXT_CHARS} per request",
            param=field,
        )
    return data


# --- the hub's own door ---------------------------------------------------------------------
async def speech(request: web.Request) -> web.StreamResponse:
    """The text spoken: the audio as the body, the hub's figures in the headers."""
    data = _bounded(checked_fields(NATIVE_SCHEMA, await read_json(request)), "text")
    media = MediaRequest(
        SpeechRequest(
            text=data["text"],
            model=data.get("model") or "",
            voice=data.get("voice"),
            format=AudioFormat(data.get("format") or "mp3"),
            speed=data.get("speed"),
            instructions=data.get("instructions"),
            language=data.get("language"),
        ),
        request_id=request_id(request),
        provider=data.get("provider"),
        tag=data.get("tag"),
        strategy=data.get("strategy"),
        cache=data.get("cache"),
    )
    manager = hub(request).manager
    if data.get("stream", True) and not data.get("cache"):
        return await stream_audio(request, manager.speak_stream(media), media.body.format)
    return whole_audio(await manager.speak(media))


def content_type(audio_format: AudioFormat, sample_rate: int | None = None) -> str:
    """The audio's MIME type (raw PCM with its rate when known)."""
    mime = MIME_TYPES[audio_format]
    if audio_format is AudioFormat.PCM and sample_rate:
        return f"{mime};rate={sample_rate};channels=1"
    return mime


def whole_audio(response: MediaResponse[SpeechResponse]) -> web.Response:
    """The whole audio at once, with every figure (the cost too) in the headers."""
    result = response.result
    headers = {
        "Content-Type": content_type(result.format, result.sample_rate),
        PROVIDER_HEADER: response.provider,
        MODEL_HEADER: response.model,
        COST_HEADER: f"{response.cost_usd:.8f}",
        ATTEMPTS_HEADER: format_attempts((a.provider, a.outcome) for a in response.attempts),
    }
    if result.sample_rate:
        headers[SAMPLE_RATE_HEADER] = str(result.sample_rate)
    return web.Response(body=result.audio, headers=headers)


Pieces = AsyncIterator[AudioChunk | MediaResponse[SpeechResponse]]


async def stream_audio(
    request: web.Request, items: Pieces, audio_format: AudioFormat
) -> web.StreamResponse:
    """The audio chunk by chunk, once the first has come (who speaks is known by then)."""
    first, pieces = await started(items)
    if isinstance(first, MediaResponse):  # the whole answer came before any chunk
        return whole_audio(first)
    response = web.StreamResponse(
        headers={
            "Content-Type": content_type(audio_format),
            PROVIDER_HEADER: first.provider or "",
            MODEL_HEADER: first.model or "",
            REQUEST_ID_HEADER: request_id(request),
        }
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        async for item in pieces:
            if isinstance(item, AudioChunk) and item.data:
                await response.write(item.data)
    except HubError as err:
        # The status line is out: cutting the connection is the one way to say the audio is
        # torn (a client then sees an incomplete body, never a short file that looks whole).
        _LOGGER.warning("Speech %s failed after its first chunk: %s", request_id(request), err)
        if request.transport is not None:
            request.transport.close()
        return response
    await response.write_eof()
    return response


# --- the OpenAI-compatible door -------------------------------------------------------------
async def openai_speech(request: web.Request) -> web.StreamResponse:
    """OpenAI's ``audio/speech``: the audio streamed, or ``speech.audio.*`` events (``sse``).

    ``model`` pins as on chat completions; ``voice`` is the answering vendor's voice name.
    """
    data = _bounded(checked_fields(OPENAI_SCHEMA, await read_json(request)), "input")
    manager = hub(request).manager
    names = [settings.name for settings in manager.configured()]
    provider, model = resolve_target(data["model"], names)
    audio_format = AudioFormat(data.get("response_format") or "mp3")
    media = MediaRequest(
        SpeechRequest(
            text=data["input"],
            model=model,
            voice=data["voice"],
            format=audio_format,
            speed=data.get("speed"),
            instructions=data.get("instructions"),
        ),
        request_id=request_id(request),
        provider=provider,
    )
    if data.get("stream_format") == "sse":
        return await _speech_events(request, manager.speak_stream(media))
    return await stream_audio(request, manager.speak_stream(media), audio_format)


async def _speech_events(request: web.Request, items: Pieces) -> web.StreamResponse:
    """``speech.audio.delta`` events (base64 audio), then ``speech.audio.done`` with usage."""
    _, pieces = await started(items)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            REQUEST_ID_HEADER: request_id(request),
        }
    )
    await response.prepare(request)
    try:
        async for item in pieces:
            await response.write(sse(_speech_event(item)))
    except HubError as err:
        await response.write(sse(openai_error_body(err)))
    await response.write_eof()
    return response


def _speech_event(item: AudioChunk | MediaResponse[SpeechResponse]) -> Mapping[str, Any]:
    if isinstance(item, AudioChunk):
        return {"type": "speech.audio.delta", "audio": base64.b64encode(item.data).decode()}
    usage = item.usage
    return {
        "type": "speech.audio.done",
        "usage": {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
        },
    }
