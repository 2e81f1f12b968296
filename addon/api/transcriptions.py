"""Speech to text: ``POST /api/v1/transcriptions`` (the hub's) and ``/v1/audio/transcriptions``.

Both take the audio as a ``file`` part of a ``multipart/form-data`` body (the native door also
takes JSON with the audio as base64 in ``audio``). The bytes are checked at the edge (format
sniffed, at most 25 MiB and 30 minutes, raw PCM only with its ``sample_rate``), then the
manager routes the transcription like a chat: failover, budgets per audio second or token, the
ledger. ``stream`` answers the transcript's pieces as Server-Sent Events.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import voluptuous as vol
from aiohttp import web

from addon.api.audio_upload import Upload, read_upload
from addon.api.body import checked_fields
from addon.api.context import hub
from addon.api.envelope import REQUEST_ID_HEADER, request_id
from addon.api.media_fields import LANGUAGE, NAME, TAG, flag, number, whole
from addon.api.openai_compat import (
    ATTEMPTS_HEADER,
    format_attempts,
    openai_error_body,
    sse,
)
from addon.api.openai_request import resolve_target
from addon.api.streaming import started
from addon.audio import PCM_RATES, inspect_audio
from addon.errors import HubError
from addon.models import (
    AudioInput,
    MediaRequest,
    MediaResponse,
    TranscriptDelta,
    TranscriptionRequest,
    TranscriptionResponse,
)
from addon.settings import STRATEGIES

MAX_PROMPT_CHARS: Final = 4000
RAW_TYPES: Final = frozenset({"", "application/octet-stream"})
COMMON: Final[dict[Any, Any]] = {
    vol.Optional("language"): LANGUAGE,
    vol.Optional("prompt"): vol.Any(None, vol.All(str, vol.Length(max=MAX_PROMPT_CHARS))),
    vol.Optional("stream"): flag,
}
NATIVE_SCHEMA: Final = vol.Schema(
    {
        **COMMON,
        vol.Optional("model"): NAME,
        vol.Optional("provider"): NAME,
        vol.Optional("tag"): TAG,
        vol.Optional("strategy"): vol.Any(None, vol.In(STRATEGIES)),
        vol.Optional("cache"): flag,
        vol.Optional("format"): vol.Any(None, vol.All(str, vol.Length(max=100))),
        vol.Optional("sample_rate"): vol.Any(None, whole(PCM_RATES.start, PCM_RATES.stop - 1)),
        vol.Optional("channels"): vol.Any(None, whole(1, 2)),
    }
)
OPENAI_FORMATS: Final = ("json", "text", "verbose_json")
OPENAI_SCHEMA: Final = vol.Schema(
    {
        **COMMON,
        vol.Required("model"): vol.All(str, vol.Length(min=1, max=200)),
        vol.Optional("response_format"): vol.In(
            OPENAI_FORMATS, msg=f"must be one of {', '.join(OPENAI_FORMATS)} (no subtitles)"
        ),
        vol.Optional("temperature"): number(0.0, 1.0),
        vol.Optional("timestamp_granularities[]"): [
            vol.In(("segment",), msg="word timestamps are not offered")
        ],
        vol.Optional("include[]"): [str],
        vol.Optional("chunking_strategy"): str,
    }
)
NATIVE_FIELDS: Final = frozenset(str(key) for key in NATIVE_SCHEMA.schema)
OPENAI_FIELDS: Final = frozenset(str(key) for key in OPENAI_SCHEMA.schema)


# --- the hub's own door ---------------------------------------------------------------------
async def transcriptions(request: web.Request) -> web.StreamResponse:
    """The transcript with the hub's figures, or its pieces as SSE with ``stream``."""
    upload = await read_upload(request, NATIVE_FIELDS)
    data = checked_fields(NATIVE_SCHEMA, upload.fields)
    media = MediaRequest(
        TranscriptionRequest(
            _audio(upload, data), data.get("model") or "", _language(data), data.get("prompt")
        ),
        request_id=request_id(request),
        provider=data.get("provider"),
        tag=data.get("tag"),
        strategy=data.get("strategy"),
        cache=data.get("cache"),
    )
    manager = hub(request).manager
    if data.get("stream"):
        return await _stream_native(request, manager.transcribe_stream(media), media.request_id)
    return web.json_response(native_body(await manager.transcribe(media)))


def native_body(response: MediaResponse[TranscriptionResponse]) -> dict[str, Any]:
    """The hub's answer: the common figures plus the text and its language."""
    return {
        **response.to_dict(),
        "text": response.result.text,
        "language": response.result.language,
    }


def _audio(upload: Upload, data: Mapping[str, Any]) -> AudioInput:
    """The checked audio; a ``sample_rate`` given for untyped bytes means raw PCM."""
    declared = data.get("format") or upload.declared
    if data.get("sample_rate") and (declared or "").split(";")[0].strip().lower() in RAW_TYPES:
        declared = "pcm"
    return inspect_audio(
        upload.audio,
        declared=declared,
        sample_rate=data.get("sample_rate"),
        channels=data.get("channels"),
    )


def _language(data: Mapping[str, Any]) -> str | None:
    """The ISO 639-1 code the vendors take (``en-US`` is ``en``)."""
    tag: str | None = data.get("language")
    return tag.replace("_", "-").split("-")[0].lower() if tag else None


Events = AsyncIterator[TranscriptDelta | MediaResponse[TranscriptionResponse]]


async def _stream_native(request: web.Request, items: Events, rid: str) -> web.StreamResponse:
    """``delta`` events with text, then ``done`` with the whole answer (``error`` on failure)."""
    _, events = await started(items)
    response = await _sse_response(request, rid)
    try:
        async for item in events:
            if isinstance(item, TranscriptDelta):
                if item.text:
                    await response.write(_event("delta", {"text": item.text}))
            else:
                await response.write(_event("done", native_body(item)))
    except HubError as err:
        await response.write(_event("error", {"error": err.to_dict()}))
    await response.write_eof()
    return response


async def _sse_response(request: web.Request, rid: str) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            REQUEST_ID_HEADER: rid,
        }
    )
    await response.prepare(request)
    return response


def _event(name: str, payload: Mapping[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


# --- the OpenAI-compatible door -------------------------------------------------------------
async def openai_transcriptions(request: web.Request) -> web.StreamResponse:
    """OpenAI's ``audio/transcriptions``: ``json``, ``text`` or ``verbose_json``, or SSE.

    ``model`` pins as on chat completions (``auto``, ``<provider>``, ``<provider>/<model>``,
    a bare model name). ``temperature`` is accepted and not passed on (not every vendor has it).
    """
    upload = await read_upload(request, OPENAI_FIELDS, json_allowed=False)
    data = checked_fields(OPENAI_SCHEMA, upload.fields)
    manager = hub(request).manager
    names = [settings.name for settings in manager.configured()]
    provider, model = resolve_target(data["model"], names)
    audio = inspect_audio(upload.audio, declared=upload.declared)
    media = MediaRequest(
        TranscriptionRequest(audio, model, _language(data), data.get("prompt")),
        request_id=request_id(request),
        provider=provider,
    )
    if data.get("stream"):
        return await _stream_openai(request, manager.transcribe_stream(media), media.request_id)
    response = await manager.transcribe(media)
    headers = {ATTEMPTS_HEADER: format_attempts((a.provider, a.outcome) for a in response.attempts)}
    response_format = data.get("response_format") or "json"
    if response_format == "text":
        return web.Response(text=response.result.text + "\n", headers=headers)
    body: dict[str, Any] = {"text": response.result.text, "usage": openai_usage(response)}
    if response_format == "verbose_json":
        body = {
            "task": "transcribe",
            "language": response.result.language or "",
            "duration": audio.duration_s or 0.0,
            **body,
        }
    return web.json_response(body, headers=headers)


def openai_usage(response: MediaResponse[TranscriptionResponse]) -> dict[str, Any]:
    """OpenAI's usage: by tokens where the vendor counted them, else by whole seconds."""
    usage = response.usage
    if usage.input_tokens or usage.output_tokens:
        return {
            "type": "tokens",
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
        }
    return {"type": "duration", "seconds": math.ceil(usage.audio_seconds)}


async def _stream_openai(request: web.Request, items: Events, rid: str) -> web.StreamResponse:
    """``transcript.text.delta`` events, then ``transcript.text.done`` with the usage."""
    _, events = await started(items)
    response = await _sse_response(request, rid)
    try:
        async for item in events:
            if isinstance(item, TranscriptDelta):
                if item.text:
                    delta = {"type": "transcript.text.delta", "delta": item.text, "logprobs": None}
                    await response.write(sse(delta))
            else:
                done = {
                    "type": "transcript.text.done",
                    "text": item.result.text,
                    "logprobs": None,
                    "usage": openai_usage(item),
                }
                await response.write(sse(done))
    except HubError as err:
        await response.write(sse(openai_error_body(err)))
    await response.write_eof()
    return response
