"""A local Anthropic API: ``POST /v1/messages`` (JSON and SSE) and ``GET /v1/models``.

It follows the documented wire format closely enough that the official SDK cannot tell it
apart from the real service: ``request-id`` headers, the ``{"type": "error", "error": {...}}``
body with 529 for ``overloaded_error``, the SSE event sequence (``message_start``,
``content_block_start``, ``ping``, ``content_block_delta``, ``content_block_stop``,
``message_delta`` with cumulative usage, ``message_stop``) and ``event: error`` mid-stream.
Requests are validated the way the API does (auth, ``anthropic-version``, unknown fields,
content blocks), so a provider that sends the wrong shape gets the vendor's 400.

Without ``models`` it lists a default catalogue and answers any model; with ``models`` it
answers 404 ``not_found_error`` for others. Aliases resolve to their dated snapshot in the
``model`` the answer reports.

Steering beyond the base:

- ``fail_next(Fault.OVERLOADED, mid_stream=True)`` (any HTTP fault works): a streamed answer
  sends one chunk and then ``event: error``;
- ``fail_next(Fault.MALFORMED, valid_json=True)``: valid JSON that lacks the message fields;
- ``tool_uses`` (a list of ``(name, input)``): the model calls those client tools when the
  request offers them;
- ``requests_left``: what ``anthropic-ratelimit-requests-remaining`` says. Every answer of
  ``/v1/messages`` (successful or 429) carries the documented ``anthropic-ratelimit-*`` headers.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from aiohttp import web

from tests.fakes.anthropic_tools import (
    choice_problem,
    history_problem,
    legacy_plans,
    name_problem,
    planned_calls,
    tool_use_blocks,
)
from tests.fakes.base import FakeServer, Fault, Reply
from tests.fakes.tools import ToolPlan

API_VERSION_HEADER: Final = "anthropic-version"
DEFAULT_PAGE_SIZE: Final = 20
# Listed when the test names no models (newest first, as the API lists them).
DEFAULT_MODELS: Final = (
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-1-20250805",
    "claude-3-haiku-20240307",
)
IMAGE_MEDIA_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})

# The top-level fields of the Messages API at the version the SDK pins; anything else is a 400.
MESSAGE_FIELDS: Final = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "stop_sequences",
        "stream",
        "tools",
        "tool_choice",
        "metadata",
        "thinking",
        "service_tier",
        "output_config",
        "cache_control",
        "container",
        "diagnostics",
        "inference_geo",
        "speed",
    }
)

# hint (base ``kind`` or the vendor's own error type) -> (status, error.type)
ERROR_KINDS: Final[Mapping[str, tuple[int, str]]] = {
    "bad_request": (400, "invalid_request_error"),
    "invalid_request_error": (400, "invalid_request_error"),
    "auth": (401, "authentication_error"),
    "authentication_error": (401, "authentication_error"),
    "permission_error": (403, "permission_error"),
    "not_found_error": (404, "not_found_error"),
    "request_too_large": (413, "request_too_large"),
    "rate_limit": (429, "rate_limit_error"),
    "rate_limit_error": (429, "rate_limit_error"),
    "server_error": (500, "api_error"),
    "api_error": (500, "api_error"),
    "overloaded": (529, "overloaded_error"),
    "overloaded_error": (529, "overloaded_error"),
}


class RefusedError(Exception):
    """A request the real API would refuse: its message and error kind."""

    def __init__(self, message: str, *, kind: str = "bad_request") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


class FakeAnthropic(FakeServer):
    """Anthropic's Messages and Models API on loopback, with fault injection."""

    vendor = "anthropic"

    def __init__(self, *, api_key: str | None = None, models: list[str] | None = None) -> None:
        super().__init__(api_key=api_key, models=models or list(DEFAULT_MODELS))
        # Only a catalogue the test chose is enforced (404 for other models).
        self.strict_models = bool(models)
        self._ids = itertools.count(1)
        self._inflight: set[asyncio.Task[Any]] = set()
        self.tool_uses: list[tuple[str, dict[str, Any]]] = []
        self.requests_left = 49
        self.app.middlewares.append(self._track_middleware)

    # --- routes -------------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        """``POST /v1/messages``, ``GET /v1/models`` and ``GET /v1/models/{model_id}``."""
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/v1/models/{model_id}", self._get_model)

    def error_response(self, status: int, message: str, *, kind: str) -> web.Response:
        """Anthropic's error body; ``overloaded`` is always 529, as the API sends it."""
        status, error_type = ERROR_KINDS.get(kind, (status, "api_error"))
        request_id = self._request_id()
        body = {
            "type": "error",
            "error": {"type": error_type, "message": message},
            "request_id": request_id,
        }
        headers = {"request-id": request_id}
        if error_type == "rate_limit_error":
            headers |= rate_limit_headers(requests_left=0)
        return web.json_response(body, status=status, headers=headers)

    def reset(self) -> None:
        """Forget faults, requests and planned tool calls; restore the default reply."""
        super().reset()
        self.tool_uses.clear()

    async def stop(self) -> None:
        """Release handlers that hang on purpose (stalls, timeouts), then stop listening."""
        for task in list(self._inflight):
            task.cancel()
        await super().stop()

    # --- POST /v1/messages --------------------------------------------------------------
    async def _messages(self, request: web.Request) -> web.StreamResponse:
        try:
            self._check_headers(request)
            body = await _json_body(request)
        except RefusedError as problem:
            return self.error_response(400, problem.message, kind=problem.kind)
        fault = self.next_fault()
        streaming = body.get("stream") is True
        if fault is not None and fault[0] is Fault.MALFORMED and fault[1].get("valid_json"):
            return web.json_response({"id": "msg_fake", "type": "message", "role": "assistant"})
        if fault is not None and not (streaming and _acts_mid_stream(*fault)):
            early = await self.apply_fault(request, *fault)
            if early is not None:
                return early
        try:
            validate_message_request(body)
            model = self._resolve_model(str(body["model"]))
        except RefusedError as problem:
            return self.error_response(400, problem.message, kind=problem.kind)
        message = self._message(body, model)
        if not streaming:
            return web.json_response(message, headers=self._answer_headers())
        if fault is None:
            return await self._stream(request, message)
        if fault[0] is Fault.STALL_STREAM:
            return await self._stream(request, message, stall=True)
        return await self._stream(request, message, error=_error_type(fault[0]))

    def _message(self, body: Mapping[str, Any], model: str) -> dict[str, Any]:
        """The full Message object answering ``body``."""
        reply = self.state.reply
        script = [*legacy_plans(self.tool_uses), *self.state.tool_script]
        content, stop_reason, stop_sequence = _content(body, reply, script)
        output_tokens = reply.output_tokens + reply.thinking_tokens
        max_tokens = int(body["max_tokens"])
        if output_tokens > max_tokens and stop_reason != "tool_use":
            stop_reason, stop_sequence, output_tokens = "max_tokens", None, max_tokens
        usage: dict[str, Any] = {
            "input_tokens": reply.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": output_tokens,
            "service_tier": "standard",
        }
        if reply.thinking_tokens:
            usage["output_tokens_details"] = {"thinking_tokens": reply.thinking_tokens}
        return {
            "id": f"msg_fake{next(self._ids):016d}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": usage,
        }

    async def _stream(
        self,
        request: web.Request,
        message: dict[str, Any],
        *,
        stall: bool = False,
        error: str | None = None,
    ) -> web.StreamResponse:
        """Send ``message`` as the documented SSE event sequence."""
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                **self._answer_headers(),
            }
        )
        await response.prepare(request)
        for name, data in stream_events(message, chunks=self.state.reply.chunks):
            await response.write(sse(name, data))
            if name != "content_block_delta":
                continue
            if stall:
                await asyncio.Event().wait()  # released by cancellation in ``stop``
            if error is not None:
                detail = {"type": error, "message": "Overloaded" if "overload" in error else error}
                await response.write(sse("error", {"type": "error", "error": detail}))
                break
        await response.write_eof()
        return response

    # --- GET /v1/models -----------------------------------------------------------------
    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        early = await self._model_route_checks(request)
        if early is not None:
            return early
        try:
            page, has_more = _page(self.state.models, request.query)
        except RefusedError as problem:
            return self.error_response(400, problem.message, kind=problem.kind)
        data = [model_entry(model_id) for model_id in page]
        body = {
            "data": data,
            "has_more": has_more,
            "first_id": page[0] if page else None,
            "last_id": page[-1] if page else None,
        }
        return web.json_response(body, headers={"request-id": self._request_id()})

    async def _get_model(self, request: web.Request) -> web.StreamResponse:
        early = await self._model_route_checks(request)
        if early is not None:
            return early
        model_id = request.match_info["model_id"]
        if model_id not in self.state.models:
            return self.error_response(404, f"model: {model_id}", kind="not_found_error")
        return web.json_response(model_entry(model_id), headers={"request-id": self._request_id()})

    async def _model_route_checks(self, request: web.Request) -> web.StreamResponse | None:
        """Headers, then a sticky fault (queued faults are for generation requests)."""
        try:
            self._check_headers(request)
        except RefusedError as problem:
            return self.error_response(400, problem.message, kind=problem.kind)
        sticky = self.state.sticky_fault
        if sticky is None:
            return None
        return await self.apply_fault(request, *sticky)

    # --- helpers ------------------------------------------------------------------------
    def _check_headers(self, request: web.Request) -> None:
        """The API key (``x-api-key`` or a bearer token, as the SDK sends it) and the version."""
        headers = request.headers
        key = headers.get("x-api-key")
        authorization = headers.get("Authorization", "")
        if key is None and authorization.startswith("Bearer "):
            key = authorization.removeprefix("Bearer ")
        if self.state.api_key is not None:
            if not key:
                raise RefusedError("x-api-key header is required", kind="auth")
            if key != self.state.api_key:
                raise RefusedError("invalid x-api-key", kind="auth")
        if not headers.get(API_VERSION_HEADER):
            raise RefusedError(f"{API_VERSION_HEADER}: header is required")

    def _resolve_model(self, requested: str) -> str:
        """The model id the API reports: an alias resolves to its dated snapshot."""
        if requested in self.state.models:
            return requested
        for model_id in self.state.models:
            if model_id.startswith(f"{requested}-"):
                return model_id
        if self.strict_models:
            raise RefusedError(f"model: {requested}", kind="not_found_error")
        return requested

    def _request_id(self) -> str:
        return f"req_fake{next(self._ids):020d}"

    def _answer_headers(self) -> dict[str, str]:
        """A successful answer's headers: its request id and the rate-limit state."""
        return {
            "request-id": self._request_id(),
            **rate_limit_headers(requests_left=self.requests_left),
        }

    @web.middleware
    async def _track_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            if task is not None:
                self._inflight.discard(task)


def rate_limit_headers(*, requests_left: int) -> dict[str, str]:
    """The ``anthropic-ratelimit-*`` headers: limits, what is left, resets as RFC 3339 times."""
    soon = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
    reset = soon.isoformat().replace("+00:00", "Z")
    state = {
        "requests": (50, requests_left),
        "tokens": (80_000, 79_000),
        "input-tokens": (40_000, 39_000),
        "output-tokens": (40_000, 40_000),
    }
    headers: dict[str, str] = {}
    for kind, (limit, remaining) in state.items():
        headers[f"anthropic-ratelimit-{kind}-limit"] = str(limit)
        headers[f"anthropic-ratelimit-{kind}-remaining"] = str(remaining)
        headers[f"anthropic-ratelimit-{kind}-reset"] = reset
    return headers


# --- request validation (the API's 400s) ------------------------------------------------
async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read())
    except ValueError as err:
        raise RefusedError(f"Request body is not valid JSON: {err}") from err
    if not isinstance(body, dict):
        raise RefusedError("Request body must be a JSON object")
    return body


def validate_message_request(body: Mapping[str, Any]) -> None:
    """Raise ``RefusedError`` where the real API answers 400 ``invalid_request_error``."""
    for key in body:
        if key not in MESSAGE_FIELDS:
            raise RefusedError(f"{key}: Extra inputs are not permitted")
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            raise RefusedError(f"{key}: Field required")
    max_tokens = body["max_tokens"]
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 0:
        raise RefusedError("max_tokens: Input should be a valid integer")
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        raise RefusedError("messages: at least one message is required")
    for index, message in enumerate(messages):
        _validate_message(f"messages.{index}", message)
    _validate_system(body.get("system"))
    stops = body.get("stop_sequences", [])
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise RefusedError("stop_sequences: Input should be a valid list of strings")
    _validate_tools(body.get("tools", []), body.get("tool_choice"))
    _validate_tool_use(body)


def _validate_tool_use(body: Mapping[str, Any]) -> None:
    """Tool names, the tool choice and results against calls (``anthropic_tools``)."""
    names = (name_problem(i, t) for i, t in enumerate(body.get("tools", [])))
    problem = next((p for p in names if p), None)
    problem = problem or choice_problem(body) or history_problem(body["messages"])
    if problem is not None:
        raise RefusedError(problem)


def _validate_message(path: str, message: Any) -> None:
    if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
        raise RefusedError(f"{path}.role: Input should be 'user' or 'assistant'")
    content = message.get("content")
    if isinstance(content, str):
        return
    if not isinstance(content, list) or not content:
        raise RefusedError(f"{path}.content: Input should be a valid string or list of blocks")
    for index, block in enumerate(content):
        _validate_block(f"{path}.content.{index}", block, role=message["role"])


def _validate_block(path: str, block: Any, *, role: str) -> None:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text":
        if not isinstance(block.get("text"), str) or not block["text"]:
            raise RefusedError(f"{path}.text: text content blocks must be non-empty")
    elif kind == "image":
        if role != "user":
            raise RefusedError(f"{path}: image blocks are only allowed in user messages")
        _validate_image_source(f"{path}.image.source", block.get("source"))
    elif kind == "tool_use":
        if not block.get("id") or not block.get("name") or not isinstance(block.get("input"), dict):
            raise RefusedError(f"{path}.tool_use: id, name and input are required")
    elif kind == "tool_result":
        if not block.get("tool_use_id"):
            raise RefusedError(f"{path}.tool_result.tool_use_id: Field required")
    else:
        raise RefusedError(f"{path}.type: Input tag {kind!r} does not match any expected tag")


def _validate_image_source(path: str, source: Any) -> None:
    if not isinstance(source, dict) or source.get("type") != "base64":
        raise RefusedError(f"{path}.type: Input should be 'base64'")
    if source.get("media_type") not in IMAGE_MEDIA_TYPES:
        raise RefusedError(
            f"{path}.base64.media_type: Input should be 'image/jpeg', 'image/png', "
            "'image/gif' or 'image/webp'"
        )
    try:
        base64.b64decode(str(source.get("data", "")), validate=True)
    except (binascii.Error, ValueError) as err:
        raise RefusedError(f"{path}.base64.data: The image data is not valid base64") from err


def _validate_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list) or not all(
        isinstance(b, dict) and b.get("type") == "text" and b.get("text") for b in system
    ):
        raise RefusedError("system: Input should be a valid string or list of text blocks")


def _validate_tools(tools: Any, tool_choice: Any) -> None:
    if not isinstance(tools, list):
        raise RefusedError("tools: Input should be a valid list")
    names = set()
    for index, tool in enumerate(tools):
        schema = tool.get("input_schema") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or not tool.get("name"):
            raise RefusedError(f"tools.{index}.custom.name: Field required")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            raise RefusedError(f"tools.{index}.custom.input_schema.type: Input should be 'object'")
        names.add(tool["name"])
    forced = tool_choice.get("name") if isinstance(tool_choice, dict) else None
    if isinstance(tool_choice, dict) and tool_choice.get("type") == "tool" and forced not in names:
        raise RefusedError(f"tool_choice.tool.name: Tool '{forced}' not found in tools")


# --- answers ----------------------------------------------------------------------------
def _content(
    body: Mapping[str, Any], reply: Reply, script: list[ToolPlan]
) -> tuple[list[dict[str, Any]], str, Any]:
    """Content blocks, stop reason and matched stop sequence for a successful answer."""
    choice = body.get("tool_choice")
    tools = body.get("tools", [])
    forced = choice.get("name") if isinstance(choice, dict) and choice["type"] == "tool" else None
    if forced is not None and all(plan.name != forced for plan in script):
        # Forced without a scripted call (e.g. structured output): the input from the reply.
        tool = next(t for t in tools if t["name"] == forced)
        return _forced_tool_content(tool, reply)
    calls = tool_use_blocks(planned_calls(body, script))
    if calls:
        return calls, "tool_use", None
    text, matched = _apply_stop_sequences(reply.text, body.get("stop_sequences", []))
    stop_reason = "stop_sequence" if matched is not None else "end_turn"
    return [{"type": "text", "text": text}], stop_reason, matched


def _forced_tool_content(
    tool: Mapping[str, Any], reply: Reply
) -> tuple[list[dict[str, Any]], str, Any]:
    """The forced tool call; an explicit ``reply.text`` that is no JSON object stays text."""
    tool_input: Any = minimal_instance(tool["input_schema"])
    if reply.text != Reply().text:
        try:
            tool_input = json.loads(reply.text)
        except ValueError:
            tool_input = None
        if not isinstance(tool_input, dict):
            return [{"type": "text", "text": reply.text}], "end_turn", None
    block = {"type": "tool_use", "id": "toolu_fake0001", "name": tool["name"], "input": tool_input}
    return [block], "tool_use", None


def _apply_stop_sequences(text: str, stops: list[str]) -> tuple[str, str | None]:
    hits = [(text.find(stop), stop) for stop in stops if stop and stop in text]
    if not hits:
        return text, None
    position, stop = min(hits)
    return text[:position], stop


def minimal_instance(schema: Mapping[str, Any]) -> Any:
    """The smallest value that satisfies ``schema``: required properties, first enum value."""
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return minimal_instance(schema[key][0])
    kind = schema.get("type", "object" if "properties" in schema else "null")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            name: minimal_instance(properties.get(name, {})) for name in schema.get("required", [])
        }
    if kind == "array":
        return [minimal_instance(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    simple: dict[str, Any] = {
        "string": "example",
        "integer": int(schema.get("minimum", 0)),
        "number": float(schema.get("minimum", 0)),
        "boolean": False,
    }
    return simple.get(str(kind))


# --- streaming --------------------------------------------------------------------------
def stream_events(message: Mapping[str, Any], *, chunks: int) -> Iterator[tuple[str, Any]]:
    """The documented event sequence for ``message`` (text split into ``chunks`` pieces)."""
    usage = message["usage"]
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": 1},
    }
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(message["content"]):
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": _empty_block(block),
            },
        )
        if index == 0:
            yield "ping", {"type": "ping"}
        for delta in _block_deltas(block, chunks):
            yield (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    final_usage = {k: v for k, v in usage.items() if k != "service_tier"}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": message["stop_reason"],
                "stop_sequence": message["stop_sequence"],
            },
            "usage": final_usage,
        },
    )
    yield "message_stop", {"type": "message_stop"}


def _empty_block(block: Mapping[str, Any]) -> dict[str, Any]:
    if block["type"] == "tool_use":
        return {**block, "input": {}}
    return {"type": "text", "text": ""}


def _block_deltas(block: Mapping[str, Any], chunks: int) -> Iterator[dict[str, Any]]:
    if block["type"] == "tool_use":
        for piece in split(json.dumps(block["input"]), chunks):
            yield {"type": "input_json_delta", "partial_json": piece}
    else:
        for piece in split(block["text"], chunks):
            yield {"type": "text_delta", "text": piece}


def split(text: str, chunks: int) -> list[str]:
    """``text`` in ``chunks`` nearly equal non-empty pieces (one piece when it is short)."""
    count = max(1, min(chunks, len(text)))
    size = -(-len(text) // count) if text else 1
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def sse(event: str, data: Any) -> bytes:
    """One Server-Sent Event as Anthropic frames it."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _acts_mid_stream(fault: Fault, params: Mapping[str, Any]) -> bool:
    """Faults a streamed answer suffers after its first chunk rather than up front."""
    return fault is Fault.STALL_STREAM or bool(params.get("mid_stream"))


def _error_type(fault: Fault) -> str:
    kinds = {
        Fault.RATE_LIMIT: "rate_limit_error",
        Fault.AUTH: "authentication_error",
        Fault.BAD_REQUEST: "invalid_request_error",
        Fault.SERVER_ERROR: "api_error",
    }
    return kinds.get(fault, "overloaded_error")


# --- models -----------------------------------------------------------------------------
def _page(models: list[str], query: Mapping[str, str]) -> tuple[list[str], bool]:
    """One page of ids for ``limit`` / ``after_id`` / ``before_id``, and whether more follow."""
    try:
        limit = int(query.get("limit", DEFAULT_PAGE_SIZE))
    except ValueError as err:
        raise RefusedError("limit: Input should be a valid integer") from err
    if not 1 <= limit <= 1000:
        raise RefusedError("limit: Input should be between 1 and 1000")
    after, before = query.get("after_id"), query.get("before_id")
    if before is not None:
        end = models.index(before) if before in models else 0
        start = max(0, end - limit)
        return models[start:end], start > 0
    start = models.index(after) + 1 if after in models else 0
    return models[start : start + limit], start + limit < len(models)


def model_entry(model_id: str) -> dict[str, Any]:
    """A ModelInfo object as ``GET /v1/models`` lists it."""
    line = next((name for name in ("haiku", "sonnet", "opus") if name in model_id), None)
    supported = {"supported": True}
    return {
        "type": "model",
        "id": model_id,
        "display_name": _display_name(model_id),
        "created_at": "2025-10-01T00:00:00Z",
        "lifecycle": "active",
        "deprecated_at": None,
        "retires_at": None,
        "line": line,
        "max_input_tokens": 200000,
        "max_tokens": 64000,
        "capabilities": {
            "batch": supported,
            "citations": supported,
            "code_execution": supported,
            "context_management": {"supported": False},
            "effort": {
                "supported": False,
                "low": {"supported": False},
                "medium": {"supported": False},
                "high": {"supported": False},
                "max": {"supported": False},
            },
            "image_input": {"supported": model_id.startswith("claude")},
            "pdf_input": supported,
            "server_tools": {
                "supported": True,
                "code_execution": supported,
                "web_search": supported,
            },
            "structured_outputs": supported,
            "thinking": {
                "supported": True,
                "types": {
                    "adaptive": supported,
                    "between_tools": supported,
                    "disabled": supported,
                    "enabled": supported,
                },
            },
        },
    }


def _display_name(model_id: str) -> str:
    """``claude-haiku-4-5-20251001`` -> ``Claude Haiku 4.5`` (the snapshot date dropped)."""
    words = [w for w in model_id.split("-") if not (w.isdigit() and len(w) == 8)]
    names = [w.capitalize() for w in words if not w.isdigit()]
    version = ".".join(w for w in words if w.isdigit())
    return " ".join([*names, version] if version else names)
