"""OpenAI's audio endpoints for ``FakeOpenAI``: speech to text and text to speech.

``POST /v1/audio/transcriptions`` takes ``multipart/form-data`` (``file``, ``model``,
``language``, ``prompt``, ``response_format``, ``temperature``, ``timestamp_granularities[]``,
``include[]``, ``stream``). The transcript is what the audio says (``tests.fakes.audio``), else
the configured reply text. ``whisper-1`` answers ``json``/``text``/``srt``/``vtt``/
``verbose_json`` with usage by duration (whole seconds), ignores ``stream``; the ``gpt-4o-*``
transcribers answer ``json``/``text`` only, usage by tokens, and with ``stream=true`` Server-Sent
Events ``transcript.text.delta`` then ``transcript.text.done`` (with the usage). Refusals as the
API words them: an unsupported file extension or undecodable audio, 413 past 25 MiB, a
``response_format`` the model cannot give, audio under 0.1 s, over 1500 s for ``gpt-4o-*``.

``POST /v1/audio/speech`` takes JSON (``model``, ``input`` up to 4096 characters, ``voice``,
``response_format`` mp3/opus/aac/flac/wav/pcm, ``speed`` 0.25-4, ``instructions``,
``stream_format`` audio/sse) and answers the audio chunked with its Content-Type, or with
``stream_format: "sse"`` (not for ``tts-1``/``tts-1-hd``) ``speech.audio.delta`` events of
base64 audio then ``speech.audio.done`` with token usage.
"""

from __future__ import annotations

import base64
import json
import math
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from tests.fakes.audio import speech_seconds, spoken_text, voice_pcm, wav_file, wav_pcm
from tests.fakes.audio_containers import aac_file, flac_file, mp3_file, ogg_opus_file
from tests.fakes.base import Fault
from tests.fakes.forms import Form, parse_form

if TYPE_CHECKING:
    from tests.fakes.base import FakeState

WHISPER: Final = frozenset({"whisper-1"})
TOKEN_TRANSCRIBERS: Final = frozenset(
    {
        "gpt-transcribe",
        "gpt-4o-transcribe",
        "gpt-4o-mini-transcribe",
        "gpt-4o-mini-transcribe-2025-12-15",
        "gpt-4o-transcribe-diarize",
    }
)
SPEECH_MODELS: Final = frozenset(
    {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15"}
)
CLASSIC_TTS: Final = frozenset({"tts-1", "tts-1-hd"})
VOICES: Final = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer",
    "verse", "marin", "cedar",
)  # fmt: skip
FILE_EXTENSIONS: Final = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
WHISPER_FORMATS: Final = frozenset({"json", "text", "srt", "verbose_json", "vtt"})
MAX_UPLOAD: Final = 26_214_400
MAX_TOKEN_MODEL_SECONDS: Final = 1500
MAX_SPEECH_INPUT: Final = 4096
SPEECH_RATE: Final = 24_000
AUDIO_TOKENS_PER_SECOND: Final = 10  # audio input tokens of the gpt-4o transcribers
TTS_AUDIO_TOKENS_PER_SECOND: Final = 20


def speech_audio(text: str, response_format: str) -> tuple[bytes, str]:
    """The audio the fake speaks for ``text`` and its Content-Type."""
    if response_format == "pcm":
        return voice_pcm(text, SPEECH_RATE), "audio/pcm"
    if response_format == "wav":
        return wav_file(voice_pcm(text, SPEECH_RATE), SPEECH_RATE), "audio/wav"
    writers = {
        "mp3": (mp3_file, "audio/mpeg"),
        "opus": (ogg_opus_file, "audio/opus"),
        "aac": (aac_file, "audio/aac"),
        "flac": (flac_file, "audio/flac"),
    }
    writer, content_type = writers[response_format]
    return writer(text), content_type


def audio_seconds(data: bytes) -> float:
    """How long uploaded audio lasts as the fakes reckon it.

    WAV exactly; audio made by ``tests.fakes.audio`` as long as its text was made to last;
    anything else as if it were 128 kbit/s.
    """
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        frames, rate, channels = wav_pcm(data)
        return len(frames) / (2 * rate * channels)
    text = spoken_text(data)
    if text is not None:
        return speech_seconds(text)
    return len(data) / 16_000


class OpenAIAudioRoutes:
    """The audio routes of ``FakeOpenAI`` (a mixin: it uses the host's key check and errors)."""

    _stall = False  # the next speech stream stalls half-way

    if TYPE_CHECKING:
        state: FakeState

        def _check_key(self, request: web.Request) -> web.Response | None: ...
        def next_fault(self) -> tuple[Fault, dict[str, Any]] | None: ...
        async def _hold(self, seconds: float) -> None: ...
        async def apply_fault(
            self, request: web.Request, fault: Fault, params: dict[str, Any]
        ) -> web.StreamResponse | None: ...
        def _bad(
            self, message: str, param: str | None, *, code: str | None = None
        ) -> web.Response: ...
        @staticmethod
        def _error(
            status: int,
            message: str,
            *,
            error_type: str,
            code: str | None,
            param: str | None = None,
        ) -> web.Response: ...
        def _json(self, payload: dict[str, Any]) -> web.Response: ...

    def add_audio_routes(self, app: web.Application) -> None:
        """``POST /v1/audio/transcriptions`` and ``POST /v1/audio/speech``."""
        app.router.add_post("/v1/audio/transcriptions", self._transcriptions)
        app.router.add_post("/v1/audio/speech", self._speech)

    async def _faulted(self, request: web.Request) -> web.StreamResponse | None:
        denied = self._check_key(request)
        if denied is not None:
            return denied
        fault = self.next_fault()
        if fault is not None and fault[0] is Fault.STALL_STREAM:
            self._stall = True  # acted out by the speech stream: half the audio, then nothing
            return None
        return None if fault is None else await self.apply_fault(request, *fault)

    # --- speech to text -----------------------------------------------------------------
    async def _transcriptions(self, request: web.Request) -> web.StreamResponse:
        if (early := await self._faulted(request)) is not None:
            return early
        raw = await request.read()
        if len(raw) > MAX_UPLOAD:
            return self._error(
                413,
                f"Maximum content size limit ({MAX_UPLOAD}) exceeded ({len(raw)} bytes read)",
                error_type="server_error",
                code=None,
            )
        form = parse_form(request.headers.get("Content-Type", ""), raw)
        if form is None:
            return self._bad(
                "Invalid Content-Type header "
                f"({request.headers.get('Content-Type', '')}), expected multipart/form-data.",
                None,
            )
        problem = self._transcription_problem(form)
        if problem is not None:
            return problem
        return await self._transcript(request, form)

    def _transcription_problem(self, form: Form) -> web.Response | None:
        model = form.text("model")
        if not model:
            return self._bad("you must provide a model parameter", None)
        if model not in WHISPER | TOKEN_TRANSCRIBERS:
            return self._bad("invalid model ID", None)
        upload = form.file("file")
        if upload is None:
            return self._bad(
                "1 validation error for Request\nbody -> file\n  field required", "file"
            )
        filename, data = upload
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if extension not in FILE_EXTENSIONS:
            return self._bad(
                f"Invalid file format. Supported formats: {list(FILE_EXTENSIONS)}", None
            )
        return self._format_problem(model, form) or self._length_problem(model, data)

    def _format_problem(self, model: str, form: Form) -> web.Response | None:
        response_format = form.text("response_format") or "json"
        allowed = WHISPER_FORMATS if model in WHISPER else {"json", "text"}
        if response_format in allowed:
            return None
        return self._bad(
            f"response_format '{response_format}' is not compatible with model '{model}'. "
            "Use 'json' or 'text' instead.",
            "response_format",
            code="unsupported_value",
        )

    def _length_problem(self, model: str, data: bytes) -> web.Response | None:
        if not _decodable(data):
            if model in WHISPER:
                return self._bad(
                    "Audio file might be corrupted or unsupported", "file", code="invalid_value"
                )
            return self._bad(
                "This model does not support the format you provided.",
                "messages",
                code="unsupported_format",
            )
        seconds = audio_seconds(data)
        if seconds < 0.1:
            return self._bad(
                "Audio file is too short. Minimum audio length is 0.1 seconds.",
                "file",
                code="audio_too_short",
            )
        if model in TOKEN_TRANSCRIBERS and seconds > MAX_TOKEN_MODEL_SECONDS:
            return self._bad(
                f"audio duration {seconds:g} seconds is longer than {MAX_TOKEN_MODEL_SECONDS} "
                "seconds which is the maximum for this model",
                None,
                code="invalid_value",
            )
        return None

    async def _transcript(self, request: web.Request, form: Form) -> web.StreamResponse:
        model = form.text("model") or ""
        _filename, data = form.file("file") or ("", b"")
        text = spoken_text(data) or self.state.reply.text
        seconds = audio_seconds(data)
        response_format = form.text("response_format") or "json"
        if model in TOKEN_TRANSCRIBERS and form.text("stream") == "true":
            return await self._transcript_stream(request, text, _token_usage(text, seconds, form))
        if response_format == "text":
            return web.Response(text=text + "\n", content_type="text/plain")
        if response_format in ("srt", "vtt"):
            return web.Response(
                text=_subtitles(text, seconds, response_format), content_type="text/plain"
            )
        usage = (
            _token_usage(text, seconds, form)
            if model in TOKEN_TRANSCRIBERS
            else _duration_usage(seconds)
        )
        if response_format == "verbose_json":
            return self._json(_verbose(text, seconds, form, usage))
        return self._json({"text": text, "usage": usage})

    async def _transcript_stream(
        self, request: web.Request, text: str, usage: dict[str, Any]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        for piece in _words(text):
            event = {"type": "transcript.text.delta", "delta": piece, "logprobs": None}
            await response.write(f"data: {json.dumps(event)}\n\n".encode())
        done = {"type": "transcript.text.done", "text": text, "logprobs": None, "usage": usage}
        await response.write(f"data: {json.dumps(done)}\n\n".encode())
        await response.write_eof()
        return response

    # --- text to speech -----------------------------------------------------------------
    async def _speech(self, request: web.Request) -> web.StreamResponse:
        if (early := await self._faulted(request)) is not None:
            return early
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self._bad("We could not parse the JSON body of your request.", None)
        problem = self._speech_problem(body)
        if problem is not None:
            return problem
        audio, content_type = speech_audio(body["input"], body.get("response_format") or "mp3")
        if body.get("stream_format") == "sse":
            return await self._speech_events(request, audio, body["input"])
        response = web.StreamResponse(headers={"Content-Type": content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(audio), 4096):
            await response.write(audio[start : start + 4096])
            if self._stall and start >= len(audio) // 2:
                self._stall = False
                await self._hold(3600.0)
                return response
        await response.write_eof()
        return response

    def _speech_problem(self, body: Any) -> web.Response | None:
        if not isinstance(body, dict):
            return self._bad("We could not parse the JSON body of your request.", None)
        for field in ("model", "input", "voice"):
            if not body.get(field):
                return self._bad(
                    f"Missing required parameter: '{field}'.",
                    field,
                    code="missing_required_parameter",
                )
        if body["model"] not in SPEECH_MODELS:
            return self._bad("invalid model ID", "model")
        return self._speech_values(body)

    def _speech_values(self, body: dict[str, Any]) -> web.Response | None:
        text = str(body["input"])
        if len(text) > MAX_SPEECH_INPUT:
            return self._bad(
                f"string too long. Expected a string with maximum length {MAX_SPEECH_INPUT}, "
                f"but got a string with length {len(text)} instead.",
                "input",
                code="string_above_max_length",
            )
        voice = body["voice"]
        if isinstance(voice, str) and voice not in VOICES:
            supported = ", ".join(f"'{v}'" for v in VOICES)
            return self._bad(
                f"Invalid value: '{voice}'. Supported values are: {supported}.",
                "voice",
                code="invalid_value",
            )
        response_format = body.get("response_format") or "mp3"
        if response_format not in ("mp3", "opus", "aac", "flac", "wav", "pcm"):
            return self._bad(
                f"Invalid value: '{response_format}'. Supported values are: 'mp3', 'opus', 'aac', "
                "'flac', 'wav', and 'pcm'.",
                "response_format",
                code="invalid_value",
            )
        speed = body.get("speed", 1.0)
        if not isinstance(speed, int | float) or not 0.25 <= speed <= 4.0:
            return self._bad(
                "Invalid 'speed': decimal out of range. Expected a value from 0.25 to 4, but got "
                f"{speed} instead.",
                "speed",
                code="invalid_value",
            )
        if body.get("stream_format") == "sse" and body["model"] in CLASSIC_TTS:
            return self._bad(
                f"stream_format 'sse' is not supported for model '{body['model']}'.",
                "stream_format",
                code="unsupported_value",
            )
        return None

    async def _speech_events(
        self, request: web.Request, audio: bytes, text: str
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        for start in range(0, len(audio), 4096):
            delta = {
                "type": "speech.audio.delta",
                "audio": base64.b64encode(audio[start : start + 4096]).decode(),
            }
            await response.write(f"data: {json.dumps(delta)}\n\n".encode())
        input_tokens = _text_tokens(text)
        output_tokens = math.ceil(speech_seconds(text) * TTS_AUDIO_TOKENS_PER_SECOND)
        usage = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        }
        await response.write(
            f"data: {json.dumps({'type': 'speech.audio.done', 'usage': usage})}\n\n".encode()
        )
        await response.write_eof()
        return response


def _decodable(data: bytes) -> bool:
    """Whether the upload starts like audio a decoder opens (the API decodes it with ffmpeg)."""
    magic = (b"RIFF", b"ID3", b"fLaC", b"OggS", b"\x1a\x45\xdf\xa3")
    return (
        data.startswith(magic)
        or data[4:8] == b"ftyp"
        or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)
    )


def _text_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _token_usage(text: str, seconds: float, form: Form) -> dict[str, Any]:
    audio_tokens = math.ceil(seconds * AUDIO_TOKENS_PER_SECOND)
    prompt_tokens = _text_tokens(form.text("prompt") or "") if form.text("prompt") else 0
    output = _text_tokens(text)
    return {
        "type": "tokens",
        "input_tokens": audio_tokens + prompt_tokens,
        "input_token_details": {"text_tokens": prompt_tokens, "audio_tokens": audio_tokens},
        "output_tokens": output,
        "total_tokens": audio_tokens + prompt_tokens + output,
    }


def _duration_usage(seconds: float) -> dict[str, Any]:
    return {"type": "duration", "seconds": math.ceil(seconds)}


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [word if n == 0 else f" {word}" for n, word in enumerate(words)]


def _verbose(text: str, seconds: float, form: Form, usage: dict[str, Any]) -> dict[str, Any]:
    segment = {
        "id": 0,
        "seek": 0,
        "start": 0.0,
        "end": round(seconds, 2),
        "text": f" {text}",
        "tokens": list(range(50364, 50364 + _text_tokens(text))),
        "temperature": float(form.text("temperature") or 0.0),
        "avg_logprob": -0.25,
        "compression_ratio": 1.1,
        "no_speech_prob": 0.01,
    }
    payload: dict[str, Any] = {
        "task": "transcribe",
        "language": {"de": "german", "fr": "french"}.get(form.text("language") or "", "english"),
        "duration": round(seconds, 2),
        "text": text,
        "segments": [segment],
        "usage": usage,
    }
    if "word" in form.texts("timestamp_granularities[]"):
        words = text.split()
        step = seconds / max(len(words), 1)
        payload["words"] = [
            {"word": word, "start": round(n * step, 2), "end": round((n + 1) * step, 2)}
            for n, word in enumerate(words)
        ]
    return payload


def _subtitles(text: str, seconds: float, kind: str) -> str:
    def stamp(value: float, separator: str) -> str:
        millis = round(value * 1000)
        hours, rest = divmod(millis, 3_600_000)
        minutes, rest = divmod(rest, 60_000)
        return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{separator}{rest % 1000:03d}"

    if kind == "vtt":
        return f"WEBVTT\n\n{stamp(0, '.')} --> {stamp(seconds, '.')}\n{text}\n\n"
    return f"1\n{stamp(0, ',')} --> {stamp(seconds, ',')}\n{text}\n\n"
