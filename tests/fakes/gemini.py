"""A fake of the Gemini Developer API (``generativelanguage.googleapis.com``) on loopback.

Speaks the documented REST wire format the ``google-genai`` SDK uses when its ``base_url`` points
here: ``POST /v1beta/models/{model}:generateContent``, ``POST
/v1beta/models/{model}:streamGenerateContent?alt=sse`` (``data: <GenerateContentResponse>`` events
separated by CRLF CRLF, cumulative ``usageMetadata`` on every event, ``finishReason`` on the last),
``GET /v1beta/models`` (``pageSize`` / ``pageToken`` / ``nextPageToken``) and ``GET
/v1beta/models/{model}``. Errors use Google's body ``{"error": {"code", "message", "status",
"details"}}``; a wrong ``x-goog-api-key`` gets what Google really answers (400
``INVALID_ARGUMENT`` with an ``ErrorInfo`` detail of reason ``API_KEY_INVALID``), a missing one
403 ``PERMISSION_DENIED``.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from tests.fakes.base import FakeServer, Fault, Reply, retry_headers
from tests.fakes.embeddings import Refusal, gemini_batch
from tests.fakes.gemini_audio import audio_problem, heard, is_tts, speech_chunks, with_audio_input
from tests.fakes.gemini_images import image_parts, image_problem, image_usage, wants_image
from tests.fakes.gemini_tools import (
    call_parts,
    config_problem,
    declaration_problem,
    history_problem,
    planned_calls,
    signature_problem,
    signs_calls,
)
from tests.fakes.tools import ToolPlan

API_VERSIONS: Final = ("v1", "v1beta")
DEFAULT_MODELS: Final = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash", "gemma-3-27b-it")
EMBEDDING_METHODS: Final = ["embedContent", "countTextTokens", "countTokens"]
GENERATION_METHODS: Final = ["generateContent", "countTokens", "createCachedContent"]
REQUEST_FIELDS: Final = frozenset(
    {
        "contents",
        "systemInstruction",
        "generationConfig",
        "tools",
        "toolConfig",
        "safetySettings",
        "cachedContent",
        "labels",
        "serviceTier",
        "store",
    }
)
GOOGLE_STATUS: Final[Mapping[int, str]] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
SERVICE: Final = "generativelanguage.googleapis.com"


class GeminiRequestError(Exception):
    """Raised inside a handler to answer a Google error body."""

    def __init__(self, status: int, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []


def google_error(
    status: int, message: str, details: list[dict[str, Any]] | None = None
) -> web.Response:
    """Google's JSON error envelope (``google.rpc.Status``)."""
    body = {
        "error": {
            "code": status,
            "message": message,
            "status": GOOGLE_STATUS.get(status, "UNKNOWN"),
            **({"details": details} if details else {}),
        }
    }
    return web.json_response(body, status=status, content_type="application/json")


def error_info(reason: str, **metadata: str) -> dict[str, Any]:
    """A ``google.rpc.ErrorInfo`` detail."""
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": SERVICE, **metadata},
    }


def retry_info(seconds: float) -> dict[str, Any]:
    """A ``google.rpc.RetryInfo`` detail (``retryDelay`` is a JSON ``Duration`` such as "7s")."""
    delay = f"{seconds:g}s"
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}


def example_from_schema(schema: Any) -> Any:
    """A minimal instance of a JSON schema or of Gemini's OpenAPI-style ``Schema``."""
    if not isinstance(schema, Mapping):
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    kind = str(kind).lower()
    if kind == "object":
        properties = schema.get("properties", {})
        required = schema.get("required", list(properties))
        return {name: example_from_schema(properties.get(name, {})) for name in required}
    if kind == "array":
        return [example_from_schema(schema["items"])] if "items" in schema else []
    return {"string": "example", "integer": 0, "number": 0.0, "boolean": False}.get(kind)


def display_name(model: str) -> str:
    """A display name in Google's style ("gemini-2.5-flash" -> "Gemini 2.5 Flash")."""
    return " ".join(part.capitalize() for part in model.split("-"))


class FakeGemini(FakeServer):
    """The Gemini API. ``aliases`` maps a requested model to the ``modelVersion`` answered.

    ``script_tools`` (or ``tool_call``, one (name, args)) makes the model answer requests that
    declare those functions with ``functionCall`` parts instead of text (``gemini_tools``).
    ``block_reason`` (e.g. "SAFETY") blocks every prompt: no candidates, only
    ``promptFeedback``. ``default_page_size`` is the page size used when the client sends no
    ``pageSize`` (Google's default is 50). Gemma models refuse a system instruction and JSON
    mode, as on the real API. A fault set with ``fail_always`` also hits the model routes (list
    and get). Image models answer with a picture (``gemini_images``) after ``image_caption``
    (when not empty); ``image_block`` (e.g. "IMAGE_SAFETY") refuses every picture. Audio input
    and the TTS models: ``gemini_audio``.
    """

    vendor = "gemini"

    def __init__(self, *, api_key: str | None = None, models: list[str] | None = None) -> None:
        super().__init__(api_key=api_key, models=models)
        self.aliases: dict[str, str] = {}
        self.tool_call: tuple[str, dict[str, Any]] | None = None
        self.signatures: set[bytes] = set()  # thought signatures given out (Gemini 3)
        self.block_reason: str | None = None
        self.default_page_size = 50
        self.embedding_usage = True  # batchEmbedContents answers carry usageMetadata
        self.image_caption = "Here is the picture you asked for."
        self.image_block: str | None = None
        self._ids = itertools.count(1)
        self._release = asyncio.Event()

    def reset(self) -> None:
        """Also forget aliases, the scripted tool call and the prompt block."""
        super().reset()
        self.aliases.clear()
        self.tool_call = None
        self.block_reason = None
        self.default_page_size = 50
        self.image_block = None

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self, port: int = 0) -> FakeGemini:
        """Listen on loopback; hung requests are released when the fake stops."""
        self._release = asyncio.Event()
        await super().start(port)
        return self

    async def stop(self) -> None:
        """Release hung handlers (timeouts, stalled streams), then stop listening."""
        self._release.set()
        await super().stop()

    # --- routes -------------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        """``/{v1,v1beta}/models`` and ``/{v1,v1beta}/models/{model}[:method]``."""
        for version in API_VERSIONS:
            app.router.add_get(f"/{version}/models", self._list_models)
            app.router.add_get(f"/{version}/models/{{model}}", self._get_model)
            app.router.add_post(f"/{version}/models/{{target}}", self._model_method)

    def error_response(self, status: int, message: str, *, kind: str) -> web.Response:
        """Google's error body for ``status``, with the details Google attaches."""
        details: list[dict[str, Any]] = []
        if kind == "rate_limit":
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": f"{SERVICE}/generate_content_free_tier_requests",
                            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        }
                    ],
                },
                {
                    "@type": "type.googleapis.com/google.rpc.Help",
                    "links": [
                        {
                            "description": "Learn more about Gemini API quotas",
                            "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                        }
                    ],
                },
            ]
        elif kind == "auth":
            details = [error_info("ACCESS_TOKEN_TYPE_UNSUPPORTED")]
        return google_error(status, message, details)

    async def apply_fault(
        self, request: web.Request, fault: Fault, params: dict[str, Any]
    ) -> web.StreamResponse | None:
        """Google's flavour of the faults: 429 carries ``RetryInfo``; hangs end at ``stop()``."""
        if fault is Fault.RATE_LIMIT:
            return self._rate_limited(params)
        if fault is Fault.OVERLOADED:
            return google_error(503, "The model is overloaded. Please try again later.")
        if fault is Fault.TIMEOUT:
            await self._hang(params.get("seconds", 3600))
            return google_error(504, "Deadline expired before operation could complete.")
        return await super().apply_fault(request, fault, params)

    def _rate_limited(self, params: dict[str, Any]) -> web.Response:
        """429 ``RESOURCE_EXHAUSTED`` with ``RetryInfo`` and the headers of ``retry_headers``.

        ``RetryInfo.retryDelay`` is ``retry_delay``, else a numeric ``retry_after``;
        ``header=False`` sends no wait header at all.
        """
        response = self.error_response(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            kind="rate_limit",
        )
        delay = params.get("retry_delay", params.get("retry_after", 1))
        if isinstance(delay, int | float):
            body = json.loads(response.text or "{}")
            body["error"]["details"].append(retry_info(delay))
            response.text = json.dumps(body)
        if params.get("header", True):
            response.headers.update(retry_headers(params))
        return response

    async def _sticky(self, request: web.Request) -> web.StreamResponse | None:
        """A fault set with ``fail_always`` hits the model routes too (queued ones do not)."""
        sticky = self.state.sticky_fault
        return None if sticky is None else await self.apply_fault(request, *sticky)

    # --- handlers -----------------------------------------------------------------------
    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._check_key(request)) is not None:
            return denied
        if (faulty := await self._sticky(request)) is not None:
            return faulty
        names = self.state.models or list(DEFAULT_MODELS)
        try:
            size = int(request.query.get("pageSize") or self.default_page_size)
            offset = _decode_token(request.query.get("pageToken", ""))
        except ValueError:
            return google_error(400, "Invalid page token or page size.")
        page = names[offset : offset + size]
        body: dict[str, Any] = {"models": [self._model_resource(name) for name in page]}
        if offset + size < len(names):
            body["nextPageToken"] = _encode_token(offset + size)
        return web.json_response(body)

    async def _get_model(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._check_key(request)) is not None:
            return denied
        if (faulty := await self._sticky(request)) is not None:
            return faulty
        model = request.match_info["model"]
        if self.state.models and model not in self.state.models:
            return google_error(404, f"models/{model} is not found for API version v1beta")
        return web.json_response(self._model_resource(model))

    async def _model_method(self, request: web.Request) -> web.StreamResponse:
        model, _, method = request.match_info["target"].partition(":")
        if method == "batchEmbedContents":
            return await self._batch_embed(request, model)
        if method not in ("generateContent", "streamGenerateContent"):
            return google_error(404, f"Method {method!r} not found.")
        if (denied := self._check_key(request)) is not None:
            return denied
        streaming = method == "streamGenerateContent"
        fault = self.next_fault()
        # A fault with mid_stream=True (e.g. SERVER_ERROR) is sent as an SSE error event.
        mid_stream = streaming and fault is not None and bool(fault[1].get("mid_stream"))
        if fault is not None and not mid_stream:
            fault_response = await self._act_out(request, fault, streaming=streaming)
            if fault_response is not None:
                return fault_response
        try:
            body = await request.json()
            self._validate(model, body)
        except GeminiRequestError as err:
            return google_error(err.status, err.message, err.details)
        except ValueError:
            return google_error(400, "Invalid JSON payload received.")
        stall = fault is not None and fault[0] is Fault.STALL_STREAM
        if streaming and request.query.get("alt") == "sse":
            error = _stream_error(fault[0]) if mid_stream and fault is not None else None
            return await self._stream(request, model, body, stall=stall, error=error)
        if streaming:
            # Without alt=sse Google streams one JSON array; the SDK always asks for SSE.
            return web.json_response(self._chunks(model, body))
        return web.json_response(self._response(model, body))

    async def _batch_embed(self, request: web.Request, model: str) -> web.StreamResponse:
        """``models/{model}:batchEmbedContents`` (``tests.fakes.embeddings``)."""
        if (denied := self._check_key(request)) is not None:
            return denied
        fault = self.next_fault()
        if fault is not None and (answer := await self.apply_fault(request, *fault)) is not None:
            return answer
        try:
            body = await request.json()
            return web.json_response(gemini_batch(model, body, usage=self.embedding_usage))
        except Refusal as refused:
            return google_error(refused.status, refused.message)
        except ValueError:
            return google_error(400, "Invalid JSON payload received.")

    async def _act_out(
        self, request: web.Request, fault: tuple[Fault, dict[str, Any]], *, streaming: bool
    ) -> web.StreamResponse | None:
        kind, params = fault
        if kind is Fault.STALL_STREAM:
            return None
        if kind is Fault.MALFORMED and streaming:
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            await response.write(b'data: {"candidates": [{"content": {"parts": [{"te\r\n\r\n')
            await response.write_eof()
            return response
        return await self.apply_fault(request, kind, params)

    # --- key check ----------------------------------------------------------------------
    def _check_key(self, request: web.Request) -> web.Response | None:
        expected = self.state.api_key
        if expected is None:
            return None
        given = request.headers.get("x-goog-api-key") or request.query.get("key")
        if not given:
            return google_error(
                403,
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
                [error_info("CONSUMER_INVALID")],
            )
        if given != expected:
            message = "API key not valid. Please pass a valid API key."
            return google_error(
                400,
                message,
                [
                    error_info("API_KEY_INVALID"),
                    {
                        "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                        "locale": "en-US",
                        "message": message,
                    },
                ],
            )
        return None

    # --- request validation (what the real API refuses) --------------------------------
    def _validate(self, model: str, body: Any) -> None:
        if not isinstance(body, dict):
            raise GeminiRequestError(400, "Invalid JSON payload received.")
        unknown = sorted(set(body) - REQUEST_FIELDS)
        if unknown:
            raise GeminiRequestError(
                400,
                f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.',
            )
        if self.state.models and model not in self.state.models and model not in self.aliases:
            raise GeminiRequestError(
                404,
                f"models/{model} is not found for API version v1beta, or is not supported for "
                "generateContent. Call ListModels to see the list of available models and their "
                "supported methods.",
            )
        contents = body.get("contents")
        if not contents:
            raise GeminiRequestError(
                400, "* GenerateContentRequest.contents: contents is not specified\n"
            )
        for content in contents:
            if content.get("role", "user") not in ("user", "model"):
                raise GeminiRequestError(400, "Please use a valid role: user, model.")
            if not content.get("parts"):
                raise GeminiRequestError(
                    400,
                    "* GenerateContentRequest.contents.parts: contents.parts must not be empty.",
                )
        config = body.get("generationConfig", {})
        if model.startswith("gemma") and "systemInstruction" in body:
            raise GeminiRequestError(
                400, f"Developer instruction is not enabled for models/{model}"
            )
        if model.startswith("gemma") and config.get("responseMimeType") == "application/json":
            raise GeminiRequestError(400, f"JSON mode is not enabled for models/{model}")
        if "responseSchema" in config and "responseJsonSchema" in config:
            raise GeminiRequestError(
                400, "responseSchema and responseJsonSchema cannot both be set."
            )
        wants_schema = "responseSchema" in config or "responseJsonSchema" in config
        if wants_schema and config.get("responseMimeType") != "application/json":
            raise GeminiRequestError(
                400,
                "* GenerateContentRequest.generation_config.response_mime_type: must be "
                "application/json when a response schema is set.\n",
            )
        self._validate_tools(model, body)
        problem = image_problem(model, body) or audio_problem(model, body)
        if problem is not None:
            raise GeminiRequestError(400, problem)

    def _validate_tools(self, model: str, body: Mapping[str, Any]) -> None:
        """Declarations, the calling config and results against calls (``gemini_tools``)."""
        contents = body["contents"]
        problem = declaration_problem(body) or config_problem(body) or history_problem(contents)
        if problem is None and signs_calls(model):
            problem = signature_problem(contents, self.signatures)
        if problem is not None:
            raise GeminiRequestError(400, problem)

    # --- answers ------------------------------------------------------------------------
    def _reply_text(self, body: Mapping[str, Any]) -> str:
        reply = self.state.reply
        config = body.get("generationConfig", {})
        if config.get("responseMimeType") == "application/json" and reply.text == Reply().text:
            schema = config.get("responseJsonSchema") or config.get("responseSchema") or {}
            return json.dumps(example_from_schema(schema) if schema else {})
        said, _seconds = heard(body)
        if said is not None and reply.text == Reply().text:
            return said
        return reply.text

    def _calls(self, model: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The ``functionCall`` parts the model answers with (none: a text answer)."""
        legacy = [ToolPlan(*self.tool_call)] if self.tool_call is not None else []
        plans = planned_calls(body, [*legacy, *self.state.tool_script])
        return call_parts(plans, model, self.signatures)

    def _finish_and_output(self, body: Mapping[str, Any]) -> tuple[str, int]:
        reply = self.state.reply
        limit = body.get("generationConfig", {}).get("maxOutputTokens")
        if limit is not None and reply.output_tokens + reply.thinking_tokens > limit:
            return "MAX_TOKENS", max(limit - reply.thinking_tokens, 0)
        return "STOP", reply.output_tokens

    def _usage(self, output_tokens: int, *, final: bool = True) -> dict[str, Any]:
        reply = self.state.reply
        usage: dict[str, Any] = {
            "promptTokenCount": reply.input_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": reply.input_tokens + output_tokens + reply.thinking_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": reply.input_tokens}],
        }
        if reply.thinking_tokens:
            usage["thoughtsTokenCount"] = reply.thinking_tokens
        if not final and not output_tokens:
            del usage["candidatesTokenCount"]
        return usage

    def _envelope(
        self, model: str, parts: list[dict[str, Any]], usage: dict[str, Any], finish: str | None
    ) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish is not None:
            candidate["finishReason"] = finish
        return {
            "candidates": [candidate],
            "usageMetadata": usage,
            "modelVersion": self.aliases.get(model, model),
            "responseId": f"fakeGemini{next(self._ids):06d}",
        }

    def _blocked(self, model: str) -> dict[str, Any]:
        reply = self.state.reply
        return {
            "promptFeedback": {
                "blockReason": self.block_reason,
                "safetyRatings": [
                    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}
                ],
            },
            "usageMetadata": {
                "promptTokenCount": reply.input_tokens,
                "totalTokenCount": reply.input_tokens,
            },
            "modelVersion": self.aliases.get(model, model),
            "responseId": f"fakeGemini{next(self._ids):06d}",
        }

    def _picture(self, model: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """An image model's answer: the caption and the picture, or ``image_block``."""
        reply = self.state.reply
        if self.image_block:
            return {
                "candidates": [{"finishReason": self.image_block, "index": 0}],
                "usageMetadata": image_usage(model, body, reply.input_tokens, 0, drawn=False),
                "modelVersion": self.aliases.get(model, model),
                "responseId": f"fakeGemini{next(self._ids):06d}",
            }
        parts = image_parts(model, body, self.image_caption)
        text_tokens = reply.output_tokens if self.image_caption else 0
        usage = image_usage(model, body, reply.input_tokens, text_tokens)
        return self._envelope(model, parts, usage, "STOP")

    def _response(self, model: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if self.block_reason:
            return self._blocked(model)
        if wants_image(model, body):
            return self._picture(model, body)
        if is_tts(model):
            return speech_chunks(model, body, self._envelope, 1)[0]
        finish, output_tokens = self._finish_and_output(body)
        parts = self._calls(model, body) or [{"text": self._reply_text(body)}]
        usage = with_audio_input(body, self._usage(output_tokens))
        return self._envelope(model, parts, usage, finish)

    def _chunks(self, model: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        if self.block_reason:
            return [self._blocked(model)]
        if wants_image(model, body):  # a picture comes whole, in one event
            return [self._picture(model, body)]
        if is_tts(model):
            return speech_chunks(model, body, self._envelope, self.state.reply.chunks)
        finish, output_tokens = self._finish_and_output(body)
        calls = self._calls(model, body)
        if calls:  # Gemini sends a turn's calls whole, in one chunk
            return [self._envelope(model, calls, self._usage(output_tokens), finish)]
        pieces = _split(self._reply_text(body), self.state.reply.chunks)
        chunks = []
        for index, piece in enumerate(pieces, start=1):
            last = index == len(pieces)
            # Usage is a running total on every event, complete on the last one.
            so_far = output_tokens if last else output_tokens * index // len(pieces)
            usage = with_audio_input(body, self._usage(so_far, final=last))
            chunks.append(self._envelope(model, [{"text": piece}], usage, finish if last else None))
        return chunks

    async def _stream(
        self,
        request: web.Request,
        model: str,
        body: Mapping[str, Any],
        *,
        stall: bool,
        error: dict[str, Any] | None = None,
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        for chunk in self._chunks(model, body):
            await response.write(f"data: {json.dumps(chunk)}\r\n\r\n".encode())
            if stall:
                await self._hang(3600)
            if error is not None:
                await response.write(f"data: {json.dumps(error)}\r\n\r\n".encode())
                break
        await response.write_eof()
        return response

    async def _hang(self, seconds: float) -> None:
        """Hold the request, but never past ``stop()`` (so test teardown stays fast)."""
        try:
            async with asyncio.timeout(seconds):
                await self._release.wait()
        except TimeoutError:
            return

    def _model_resource(self, model: str) -> dict[str, Any]:
        embedding = "embedding" in model
        resource: dict[str, Any] = {
            "name": f"models/{model}",
            "version": "001",
            "displayName": display_name(model),
            "description": f"Fake {display_name(model)}",
            "inputTokenLimit": 2048 if embedding else 1048576,
            "outputTokenLimit": 1 if embedding else 65536,
            "supportedGenerationMethods": EMBEDDING_METHODS if embedding else GENERATION_METHODS,
        }
        if not embedding:
            resource |= {"temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2}
        return resource


def _stream_error(fault: Fault) -> dict[str, Any]:
    """The error event Google sends when a stream fails after it started."""
    if fault is Fault.OVERLOADED:
        code, message = 503, "The model is overloaded. Please try again later."
    else:
        code, message = 500, "An internal error has occurred. Please retry or report it."
    return {"error": {"code": code, "message": message, "status": GOOGLE_STATUS[code]}}


def _validate_inline_data(part: Mapping[str, Any]) -> None:
    """Inline data needs a MIME type and base64 bytes (proto JSON takes either field casing)."""
    blob = part.get("inlineData") or part.get("inline_data")
    if blob is None:
        return
    if not (blob.get("mimeType") or blob.get("mime_type")):
        raise GeminiRequestError(
            400, "* GenerateContentRequest.contents.parts.inline_data.mime_type: required"
        )
    try:
        data = str(blob.get("data", "")).replace("-", "+").replace("_", "/")
        base64.b64decode(data, validate=True)
    except ValueError as err:
        raise GeminiRequestError(
            400,
            "Invalid value at 'contents.parts.inline_data.data' (TYPE_BYTES), "
            "Base64 decoding failed",
        ) from err


def _split(text: str, pieces: int) -> list[str]:
    pieces = max(1, min(pieces, len(text) or 1))
    size = -(-len(text) // pieces) if text else 1
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_token(token: str) -> int:
    if not token:
        return 0
    prefix, _, offset = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
    if prefix != "offset":
        raise ValueError(token)
    return int(offset)
