"""Ollama (local, on the home server) through the official ``ollama`` SDK.

Ollama needs no key; a bearer key is sent only when one is configured (for an Ollama behind an
authenticating proxy). The SDK has no per-call timeout and no retries: the client's default
timeout is the provider's ``timeout`` and the base class's deadline bounds every call. Chat
requests go through the SDK's transport with a body the hub builds (``_Client.chat_body``):
the SDK's ``chat()`` always sends ``"tools": []`` and passes tool schemas through a model that
drops what it does not know (``anyOf``, nested ``properties``...). Tools: ``ollama_tools``.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import httpx
import ollama
import pydantic

from addon.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderCapabilityError,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from addon.models import (
    Capability,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    FinishReason,
    Message,
    ModelInfo,
    Role,
    StreamDelta,
    Usage,
)
from addon.providers.base import BaseProvider, retry_after
from addon.providers.ollama_tools import NO_TOOLS, CallReader, plan_tools, require_call
from addon.providers.tooling import tool_names
from addon.providers.traits import ModelTraits
from addon.settings import DEFAULT_OLLAMA_HOST, ProviderSettings

_LOGGER = logging.getLogger(__name__)

_FINISH_REASONS = {"stop": FinishReason.STOP, "length": FinishReason.LENGTH}
_MODEL_NOT_FOUND = re.compile(r"""model ["']([^"']+)["'] not found""")
_MAX_MESSAGE = 300


class _Client(ollama.AsyncClient):
    """The SDK's client, also taking a whole ``/api/chat`` body (see the module docstring).

    Its only key is the one configured: the SDK would otherwise send ``OLLAMA_API_KEY`` from
    the environment to whatever host this provider names.
    """

    def __init__(self, host: str, timeout: float, key: str) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else None
        super().__init__(host=host, timeout=timeout, headers=headers)
        if not key:
            self._client.headers.pop("authorization", None)

    async def chat_body(self, body: dict[str, Any], *, stream: bool) -> Any:
        """``POST /api/chat`` with ``body``: a ``ChatResponse``, or an iterator of them."""
        return await self._request(
            ollama.ChatResponse, "POST", "/api/chat", json=body, stream=stream
        )


class OllamaProvider(BaseProvider):
    """A local (or proxied) Ollama server."""

    provider_type = "ollama"
    media_capabilities = frozenset({Capability.EMBEDDINGS})
    sdk_errors = (
        ollama.ResponseError,
        ollama.RequestError,
        httpx.HTTPError,
        ConnectionError,
        json.JSONDecodeError,
        pydantic.ValidationError,
    )

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        key = settings.api_key.reveal()
        self._host = settings.base_url or DEFAULT_OLLAMA_HOST
        self._client = _Client(self._host, settings.timeout, key)

    def check_request(self, request: ChatRequest) -> None:
        """Also refuse structured output for a model the traits say cannot follow a schema."""
        super().check_request(request)
        if request.json_schema is not None and not self.traits(request.model).json_schema:
            raise ProviderBadRequestError(
                f"Model {request.model!r} on {self.name} cannot produce structured output"
            )

    # The SDK takes no per-call timeout: the base class's deadline bounds the call.
    async def _chat(self, request: ChatRequest, *, timeout: float) -> ChatResponse:  # noqa: ARG002
        model = self.resolve_model(request)
        plan = plan_tools(request)
        body = self._body(request, model, plan.instruction, plan.definitions, stream=False)
        response: ollama.ChatResponse = await self._client.chat_body(body, stream=False)
        message = response.message
        tool_calls = CallReader(request).read(message)
        require_call(plan, tool_calls, self.name, model)
        return ChatResponse(
            text=message.content or "",
            model=response.model or model,
            usage=read_usage(response),
            finish_reason=finish_reason(response.done_reason, has_tool_calls=bool(tool_calls)),
            tool_calls=tool_calls,
        )

    async def _chat_stream(
        self,
        request: ChatRequest,
        *,
        timeout: float,  # noqa: ARG002 - bounded by the base class's deadline, as in _chat
    ) -> AsyncIterator[StreamDelta]:
        model = self.resolve_model(request)
        plan = plan_tools(request)
        body = self._body(request, model, plan.instruction, plan.definitions, stream=True)
        stream = await self._client.chat_body(body, stream=True)
        reader = CallReader(request)
        held: list[str] = []  # text held back until a required call is seen
        try:
            async for part in cast("AsyncIterator[ollama.ChatResponse]", stream):
                if calls := reader.read(part.message):
                    yield StreamDelta(tool_calls=calls)
                if part.message.content:
                    held.append(part.message.content)
                if held and not (plan.required and not reader.count):
                    yield StreamDelta(text="".join(held))
                    held.clear()
                if part.done:
                    require_call(plan, reader.count, self.name, model)
                    yield StreamDelta(
                        model=part.model or model,
                        finish_reason=finish_reason(
                            part.done_reason, has_tool_calls=reader.count > 0
                        ),
                        usage=read_usage(part),
                    )
                    return
        finally:
            # Close the HTTP response now rather than whenever the generator is collected.
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        raise ProviderResponseError(f"{self.name}: the stream ended without its final message")

    def _body(
        self,
        request: ChatRequest,
        model: str,
        instruction: str | None,
        tools: list[dict[str, Any]],
        *,
        stream: bool,
    ) -> dict[str, Any]:
        """The ``/api/chat`` body: only what the request asks for (no empty ``tools``)."""
        body: dict[str, Any] = {
            "model": model,
            "messages": wire_messages(request, instruction),
            "stream": stream,
        }
        if tools:
            body["tools"] = tools
        if request.json_schema is not None:
            body["format"] = dict(request.json_schema)
        if options := wire_options(request, self.traits(model)):
            body["options"] = options
        if request.keep_alive is not None:
            body["keep_alive"] = request.keep_alive
        return body

    # The SDK takes no per-call timeout: the base class's deadline bounds the call.
    async def _embed(self, request: EmbeddingRequest, *, timeout: float) -> EmbeddingResponse:  # noqa: ARG002
        try:
            response = await self._client.embed(
                model=request.model, input=list(request.inputs), dimensions=request.dimensions
            )
        except ollama.ResponseError as err:
            raise self._embedding_refusal(err) from err
        vectors = tuple(tuple(float(v) for v in vector) for vector in response.embeddings)
        tokens = response.prompt_eval_count
        usage = Usage(input_tokens=tokens if tokens is not None else 0)
        return EmbeddingResponse(vectors, response.model or request.model, usage)

    def _embedding_refusal(self, err: ollama.ResponseError) -> ProviderError:
        """A model that is not pulled, or that does not embed, is a capability miss."""
        message = self.without_key(str(err.error))[:_MAX_MESSAGE]
        if err.status_code == 404 or "does not support embeddings" in message:
            return ProviderCapabilityError(
                f"{self.name}: {message} (an embedding model such as embeddinggemma, pulled "
                "with `ollama pull`, serves embeddings)"
            )
        return self.map_error(err)

    async def list_models(self, *, timeout: float) -> list[ModelInfo]:
        """The models pulled on the Ollama server (``GET /api/tags``)."""
        listing = await self._guard(self._client.list(), timeout)
        return [self._model_info(entry) for entry in listing.models if entry.model]

    async def validate_credentials(self, *, timeout: float) -> None:
        """List the models: a proxy in front of Ollama answers 401 for a wrong key."""
        await self.list_models(timeout=timeout)

    async def close(self) -> None:
        """Close the SDK's HTTP client."""
        await self._client.close()  # type: ignore[no-untyped-call]

    def map_error(self, err: Exception) -> ProviderError:
        """Map the SDK's and httpx's exceptions into the hub's hierarchy."""
        if isinstance(err, ollama.ResponseError):
            return self._map_response_error(err)
        if isinstance(err, ollama.RequestError):
            return ProviderBadRequestError(f"{self.name}: {self.without_key(str(err.error))}")
        return self._map_transport_error(err) or super().map_error(err)

    def _map_transport_error(self, err: Exception) -> ProviderError | None:
        """Timeouts, unreachable servers and bodies that are not Ollama's JSON."""
        if isinstance(err, httpx.ConnectTimeout):
            return ProviderConnectionError(f"{self.name}: could not connect to {self._host}")
        if isinstance(err, httpx.TimeoutException):
            return ProviderTimeoutError(f"{self.name} did not answer in time")
        if isinstance(err, ConnectionError):
            # The SDK turns a refused connection into the builtin ConnectionError.
            return ProviderConnectionError(f"{self.name}: cannot reach Ollama at {self._host}")
        if isinstance(err, httpx.TransportError):
            return ProviderConnectionError(
                f"{self.name}: the connection to {self._host} failed ({type(err).__name__})"
            )
        if isinstance(err, ValueError | httpx.DecodingError):
            return ProviderResponseError(f"{self.name} sent a response that is not Ollama's API")
        return None

    def _map_response_error(self, err: ollama.ResponseError) -> ProviderError:
        status = err.status_code
        message = self.without_key(str(err.error))[:_MAX_MESSAGE]
        if status in (401, 403):
            return ProviderAuthError(f"{self.name} rejected the credentials ({status}): {message}")
        if status in (429, 503, 529):
            # 503 is Ollama's "server busy": worth trying elsewhere, or here again later.
            state = "rate limited" if status == 429 else "busy"
            return ProviderRateLimitError(
                f"{self.name} is {state} ({status}): {message}",
                retry_after=response_retry_after(err),
            )
        if 400 <= status < 500:
            return self._refused(status, message)
        if status < 0:
            # An {"error": ...} line inside a 200 stream: the model runner failed mid-answer.
            return ProviderResponseError(f"{self.name} failed while streaming: {message}")
        return ProviderResponseError(f"{self.name} failed ({status}): {message}")

    def _refused(self, status: int, message: str) -> ProviderError:
        """A 4xx: a model without tool support, a model never pulled, or a bad request."""
        if status == 400 and NO_TOOLS in message:
            return ProviderCapabilityError(f"{self.name}: {message}")
        if status == 404 and (found := _MODEL_NOT_FOUND.search(message)):
            return ProviderBadRequestError(
                f"{self.name}: {message} (run `ollama pull {found.group(1)}` on the Ollama host)"
            )
        return ProviderBadRequestError(f"{self.name} refused the request ({status}): {message}")

    def _model_info(self, entry: ollama.ListResponse.Model) -> ModelInfo:
        name = entry.model or ""
        details = entry.details
        families = list(details.families or []) if details else []
        size = details.parameter_size if details else None
        return ModelInfo(
            id=name,
            display_name=f"{name} ({size})" if size else name,
            vision=self.traits(name).vision or "clip" in families,
        )


def wire_messages(request: ChatRequest, instruction: str | None = None) -> list[dict[str, Any]]:
    """Ollama's ``messages``: one leading system message, then the conversation."""
    names = tool_names(request.messages)
    messages: list[dict[str, Any]] = []
    system = "\n\n".join(p for p in (request.system_prompt, instruction) if p)
    if system:
        messages.append({"role": "system", "content": system})
    messages.extend(wire_message(message, names) for message in request.conversation)
    return messages


def wire_message(message: Message, names: Mapping[str, str]) -> dict[str, Any]:
    """One message; images go base64-encoded into its ``images`` field."""
    wire: dict[str, Any] = {"role": message.role.value, "content": message.content}
    if message.images:
        wire["images"] = [base64.b64encode(image.data).decode() for image in message.images]
    if message.tool_calls:
        wire["tool_calls"] = [
            {"function": {"name": call.name, "arguments": dict(call.arguments)}}
            for call in message.tool_calls
        ]
    if message.role is Role.TOOL:
        name = message.tool_name or names.get(message.tool_call_id or "")
        if name:
            wire["tool_name"] = name
    return wire


def wire_options(request: ChatRequest, traits: ModelTraits) -> dict[str, Any] | None:
    """Ollama's ``options``: ``num_predict``, ``temperature``, ``stop``."""
    options: dict[str, Any] = {}
    max_tokens = request.max_tokens if request.max_tokens is not None else traits.default_max_tokens
    if max_tokens is not None:
        options["num_predict"] = max_tokens
    if request.temperature is not None:
        if traits.temperature:
            options["temperature"] = request.temperature
        else:
            _LOGGER.debug("Dropping temperature for %s: the model ignores it", request.model)
    if request.stop:
        options["stop"] = list(request.stop)
    return options or None


def read_usage(response: ollama.ChatResponse) -> Usage:
    """Prompt and generated tokens (``eval_count`` already includes thinking tokens)."""
    return Usage(
        input_tokens=response.prompt_eval_count or 0, output_tokens=response.eval_count or 0
    )


def finish_reason(done_reason: str | None, *, has_tool_calls: bool) -> FinishReason:
    """Normalise Ollama's ``done_reason`` (it says ``stop`` even after tool calls)."""
    if has_tool_calls:
        return FinishReason.TOOL_CALLS
    if done_reason is None:
        return FinishReason.STOP
    return _FINISH_REASONS.get(done_reason, FinishReason.OTHER)


def response_retry_after(err: ollama.ResponseError) -> float | None:
    """Seconds from ``retry-after-ms`` / ``Retry-After`` of the response behind ``err``.

    The SDK raises ``ResponseError`` inside its ``except httpx.HTTPStatusError`` block, so the
    response (and its headers) is the exception's context.
    """
    context = err.__context__
    if not isinstance(context, httpx.HTTPStatusError):
        return None
    return retry_after(context.response.headers)
