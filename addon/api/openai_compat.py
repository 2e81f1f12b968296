"""The OpenAI-compatible front door: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Any OpenAI client can point its base URL at ``<hub>/v1`` with the hub's API token as its key.
Answers and errors speak OpenAI's wire format: ``chat.completion`` objects, SSE streams of
``chat.completion.chunk`` objects ending in ``data: [DONE]``, and
``{"error": {"message", "type", "param", "code"}}`` with the hub's error key as ``code`` and the
same HTTP status as the hub's own envelope.

Model ids are ``<provider>/<model>`` of the provider that answered, on every chunk of a stream
too: the hub fails over only before the first token, so the first chunk already knows who is
answering (one id for the whole stream, as OpenAI's chunks have). The ``X-Hub-Attempts`` header
lists every try, on answers and on errors alike, and an error body keeps the attempts beside
OpenAI's fields.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Final

from aiohttp import web

from addon.api.body import read_json
from addon.api.context import hub
from addon.api.envelope import (
    REQUEST_ID_HEADER,
    allow_header,
    method_not_allowed,
    request_id,
    retry_after_header,
)
from addon.api.openai_request import (
    AUTO_MODEL,
    CompletionRequest,
    to_completion_request,
    validate_completion,
)
from addon.api.openai_tools import message_tool_calls, stream_tool_deltas
from addon.api.streaming import started
from addon.errors import (
    HubError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
)
from addon.models import HubResponse, StreamDelta, ToolCall
from addon.settings import ProviderSettings

_LOGGER = logging.getLogger(__name__)

PREFIX: Final = "/v1/"
OWNER: Final = "ai_provider_hub"
ATTEMPTS_HEADER: Final = "X-Hub-Attempts"
# OpenAI's error ``type`` by HTTP status; the hub's key travels as ``code``.
ERROR_TYPES: Final[Mapping[int, str]] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}
FINISH_REASONS: Final = frozenset({"stop", "length", "tool_calls", "content_filter"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# --- errors ---------------------------------------------------------------------------------
def error_type(status: int) -> str:
    """OpenAI's error ``type`` for an HTTP status."""
    return ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def openai_error_body(err: HubError) -> dict[str, Any]:
    """``{"error": {"message", "type", "param", "code"}}`` for ``err``, plus its ``attempts``.

    OpenAI's SDKs ignore unknown keys in the error object, so the hub's attempts ride along
    for clients that look (the same list the hub's own envelope carries).
    """
    param = err.details.get("param")
    body: dict[str, Any] = {
        "message": err.message,
        "type": error_type(err.status),
        "param": param if isinstance(param, str) else None,
        "code": err.key,
    }
    attempts = error_attempts(err)
    if attempts:
        body["attempts"] = attempts
    return {"error": body}


def error_attempts(err: HubError) -> list[dict[str, Any]]:
    """The attempts an error carries (none for errors raised before any provider was tried)."""
    attempts = err.details.get("attempts")
    if not isinstance(attempts, list):
        return []
    return [a for a in attempts if isinstance(a, dict)]


def openai_error_response(err: HubError) -> web.Response:
    """The JSON error response in OpenAI's shape (``Retry-After`` kept for rate limits)."""
    headers = {**retry_after_header(err), **allow_header(err)}
    attempts = error_attempts(err)
    if attempts:
        headers[ATTEMPTS_HEADER] = format_attempts(
            (str(a.get("provider")), str(a.get("outcome"))) for a in attempts
        )
    return web.json_response(openai_error_body(err), status=err.status, headers=headers)


def _from_http_exception(request: web.Request, exc: web.HTTPException) -> HubError:
    if exc.status == 404:
        return NotFoundError(f"No such endpoint: {request.path}")
    if exc.status == 413:
        return PayloadTooLargeError(f"Request body too large: {exc.text or exc.reason}")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return method_not_allowed(exc)
    return InvalidRequestError(exc.text or exc.reason)


@web.middleware
async def openai_error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """On ``/v1/*`` routes, answer every error in OpenAI's shape (auth errors included).

    Sits between the envelope middleware (outside) and auth (inside); other routes pass
    through untouched and keep the hub's envelope.
    """
    if not request.path.startswith(PREFIX):
        return await handler(request)
    try:
        return await handler(request)
    except HubError as err:
        return openai_error_response(err)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return openai_error_response(_from_http_exception(request, exc))
    except Exception:
        _LOGGER.exception("Unexpected error handling %s %s", request.method, request.path)
        return openai_error_response(HubError("Internal error; see the add-on log"))


# --- chat completions -----------------------------------------------------------------------
async def chat_completions(request: web.Request) -> web.StreamResponse:
    """Answer an OpenAI chat-completions request (JSON, or SSE with ``stream: true``)."""
    data = validate_completion(await read_json(request))
    manager = hub(request).manager
    names = [settings.name for settings in manager.configured()]
    completion = to_completion_request(data, request_id(request), names)
    if completion.stream:
        return await stream_chunks(request, completion)
    response = await manager.run(completion.hub_request)
    return web.json_response(
        completion_body(completion, response, int(time.time())),
        headers={ATTEMPTS_HEADER: attempts_header(response)},
    )


def attempts_header(response: HubResponse) -> str:
    """Every try behind the answer, e.g. ``openai=provider_timeout, anthropic=ok``.

    OpenAI's body has no place for the hub's attempts; a header keeps failover visible to
    clients that look, without surprising those that do not.
    """
    return format_attempts((a.provider, a.outcome) for a in response.attempts)


def format_attempts(attempts: Iterable[tuple[str, str]]) -> str:
    """``provider=outcome`` pairs joined for the ``X-Hub-Attempts`` header."""
    return ", ".join(f"{provider}={outcome}" for provider, outcome in attempts)


def model_id(provider: str, model: str) -> str:
    """The OpenAI-facing model id: ``<provider>/<model>``."""
    return f"{provider}/{model}"


def finish_reason(response: HubResponse) -> str:
    """OpenAI's finish reason (the hub's ``other`` has no OpenAI twin: ``stop``)."""
    return response.finish_reason if response.finish_reason in FINISH_REASONS else "stop"


def usage_body(response: HubResponse) -> dict[str, int]:
    """OpenAI's usage object."""
    usage = response.usage
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }


def completion_body(
    completion: CompletionRequest, response: HubResponse, created: int
) -> dict[str, Any]:
    """The ``chat.completion`` object for ``response``."""
    content = response.text
    if completion.wants_json and response.data is not None:
        # The hub has parsed (and unfenced) the JSON: hand clients the clean document.
        content = json.dumps(response.data, ensure_ascii=False)
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if response.tool_calls:
        # OpenAI answers null content when the model only called tools.
        message["content"] = content or None
        message["tool_calls"] = message_tool_calls(response.tool_calls)
    return {
        "id": f"chatcmpl-{response.request_id}",
        "object": "chat.completion",
        "created": created,
        "model": model_id(response.provider, response.model),
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason(response),
            }
        ],
        "usage": usage_body(response),
        "system_fingerprint": None,
    }


# --- streaming ------------------------------------------------------------------------------
class ChunkWriter:
    """Renders ``chat.completion.chunk`` objects of one streamed answer.

    ``model`` is who is answering (``<provider>/<model>``), known from the first item.
    """

    def __init__(self, completion: CompletionRequest, created: int, model: str) -> None:
        self.completion = completion
        self.id = f"chatcmpl-{completion.hub_request.request_id}"
        self.created = created
        self.model = model
        self.tool_calls = 0  # the index of the next streamed tool call

    def chunk(self, model: str, choices: list[dict[str, Any]], usage: Any = None) -> dict[str, Any]:
        """One chunk; with ``include_usage`` every chunk has a ``usage`` key, null until the end."""
        body: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if self.completion.include_usage:
            body["usage"] = usage
        return body

    def delta(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        """A chunk with one choice delta."""
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return sse(self.chunk(self.model, [choice]))

    def tool_call(self, call: ToolCall) -> list[bytes]:
        """The chunks of one complete tool call: its name, then its arguments in pieces."""
        index, self.tool_calls = self.tool_calls, self.tool_calls + 1
        return [self.delta(delta) for delta in stream_tool_deltas(call, index)]

    def closing(self, response: HubResponse) -> list[bytes]:
        """The finish chunk, the usage chunk when asked for, and ``[DONE]``.

        They keep the id the stream started with (as OpenAI's do), even when the vendor named
        a dated snapshot only at the end.
        """
        out = [self.delta({}, finish_reason(response))]
        if self.completion.include_usage:
            out.append(sse(self.chunk(self.model, [], usage_body(response))))
        out.append(b"data: [DONE]\n\n")
        return out


def sse(payload: Mapping[str, Any]) -> bytes:
    """One Server-Sent Event carrying ``payload`` as its data."""
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


async def stream_chunks(request: web.Request, completion: CompletionRequest) -> web.StreamResponse:
    """Serve the answer as OpenAI SSE.

    Errors before the first piece of text are a normal JSON error (status and OpenAI shape);
    after that the status line is sent, so an error arrives as a ``data: {"error": ...}`` event,
    which OpenAI's SDKs raise as an ``APIError``.
    """
    first, events = await started(hub(request).manager.stream(completion.hub_request))
    writer = ChunkWriter(completion, int(time.time()), answering_model(first, completion))
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            REQUEST_ID_HEADER: completion.hub_request.request_id,
        }
    )
    await response.prepare(request)
    await response.write(writer.delta({"role": "assistant", "content": ""}))
    try:
        async for item in events:
            for data in _render(writer, item):
                await response.write(data)
    except HubError as err:
        await response.write(sse(openai_error_body(err)))
    await response.write_eof()
    return response


def answering_model(item: StreamDelta | HubResponse, completion: CompletionRequest) -> str:
    """``<provider>/<model>`` of who answers, from the manager's first item of a stream."""
    if isinstance(item, HubResponse):
        return model_id(item.provider, item.model)
    if item.provider:
        return model_id(item.provider, item.model or "")
    return completion.requested_model


def _render(writer: ChunkWriter, item: StreamDelta | HubResponse) -> list[bytes]:
    if isinstance(item, HubResponse):
        return writer.closing(item)
    out = [writer.delta({"content": item.text})] if item.text else []
    for call in item.tool_calls:
        out.extend(writer.tool_call(call))
    return out


# --- models ---------------------------------------------------------------------------------
async def models(request: web.Request) -> web.StreamResponse:
    """OpenAI's model list: ``auto`` plus each enabled provider's model and vision model.

    Built from the options alone (no upstream calls), so it is instant and free.
    """
    context = hub(request)
    created = int(context.started_at)
    rows = [_model_row(AUTO_MODEL, OWNER, created)]
    for provider in context.manager.configured():
        if provider.enabled:
            rows.extend(_model_row(i, provider.name, created) for i in provider_model_ids(provider))
    return web.json_response({"object": "list", "data": rows})


def provider_model_ids(provider: ProviderSettings) -> list[str]:
    """``<provider>/<model>`` for the model and the vision model (once when they are equal)."""
    names = [provider.model, provider.vision_model]
    unique = dict.fromkeys(name for name in names if name)
    return [model_id(provider.name, name) for name in unique]


def _model_row(model: str, owner: str, created: int) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": created, "owned_by": owner}
