"""A local server that speaks OpenAI's Chat Completions and Models wire format.

Follows the API reference: ``POST /v1/chat/completions`` answers a ``chat.completion`` object
or, with ``"stream": true``, Server-Sent Events of ``chat.completion.chunk`` objects
(``data: {...}`` lines, a final ``data: [DONE]``; with ``stream_options.include_usage`` every
chunk carries ``"usage": null`` and one last chunk has empty ``choices`` and the usage).
``GET /v1/models`` answers a ``list`` of ``model`` objects. Errors are
``{"error": {"message", "type", "param", "code"}}`` with an ``x-request-id`` header; 429s carry
``retry-after`` and ``x-ratelimit-*`` headers. Reasoning models refuse ``max_tokens`` and a
non-default ``temperature`` the way the real API does, and ``json_object`` mode demands the word
"json" in the messages.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeServer, Fault, Reply, retry_headers
from tests.fakes.embeddings import Refusal, openai_embeddings
from tests.fakes.openai_audio import OpenAIAudioRoutes
from tests.fakes.openai_images import OpenAIImageRoutes
from tests.fakes.openai_tools import (
    legacy_plans,
    planned_calls,
    stream_deltas,
    tool_problem,
    wire_calls,
)

OVERLOADED_MESSAGE = "The engine is currently overloaded, please try again later."
SERVER_ERROR_MESSAGE = (
    "The server had an error while processing your request. Sorry about that! You can retry "
    "your request, or contact us through our help center at help.openai.com if the error "
    "persists."
)
NO_KEY_MESSAGE = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with "
    "blank username) if you're accessing the API from your browser and are prompted for a "
    "username and password. You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)
_ERROR_TYPES = {
    "rate_limit": ("requests", "rate_limit_exceeded"),
    "server_error": ("server_error", None),
    "overloaded": ("server_error", None),
    "auth": ("invalid_request_error", "invalid_api_key"),
    "bad_request": ("invalid_request_error", None),
}
# Reasoning models: the real API rejects max_tokens and any temperature but the default.
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")
_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
HOLD_SECONDS = 3600.0
DEFAULT_MODELS = ("gpt-4.1-mini", "gpt-4o", "gpt-4o-mini", "gpt-5")


def example_for_schema(schema: Mapping[str, Any], defs: Mapping[str, Any] | None = None) -> Any:
    """A minimal value that satisfies ``schema`` (required properties only)."""
    defs = (
        defs if defs is not None else {**schema.get("$defs", {}), **schema.get("definitions", {})}
    )
    if "$ref" in schema:
        return example_for_schema(defs.get(str(schema["$ref"]).rsplit("/", 1)[-1], {}), defs)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return example_for_schema(schema[key][0], defs)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            name: example_for_schema(properties.get(name, {}), defs)
            for name in schema.get("required", [])
        }
    if kind == "array":
        item = example_for_schema(schema.get("items", {}), defs)
        return [item] * int(schema.get("minItems", 0))
    samples: dict[str, Any] = {
        "string": "example",
        "integer": 0,
        "number": 0,
        "boolean": False,
        "null": None,
    }
    return samples.get(str(kind))


def _schema_in_messages(messages: list[Any]) -> Mapping[str, Any] | None:
    """The first JSON object embedded in a system/developer message (json_object mode)."""
    decoder = json.JSONDecoder()
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if message.get("role") not in {"system", "developer"} or not isinstance(content, str):
            continue
        start = content.find("{")
        while start != -1:
            try:
                found, _ = decoder.raw_decode(content, start)
            except ValueError:
                start = content.find("{", start + 1)
                continue
            return found if isinstance(found, dict) else None
    return None


def _text_of(messages: list[Any]) -> str:
    """All text content of the messages (string contents and text parts)."""
    pieces: list[str] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            pieces.append(content)
        elif isinstance(content, list):
            pieces.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "\n".join(pieces)


def rate_limit_headers(*, requests_left: int, tokens_left: int) -> dict[str, str]:
    """OpenAI's ``x-ratelimit-*`` headers (sent on every answer, successful or 429)."""
    return {
        "x-ratelimit-limit-requests": "500",
        "x-ratelimit-remaining-requests": str(requests_left),
        "x-ratelimit-reset-requests": "120ms" if requests_left else "1s",
        "x-ratelimit-limit-tokens": "30000",
        "x-ratelimit-remaining-tokens": str(tokens_left),
        "x-ratelimit-reset-tokens": "34ms",
    }


def _split(text: str, pieces: int) -> list[str]:
    """Cut ``text`` into ``pieces`` non-empty chunks (fewer when the text is short)."""
    pieces = max(1, min(pieces, len(text) or 1))
    size = -(-len(text) // pieces) if text else 1
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class FakeOpenAI(FakeServer, OpenAIAudioRoutes, OpenAIImageRoutes):
    """OpenAI's API on loopback: chat completions (JSON and SSE), models, errors, faults.

    ``model_aliases`` maps a requested model to the snapshot the fake reports (OpenAI answers
    ``gpt-4o-mini`` requests as ``gpt-4o-mini-2024-07-18``); unmapped models are echoed.
    ``finish_reason`` overrides the finish reason of the next answers; ``script_tools`` (or
    ``tool_calls``, wire dicts) makes the model call offered tools (``openai_tools``).
    ``strict_models`` answers 404 ``model_not_found`` for a model the fake does not list;
    ``requests_left`` is what ``x-ratelimit-remaining-requests`` says on successful answers. An
    answer longer than ``max_completion_tokens`` / ``max_tokens`` is cut there with
    ``finish_reason: "length"``. Queued faults hit chat completions only; a fault set with
    ``fail_always`` also hits ``/v1/models``; ``fail_next(Fault.SERVER_ERROR, mid_stream=True)``
    sends a streamed answer's first piece and then the ``data: {"error": {...}}`` frame OpenAI
    ends a failing stream with. The audio endpoints come from ``OpenAIAudioRoutes``, image
    generation from ``OpenAIImageRoutes`` (queued faults hit it too).
    """

    vendor = "openai"

    def __init__(self, *, api_key: str | None = None, models: list[str] | None = None) -> None:
        super().__init__(api_key=api_key, models=models or list(DEFAULT_MODELS))
        self.model_aliases: dict[str, str] = {}
        self.strict_models = False
        self.embedding_usage = True  # /v1/embeddings answers carry usage (some servers' do not)
        self.requests_left = 499
        self.finish_reason: str | None = None
        self.tool_calls: list[dict[str, Any]] = []
        self._released = asyncio.Event()

    # --- routes -------------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        """``POST /v1/chat/completions``, ``POST /v1/embeddings`` and ``GET /v1/models``."""
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/v1/models", self._models)
        self.add_audio_routes(app)
        self.add_image_routes(app)

    async def stop(self) -> None:
        """Release held requests first so shutdown does not wait for them."""
        self._released.set()
        await super().stop()

    def error_response(self, status: int, message: str, *, kind: str) -> web.Response:
        """OpenAI's error envelope with its ``type``/``code`` for ``kind``."""
        error_type, code = _ERROR_TYPES.get(kind, ("invalid_request_error", None))
        response = self._error(status, message, error_type=error_type, code=code)
        if kind == "rate_limit":
            response.headers.update(rate_limit_headers(requests_left=0, tokens_left=29000))
        return response

    async def apply_fault(
        self, request: web.Request, fault: Fault, params: dict[str, Any]
    ) -> web.StreamResponse | None:
        """As the base, with vendor wording; a held request is released by ``stop()``."""
        if fault is Fault.TIMEOUT:
            await self._hold(params.get("seconds", HOLD_SECONDS))
            return self.error_response(500, SERVER_ERROR_MESSAGE, kind="server_error")
        if fault is Fault.RATE_LIMIT:
            retry_after = params.get("retry_after", 1)
            response = self.error_response(
                429,
                "Rate limit reached for requests in organization org-fake on requests per min "
                f"(RPM): Limit 500, Used 500, Requested 1. Please try again in {retry_after}s. "
                "Visit https://platform.openai.com/account/rate-limits to learn more.",
                kind="rate_limit",
            )
            response.headers.update(retry_headers(params))
            return response
        if fault is Fault.SERVER_ERROR:
            return self.error_response(500, SERVER_ERROR_MESSAGE, kind="server_error")
        if fault is Fault.OVERLOADED:
            return self.error_response(503, OVERLOADED_MESSAGE, kind="overloaded")
        if fault is Fault.AUTH:
            return self._invalid_key("sk-revoked-key-0000")
        return await super().apply_fault(request, fault, params)

    # --- handlers -----------------------------------------------------------------------
    async def _models(self, request: web.Request) -> web.StreamResponse:
        denied = self._check_key(request)
        if denied is not None:
            return denied
        sticky = self.state.sticky_fault
        if sticky is not None:
            answer = await self.apply_fault(request, *sticky)
            if answer is not None:
                return answer
        data = [
            {"id": model, "object": "model", "created": 1_686_935_002, "owned_by": "system"}
            for model in self.state.models
        ]
        return self._json({"object": "list", "data": data})

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        denied = self._check_key(request)
        if denied is not None:
            return denied
        fault = self.next_fault()
        body = self.requests[-1].body
        mid_stream = _mid_stream(fault, body)
        if fault is not None and not mid_stream:
            answer = await self.apply_fault(request, *fault)
            if answer is not None:
                return answer
        invalid = self._invalid(body) or self._unknown_model(body)
        if invalid is not None:
            return invalid
        text = self._reply_text(body)
        if body.get("stream"):
            stall = fault is not None and fault[0] is Fault.STALL_STREAM
            return await self._stream(request, body, text, stall=stall, fail=mid_stream)
        return self._json(self._completion(body, text))

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/embeddings`` (``tests.fakes.embeddings``); queued faults hit it too."""
        denied = self._check_key(request)
        if denied is not None:
            return denied
        fault = self.next_fault()
        if fault is not None:
            answer = await self.apply_fault(request, *fault)
            if answer is not None:
                return answer
        body = self.requests[-1].body
        try:
            payload = openai_embeddings(
                body, known=lambda m: not self.strict_models or m in self.state.models
            )
            if not self.embedding_usage:
                del payload["usage"]
        except Refusal as refused:
            kind = "invalid_request_error"
            return self._error(
                refused.status, refused.message, error_type=kind, code=refused.code,
                param=refused.param,
            )  # fmt: skip
        return self._json(payload)

    # --- request validation -------------------------------------------------------------
    def _unknown_model(self, body: dict[str, Any]) -> web.Response | None:
        """404 ``model_not_found`` for an unlisted model, when ``strict_models`` is on."""
        model = str(body["model"])
        if not self.strict_models or model in self.state.models:
            return None
        return self._error(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            error_type="invalid_request_error",
            code="model_not_found",
        )

    def _invalid(self, body: Any) -> web.Response | None:
        """The 400 the real API answers for a request it refuses, else None."""
        if not isinstance(body, dict):
            return self._bad("We could not parse the JSON body of your request.", None)
        if not body.get("model"):
            return self._bad("you must provide a model parameter", None)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return self._bad("[] is too short - 'messages'", "messages")
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in _ROLES:
                return self._bad(f"Invalid value for 'messages[{index}].role'.", "messages")
        return (
            self._refused_parameter(body) or self._refused_format(body) or self._refused_tools(body)
        )

    def _refused_tools(self, body: dict[str, Any]) -> web.Response | None:
        problem = tool_problem(body)
        return None if problem is None else self._bad(*problem)

    def _calls(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The tool calls the model makes for ``body`` (wire dicts)."""
        script = [*legacy_plans(self.tool_calls), *self.state.tool_script]
        return wire_calls(planned_calls(body, script))

    def _refused_parameter(self, body: dict[str, Any]) -> web.Response | None:
        if not _REASONING_MODEL.match(str(body["model"])):
            return None
        if "max_tokens" in body:
            return self._bad(
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
                "max_tokens",
                code="unsupported_parameter",
            )
        temperature = body.get("temperature")
        if temperature is not None and temperature != 1:
            return self._bad(
                f"Unsupported value: 'temperature' does not support {temperature} with this "
                "model. Only the default (1) value is supported.",
                "temperature",
                code="unsupported_value",
            )
        return None

    def _refused_format(self, body: dict[str, Any]) -> web.Response | None:
        response_format = body.get("response_format") or {}
        kind = response_format.get("type")
        if kind == "json_object" and "json" not in _text_of(body["messages"]).lower():
            return self._bad(
                "'messages' must contain the word 'json' in some form, to use 'response_format' "
                "of type 'json_object'.",
                "messages",
            )
        if kind == "json_schema":
            spec = response_format.get("json_schema") or {}
            if not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", str(spec.get("name", ""))):
                return self._bad(
                    "Invalid 'response_format.json_schema.name': string does not match pattern.",
                    "response_format.json_schema.name",
                    code="invalid_value",
                )
        return None

    # --- answers ------------------------------------------------------------------------
    def _reply_text(self, body: dict[str, Any]) -> str:
        """The configured reply, or JSON built from the requested schema."""
        reply = self.state.reply
        if reply.text != Reply().text:
            return reply.text
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema":
            schema = (response_format.get("json_schema") or {}).get("schema") or {}
            return json.dumps(example_for_schema(schema))
        if response_format.get("type") == "json_object":
            schema = _schema_in_messages(body["messages"]) or {}
            return json.dumps(example_for_schema(schema))
        return reply.text

    def _usage(self, body: dict[str, Any]) -> dict[str, Any]:
        reply = self.state.reply
        completion = min(reply.output_tokens + reply.thinking_tokens, _cap(body))
        return {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": completion,
            "total_tokens": reply.input_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": min(reply.thinking_tokens, completion),
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def _envelope(self, body: dict[str, Any], obj: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": obj,
            "created": int(time.time()),
            "model": self.model_aliases.get(body["model"], body["model"]),
            "service_tier": "default",
            "system_fingerprint": "fp_fake0001",
        }

    def _finish(self, body: dict[str, Any], calls: list[dict[str, Any]]) -> str:
        reply = self.state.reply
        if self.finish_reason:
            return self.finish_reason
        if calls:
            return "tool_calls"
        if reply.output_tokens + reply.thinking_tokens > _cap(body):
            return "length"
        return "stop"

    def _completion(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        calls = self._calls(body)
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if calls else text,
            "refusal": None,
            "annotations": [],
        }
        if calls:
            message["tool_calls"] = calls
        finish = self._finish(body, calls)
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        return {
            **self._envelope(body, "chat.completion"),
            "choices": [choice],
            "usage": self._usage(body),
        }

    async def _stream(
        self, request: web.Request, body: dict[str, Any], text: str, *, stall: bool, fail: bool
    ) -> web.StreamResponse:
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "x-request-id": _request_id(),
                **self._quota_headers(),
            }
        )
        await response.prepare(request)
        envelope = self._envelope(body, "chat.completion.chunk")

        async def send(choices: list[dict[str, Any]], usage: Any = None) -> None:
            chunk = {**envelope, "choices": choices}
            if include_usage:
                chunk["usage"] = usage
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send([_delta({"role": "assistant", "content": "", "refusal": None})])
        calls = self._calls(body)
        for delta in stream_deltas(calls, self.state.reply.chunks):
            await send([_delta(delta)])
        for piece in [] if calls else _split(text, self.state.reply.chunks):
            await send([_delta({"content": piece})])
            if stall:
                await self._hold(HOLD_SECONDS)
                return response
            if fail:
                return await _fail_stream(response)
        await send([_delta({}, finish_reason=self._finish(body, calls))])
        if include_usage:
            await send([], self._usage(body))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    # --- helpers ------------------------------------------------------------------------
    async def _hold(self, seconds: float) -> None:
        """Hang like a stuck upstream until ``seconds`` pass or the fake stops."""
        try:
            await asyncio.wait_for(self._released.wait(), timeout=seconds)
        except TimeoutError:
            return

    def _check_key(self, request: web.Request) -> web.Response | None:
        expected = self.state.api_key
        if expected is None:
            return None
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header.removeprefix("Bearer ").strip():
            return self._error(401, NO_KEY_MESSAGE, error_type="invalid_request_error", code=None)
        sent = header.removeprefix("Bearer ").strip()
        return None if sent == expected else self._invalid_key(sent)

    def _invalid_key(self, sent: str) -> web.Response:
        # OpenAI echoes a masked form of the key it was given.
        masked = f"{sent[:3]}{'*' * max(len(sent) - 7, 0)}{sent[-4:]}" if len(sent) > 7 else "***"
        return self._error(
            401,
            f"Incorrect API key provided: {masked}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            error_type="invalid_request_error",
            code="invalid_api_key",
        )

    def _bad(self, message: str, param: str | None, *, code: str | None = None) -> web.Response:
        return self._error(400, message, error_type="invalid_request_error", code=code, param=param)

    @staticmethod
    def _error(
        status: int,
        message: str,
        *,
        error_type: str,
        code: str | None,
        param: str | None = None,
    ) -> web.Response:
        body = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
        return web.json_response(body, status=status, headers={"x-request-id": _request_id()})

    def _json(self, payload: dict[str, Any]) -> web.Response:
        headers = {"x-request-id": _request_id(), "openai-processing-ms": "42"}
        return web.json_response(payload, headers={**headers, **self._quota_headers()})

    def _quota_headers(self) -> dict[str, str]:
        """The ``x-ratelimit-*`` headers every successful answer carries."""
        return rate_limit_headers(requests_left=self.requests_left, tokens_left=29_983)


def _cap(body: dict[str, Any]) -> int | float:
    """The output token cap the request sets (``max_completion_tokens`` or ``max_tokens``)."""
    cap = body.get("max_completion_tokens", body.get("max_tokens"))
    return cap if isinstance(cap, int) and not isinstance(cap, bool) else float("inf")


def _mid_stream(fault: tuple[Fault, dict[str, Any]] | None, body: Any) -> bool:
    """True when ``fault`` is to strike a streamed answer after its first piece."""
    streaming = isinstance(body, dict) and bool(body.get("stream"))
    return streaming and fault is not None and bool(fault[1].get("mid_stream"))


async def _fail_stream(response: web.StreamResponse) -> web.StreamResponse:
    """End a started stream the way OpenAI does when it fails: an error object as data."""
    error = {"message": SERVER_ERROR_MESSAGE, "type": "server_error", "param": None, "code": None}
    await response.write(f"data: {json.dumps({'error': error})}\n\n".encode())
    await response.write_eof()
    return response


def _delta(delta: dict[str, Any], *, finish_reason: str | None = None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}


def _request_id() -> str:
    return f"req_{uuid.uuid4().hex}"
