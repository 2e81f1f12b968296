"""A loopback server that impersonates the add-on's HTTP API for the quick tests.

It answers with the documented bodies and error envelope, checks the bearer token, streams
Server-Sent Events like the add-on does, and records every request so tests can assert what
was (or was not) sent.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.test_utils import TestServer

TOKEN = "test-token-0123456789"

HEALTH: dict[str, Any] = {
    "status": "degraded",
    "version": "0.1.0",
    "providers": [
        {
            "name": "openai",
            "type": "openai",
            "model": "gpt-4.1-mini",
            "state": "healthy",
            "error_key": None,
        },
        {
            "name": "ollama",
            "type": "ollama",
            "model": "gemma3:4b",
            "state": "circuit_open",
            "error_key": "provider_connection",
        },
    ],
}
PROVIDERS: dict[str, Any] = {
    "providers": [
        {
            **HEALTH["providers"][0],
            "vision_model": None,
            "priority": 10,
            "enabled": True,
            "vision": True,
            "api_key": "sk-…abcd",
            "base_url": "http://127.0.0.1:1/v1",
            "latency_ms": 812.5,
        },
        {
            **HEALTH["providers"][1],
            "vision_model": None,
            "priority": 100,
            "enabled": True,
            "vision": True,
            "api_key": None,
            "base_url": "http://127.0.0.1:2",
            "latency_ms": None,
        },
    ]
}
TOTALS: dict[str, Any] = {
    "requests": 7,
    "succeeded": 6,
    "failed": 1,
    "success_rate": 6 / 7,
    "input_tokens": 1200,
    "output_tokens": 300,
    "cost_usd": 0.0123,
    "p50_latency_ms": 700.0,
    "p95_latency_ms": 1500.0,
}
USAGE: dict[str, Any] = {
    "since": "2025-04-01T00:00:00+00:00",
    "until": "2025-04-20T12:00:00+00:00",
    "totals": TOTALS,
    "by_provider": {"openai": {**TOTALS, "succeeded": 7, "failed": 0, "success_rate": 1.0}},
    "by_model": {},
    "by_tag": {},
    "by_day": {},
    "today": TOTALS,
    "month": {**TOTALS, "requests": 70, "cost_usd": 1.5},
    "budget": {
        "daily": {"limit_usd": 1.0, "spent_usd": 0.0123, "reserved_usd": 0.0, "left_usd": 0.9877},
        "monthly": {"limit_usd": None, "spent_usd": 1.5, "reserved_usd": 0.0, "left_usd": None},
    },
}
RESULT: dict[str, Any] = {
    "request_id": "req-1",
    "text": "A person in a red coat is at the door.",
    "data": None,
    "provider": "openai",
    "model": "gpt-4.1-mini",
    "usage": {"input_tokens": 100, "output_tokens": 12},
    "cost_usd": 0.00042,
    "latency_ms": 640.0,
    "cached": False,
    "attempts": [
        {"provider": "openai", "model": "gpt-4.1-mini", "outcome": "ok", "latency_ms": 640.0}
    ],
}
# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a2d3c1a10000000049454e44ae426082"
)
MEDIA_FIGURES: dict[str, Any] = {
    "request_id": "req-m",
    "provider": "openai",
    "usage": {
        "input_tokens": 6,
        "output_tokens": 0,
        "audio_seconds": 0.0,
        "characters": 0,
        "images": 0,
    },
    "cost_usd": 0.00012,
    "latency_ms": 120.0,
    "cached": False,
    "attempts": [{"provider": "openai", "model": "m", "outcome": "ok", "latency_ms": 120.0}],
}
EMBEDDINGS: dict[str, Any] = {
    **MEDIA_FIGURES,
    "model": "text-embedding-3-small",
    "vectors": [[0.6, 0.8, 0.0], [0.0, 0.6, 0.8]],
    "dimensions": 3,
}
TRANSCRIPT: dict[str, Any] = {
    **MEDIA_FIGURES,
    "model": "gpt-4o-mini-transcribe",
    "text": "Turn on the kitchen light",
    "language": "en",
}
IMAGES: dict[str, Any] = {
    **MEDIA_FIGURES,
    "model": "gpt-image-1",
    "images": [
        {"data": base64.b64encode(PNG).decode(), "mime_type": "image/png", "revised_prompt": None}
    ],
}
# What the fake speaks: an MP3 frame header and padding (the integration never decodes it).
SPEECH = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + bytes(413)
CALL_PATHS = frozenset(
    f"/api/v1/{name}"
    for name in ("chat", "vision", "embeddings", "transcriptions", "speech", "images")
)
SPEECH_TYPES = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "pcm": "audio/pcm",
}


@dataclass
class Recorded:
    """One request the fake hub received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeHub:
    """State and routes of the fake add-on."""

    token: str = TOKEN
    bodies: dict[str, Any] = field(
        default_factory=lambda: {
            "/health": copy.deepcopy(HEALTH),
            "/api/v1/providers": copy.deepcopy(PROVIDERS),
            "/api/v1/usage": copy.deepcopy(USAGE),
            "/api/v1/chat": copy.deepcopy(RESULT),
            "/api/v1/vision": copy.deepcopy(RESULT),
            "/api/v1/embeddings": copy.deepcopy(EMBEDDINGS),
            "/api/v1/transcriptions": copy.deepcopy(TRANSCRIPT),
            "/api/v1/images": copy.deepcopy(IMAGES),
            "/api/v1/speech": {},
            "/api/v1/providers/openai/credentials": {"name": "openai", "api_key": "sk-…good"},
            "/api/v1/providers/openai/test": {"name": "openai", "result": "valid", "message": ""},
        }
    )
    errors: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    hang: set[str] = field(default_factory=set)
    requests: list[Recorded] = field(default_factory=list)
    stream_chunks: list[str] = field(default_factory=lambda: ["Hello", " there", "!"])
    # Scripted streamed answers, one per streaming request, before falling back to
    # ``stream_chunks``: ``{"chunks": [...], "tool_calls": [{id, name, arguments}]}``.
    turns: list[dict[str, list[Any]]] = field(default_factory=list)
    # When set, the stream ends with this error envelope instead of ``done`` (as the add-on
    # does once the status line is out).
    stream_error: dict[str, Any] | None = None
    # The speech formats some provider makes (others: 422 no_capable_provider, as the add-on).
    speech_formats: frozenset[str] = frozenset(SPEECH_TYPES)
    # When set, the speech answer stops after its first chunk with the connection cut (as the
    # add-on does when the vendor fails once the audio has started).
    speech_torn: bool = False
    server: TestServer | None = None

    @property
    def url(self) -> str:
        """The base URL the fake listens on."""
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def fail(self, path: str, status: int, key: str, message: str = "", **extra: Any) -> None:
        """Answer ``path`` with the add-on's error envelope until cleared."""
        error = {"key": key, "message": message or f"{key} happened", **extra}
        self.errors[path] = (status, {"error": error})

    def sent(self, path: str) -> list[Recorded]:
        """The requests received on ``path``."""
        return [r for r in self.requests if r.path == path]

    def calls(self) -> list[Recorded]:
        """The requests that ask the hub for an answer (chat, vision, media), in order."""
        return [r for r in self.requests if r.path in CALL_PATHS]

    def generation_requests(self) -> list[Recorded]:
        """The chat and vision requests received so far."""
        return [r for r in self.requests if r.path in ("/api/v1/chat", "/api/v1/vision")]

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def stop(self) -> None:
        """Stop listening."""
        if self.server is not None:
            await self.server.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body: Any = None
        if request.content_type == "multipart/form-data":
            body = await _form(request)
        elif (raw := await request.read()) and request.content_type == "application/json":
            body = json.loads(raw)
        self.requests.append(
            Recorded(request.method, request.path, dict(request.headers), body, dict(request.query))
        )
        if request.path == "/image.png":
            return web.Response(body=PNG, content_type="image/png")
        if request.path == "/chunked.png":  # no Content-Length: the size shows while reading
            response = web.StreamResponse(headers={"Content-Type": "image/png"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            await response.write(PNG)
            await response.write_eof()
            return response
        if request.path == "/page.html":
            return web.Response(text="<html></html>", content_type="text/html")
        if request.path in self.hang:
            await asyncio.Event().wait()
        if request.path != "/health" and (
            request.headers.get("Authorization") != f"Bearer {self.token}"
        ):
            return _error(401, "unauthorized", "Missing or wrong bearer token")
        if request.path in self.errors:
            status, payload = self.errors[request.path]
            return web.json_response(payload, status=status)
        if request.path not in self.bodies:
            return _error(404, "not_found", f"No route {request.path}")
        if request.path == "/api/v1/speech":
            return await self._speech(request, body)
        if isinstance(body, dict) and body.get("stream"):
            return await self._stream(request)
        return web.json_response(self.bodies[request.path])

    async def _speech(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        """Audio in the asked format, chunked, with the hub's figures in the headers."""
        audio_format = body.get("format", "mp3")
        if audio_format not in self.speech_formats:
            return _error(422, "no_capable_provider", f"No provider speaks {audio_format}")
        response = web.StreamResponse(
            headers={
                "Content-Type": SPEECH_TYPES[audio_format],
                "X-Request-ID": "req-s",
                "X-Hub-Provider": "openai",
                "X-Hub-Model": "gpt-4o-mini-tts",
                "X-Hub-Cost-USD": "0.0003",
            }
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(SPEECH), 100):
            await response.write(SPEECH[start : start + 100])
            if self.speech_torn and request.transport is not None:
                request.transport.close()
                return response
        await response.write_eof()
        return response

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        turn: dict[str, list[Any]] = self.turns.pop(0) if self.turns else {}
        chunks: list[str] = turn.get("chunks", [] if turn else self.stream_chunks)
        calls: list[dict[str, Any]] = turn.get("tool_calls", [])
        for chunk in chunks:
            await response.write(_event("delta", {"text": chunk}))
        for call in calls:
            await response.write(_event("tool_call", call))
        if self.stream_error is not None:
            await response.write(_event("error", {"error": self.stream_error}))
        else:
            done = {**self.bodies[request.path], "text": "".join(chunks)}
            if calls:
                done.update(tool_calls=calls, finish_reason="tool_calls")
            await response.write(_event("done", done))
        await response.write_eof()
        return response


async def _form(request: web.Request) -> dict[str, Any]:
    """A multipart body: text fields as strings, files as ``(filename, type, bytes)``."""
    form: dict[str, Any] = {}
    async for part in await request.multipart():
        assert isinstance(part, BodyPartReader)
        data = await part.read()
        if part.filename is None:
            form[str(part.name)] = data.decode()
        else:
            kind = part.headers.get("Content-Type", "")
            form[str(part.name)] = (part.filename, kind, bytes(data))
    return form


def _error(status: int, key: str, message: str) -> web.Response:
    return web.json_response({"error": {"key": key, "message": message}}, status=status)


def _event(name: str, payload: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()
