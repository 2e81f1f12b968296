"""A local server that speaks Ollama's REST API (``docs/api.md`` of ollama/ollama).

``POST /api/chat`` answers one JSON object with ``"stream": false`` and otherwise streams NDJSON
(``application/x-ndjson``): one object per line carrying a piece of ``message.content`` with
``"done": false``, then a final object with ``"done": true``, ``done_reason`` and the metrics
(``total_duration``, ``load_duration``, ``prompt_eval_count``, ``prompt_eval_duration``,
``eval_count``, ``eval_duration``; durations in nanoseconds). A stream is the default when the
request says nothing. ``GET /api/tags`` lists the local models, ``GET /api/version`` the server
version, ``POST /api/show`` one model's details and capabilities. Errors are ``{"error": "..."}``
with the HTTP status: 404 ``model "x" not found, try pulling it first`` for a model that was never
pulled, 400 for a malformed request, 503 when the server is busy, 401 ``unauthorized`` when a
proxy in front of Ollama wants a bearer key (``state.api_key``) and gets another one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web

from tests.fakes.base import FakeServer, Fault, Reply
from tests.fakes.embeddings import OLLAMA_DIMENSIONS, Refusal, ollama_embed
from tests.fakes.ollama_tools import (
    legacy_plans,
    planned_calls,
    supports_tools,
    tools_problem,
    wire_calls,
)

VERSION = "0.12.6"
DEFAULT_MODELS = ("gemma3:4b", "llama3.2:latest", "llava:7b")
BUSY_MESSAGE = "server busy, please try again.  maximum pending requests exceeded"
RUNNER_CRASHED = "an error was encountered while running the model: unexpected EOF"
THINKING_TEXT = "The user greets me; I should greet back."
# Model families whose vision projector Ollama reports as a "clip" family.
_CLIP_FAMILIES = ("llava", "bakllava", "moondream", "minicpm-v")
_VISION_FAMILIES = ("gemma3", "llama3.2-vision", "llama4", "qwen2.5vl", "qwen3-vl", *_CLIP_FAMILIES)
_ROLES = {"system", "user", "assistant", "tool"}
_NS = 1_000_000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def example_for_schema(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Any:
    """A minimal value that satisfies ``schema``: objects carry only their required properties."""
    root = schema if root is None else root
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        defs = {**root.get("definitions", {}), **root.get("$defs", {})}
        return example_for_schema(defs.get(name, {}), root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return example_for_schema(schema[key][0], root)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            name: example_for_schema(properties.get(name, {}), root)
            for name in schema.get("required", [])
        }
    if kind == "array":
        return [example_for_schema(schema.get("items", {}), root)] * int(schema.get("minItems", 0))
    samples: dict[str, Any] = {"string": "example", "integer": 0, "number": 0, "boolean": False}
    return samples.get(kind)


def canonical_name(name: str) -> str:
    """Ollama's model name with the implied tag (``llama3.2`` -> ``llama3.2:latest``)."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def model_details(name: str) -> dict[str, Any]:
    """The ``details`` object Ollama reports for a model (derived from its name)."""
    base = name.split(":", 1)[0]
    family_match = re.match(r"[a-z]+", base)
    family = family_match.group(0) if family_match else base
    families = [family, "clip"] if base.startswith(_CLIP_FAMILIES) else [family]
    size_match = re.search(r":(\d+(?:\.\d+)?)b\b", name)
    return {
        "parent_model": "",
        "format": "gguf",
        "family": family,
        "families": families,
        "parameter_size": f"{size_match.group(1)}B" if size_match else "3.2B",
        "quantization_level": "Q4_K_M",
    }


def _now() -> str:
    """A timestamp the way Go marshals ``time.Time`` in UTC."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeOllama(FakeServer):
    """Ollama on loopback: chat (JSON and NDJSON streaming), tags, version, show.

    ``script_tools`` (or ``tool_calls``, a list of ``{"name", "arguments"}``) makes the model
    call offered tools (``ollama_tools``). ``fail_next(Fault.SERVER_ERROR, mid_stream=True)``
    fails a stream the way Ollama does once the 200 is sent: an ``{"error": "..."}`` line after
    the first piece.
    """

    vendor = "ollama"

    def __init__(self, *, api_key: str | None = None, models: list[str] | None = None) -> None:
        super().__init__(api_key=api_key, models=list(DEFAULT_MODELS if models is None else models))
        self.tool_calls: list[dict[str, Any]] = []
        self._released = asyncio.Event()

    # --- routes -------------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        """Register Ollama's routes."""
        app.router.add_get("/", self._root)
        app.router.add_post("/api/chat", self._guarded(self._chat, generation=True))
        app.router.add_post("/api/embed", self._guarded(self._embed, generation=True))
        app.router.add_get("/api/tags", self._guarded(self._tags))
        app.router.add_get("/api/version", self._guarded(self._version))
        app.router.add_post("/api/show", self._guarded(self._show))
        app.on_shutdown.append(self._release_held)

    def error_response(self, status: int, message: str, *, kind: str) -> web.Response:
        """Ollama's error body: ``{"error": "<message>"}`` with the HTTP status."""
        if kind == "overloaded":
            message = BUSY_MESSAGE
        elif kind == "auth":
            message = "unauthorized"
        return web.json_response({"error": message}, status=status)

    def _guarded(self, handler: Handler, *, generation: bool = False) -> Handler:
        """Wrap a route: check the proxy's bearer key, then act out a fault.

        Queued faults hit generation requests only; a sticky fault hits every route.
        """

        async def guarded(request: web.Request) -> web.StreamResponse:
            if self.state.api_key is not None:
                expected = f"Bearer {self.state.api_key}"
                if request.headers.get("Authorization") != expected:
                    return self.error_response(401, "unauthorized", kind="auth")
            queued = self.next_fault() if generation else self.state.sticky_fault
            if queued is not None:
                answer = await self._act_out(request, *queued, streams=generation)
                if answer is not None:
                    return answer
            return await handler(request)

        return guarded

    async def _act_out(
        self, request: web.Request, fault: Fault, params: dict[str, Any], *, streams: bool
    ) -> web.StreamResponse | None:
        """Answer with ``fault``; stream faults run inside a real NDJSON stream."""
        streaming = streams and await self._wants_stream(request)
        if fault is Fault.STALL_STREAM and streaming:
            return await self._chat(request, after_first="stall")
        if fault is Fault.SERVER_ERROR and streaming and params.get("mid_stream"):
            return await self._chat(request, after_first="error")
        if fault in (Fault.TIMEOUT, Fault.STALL_STREAM):
            await self._hold(params)
            return self.error_response(500, "late", kind="server_error")
        return await self.apply_fault(request, fault, params)

    async def _hold(self, params: Mapping[str, Any]) -> None:
        """Hang like a stuck server until the fake stops (or ``seconds`` pass)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(params.get("seconds", 3600)):
                await self._released.wait()

    async def _release_held(self, _app: web.Application) -> None:
        self._released.set()

    @staticmethod
    async def _wants_stream(request: web.Request) -> bool:
        with contextlib.suppress(ValueError):
            body = await request.json()
            return isinstance(body, dict) and body.get("stream") is not False
        return True

    # --- simple endpoints ---------------------------------------------------------------
    async def _root(self, _request: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    async def _version(self, _request: web.Request) -> web.Response:
        return web.json_response({"version": VERSION})

    async def _tags(self, _request: web.Request) -> web.Response:
        return web.json_response({"models": [self._tag(name) for name in self.state.models]})

    def _tag(self, name: str) -> dict[str, Any]:
        full = canonical_name(name)
        digest = hashlib.sha256(full.encode()).hexdigest()
        return {
            "name": full,
            "model": full,
            "modified_at": "2025-10-01T09:30:12.123456789+02:00",
            "size": 1_000_000_000 + int(digest[:6], 16),
            "digest": digest,
            "details": model_details(full),
        }

    async def _show(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        name = str(body.get("model") or body.get("name") or "")
        if self._find_model(name) is None:
            return web.json_response({"error": f"model '{name}' not found"}, status=404)
        details = model_details(canonical_name(name))
        capabilities = ["completion", "tools"] if supports_tools(name) else ["completion"]
        if name.split(":", 1)[0].startswith(_VISION_FAMILIES):
            capabilities.append("vision")
        if name.split(":", 1)[0] in OLLAMA_DIMENSIONS:
            capabilities = ["embedding"]
        return web.json_response(
            {
                "modelfile": f'# Modelfile generated by "ollama show"\nFROM {name}\n',
                "parameters": 'stop "<end_of_turn>"',
                "template": "{{ .Prompt }}",
                "details": details,
                "model_info": {"general.architecture": details["family"]},
                "capabilities": capabilities,
                "modified_at": "2025-10-01T09:30:12.123456789+02:00",
            }
        )

    # --- embeddings ---------------------------------------------------------------------
    async def _embed(self, request: web.Request) -> web.Response:
        """``POST /api/embed`` (``tests.fakes.embeddings``)."""
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        try:
            return web.json_response(ollama_embed(body, installed=self._find_model))
        except Refusal as refused:
            return web.json_response({"error": refused.message}, status=refused.status)

    # --- chat ---------------------------------------------------------------------------
    async def _chat(
        self, request: web.Request, *, after_first: Literal["stall", "error"] | None = None
    ) -> web.StreamResponse:
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        problem = self._validate_chat(body)
        if problem is not None:
            return problem
        model = str(body["model"])
        if self._find_model(model) is None:
            message = f"model {json.dumps(model)} not found, try pulling it first"
            return web.json_response({"error": message}, status=404)
        if (refused := tools_problem(body, canonical_name(model))) is not None:
            return web.json_response({"error": refused}, status=400)
        if body.get("stream") is False:
            return web.json_response(self._final(body, self._answer_text(body), full=True))
        return await self._stream(request, body, after_first=after_first)

    @staticmethod
    async def _json_body(request: web.Request) -> dict[str, Any] | web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "invalid character in request body"}, status=400)
        if not isinstance(body, dict):
            return web.json_response(
                {"error": "json: cannot unmarshal into Go value of type api.ChatRequest"},
                status=400,
            )
        return body

    def _validate_chat(self, body: Mapping[str, Any]) -> web.Response | None:
        """Refuse what Ollama refuses: no model, unknown roles, images that are not base64."""
        if not body.get("model"):
            return web.json_response({"error": "model is required"}, status=400)
        for message in body.get("messages") or []:
            if message.get("role") not in _ROLES:
                return web.json_response(
                    {"error": f"invalid role: {message.get('role')!r}"}, status=400
                )
            for image in message.get("images") or []:
                try:
                    base64.b64decode(str(image), validate=True)
                except (binascii.Error, ValueError):
                    return web.json_response(
                        {"error": "illegal base64 data at input byte 0"}, status=400
                    )
        return None

    def _find_model(self, name: str) -> str | None:
        wanted = canonical_name(name)
        return next((m for m in self.state.models if canonical_name(m) == wanted), None)

    def _answer_text(self, body: Mapping[str, Any]) -> str:
        """The reply text: JSON built from the schema for structured output unless set."""
        reply = self.state.reply
        fmt = body.get("format")
        if fmt and reply.text == Reply().text:
            value = example_for_schema(fmt) if isinstance(fmt, dict) else {}
            return json.dumps(value)
        return reply.text

    def _calls(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        script = [*legacy_plans(self.tool_calls), *self.state.tool_script]
        return wire_calls(planned_calls(body, script))

    def _limits(self, body: Mapping[str, Any]) -> tuple[int, str]:
        """Output tokens and done_reason: ``options.num_predict`` cuts the answer short."""
        output = self.state.reply.output_tokens + self.state.reply.thinking_tokens
        limit = (body.get("options") or {}).get("num_predict")
        if isinstance(limit, int) and 0 <= limit < output:
            return limit, "length"
        return output, "stop"

    def _final(self, body: Mapping[str, Any], text: str, *, full: bool) -> dict[str, Any]:
        """The last (or only) object: the whole message when ``full``, metrics, done_reason."""
        reply = self.state.reply
        eval_count, done_reason = self._limits(body)
        message: dict[str, Any] = {"role": "assistant", "content": text if full else ""}
        if full and reply.thinking_tokens and body.get("think") is not False:
            message["thinking"] = THINKING_TEXT
        calls = self._calls(body)
        if full and calls:
            message["content"] = ""
            message["tool_calls"] = calls
        return {
            "model": body["model"],
            "created_at": _now(),
            "message": message,
            "done": True,
            "done_reason": done_reason,
            "total_duration": 900 * _NS,
            "load_duration": 40 * _NS,
            "prompt_eval_count": reply.input_tokens,
            "prompt_eval_duration": 120 * _NS,
            "eval_count": eval_count,
            "eval_duration": 700 * _NS,
        }

    def _pieces(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The ``done: false`` objects of a stream: thinking, content pieces, tool calls."""
        reply = self.state.reply
        messages: list[dict[str, Any]] = []
        if reply.thinking_tokens and body.get("think") is not False:
            messages.append({"role": "assistant", "content": "", "thinking": THINKING_TEXT})
        calls = self._calls(body)
        if calls:
            messages.append({"role": "assistant", "content": "", "tool_calls": calls})
        else:
            text = self._answer_text(body)
            messages.extend({"role": "assistant", "content": p} for p in split_text(text, reply))
        return [
            {"model": body["model"], "created_at": _now(), "message": m, "done": False}
            for m in messages
        ]

    async def _stream(
        self,
        request: web.Request,
        body: Mapping[str, Any],
        *,
        after_first: Literal["stall", "error"] | None,
    ) -> web.StreamResponse:
        """NDJSON; ``after_first`` stalls or fails (an ``{"error"}`` line) after one piece."""
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        for index, piece in enumerate(self._pieces(body)):
            await response.write(json.dumps(piece).encode() + b"\n")
            if after_first == "stall" and index == 0:
                await self._hold({})
                return response
            if after_first == "error" and index == 0:
                await response.write(json.dumps({"error": RUNNER_CRASHED}).encode() + b"\n")
                await response.write_eof()
                return response
        await response.write(json.dumps(self._final(body, "", full=False)).encode() + b"\n")
        await response.write_eof()
        return response


def split_text(text: str, reply: Reply) -> list[str]:
    """Cut ``text`` into ``reply.chunks`` pieces that join back to it."""
    count = max(1, min(reply.chunks, len(text)))
    size = -(-len(text) // count) if text else 1
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
