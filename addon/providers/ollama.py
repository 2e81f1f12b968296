"""Ollama (local, on the home server) through the official ``ollama`` SDK.

Ollama needs no key; a bearer key is sent only when one is configured (for an Ollama behind an
authenticating proxy). The SDK has no per-call timeout and no retries: the client's default
timeout is the provider's ``timeout`` and the base class's deadline bounds every call.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import ollama

from addon.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from addon.models import (
    ChatRequest,
    ChatResponse,
    FinishReason,
    Message,
    ModelInfo,
    Role,
    StreamDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
from addon.providers.base import BaseProvider, retry_after
from addon.providers.traits import ModelTraits
from addon.settings import DEFAULT_OLLAMA_HOST, ProviderSettings

_LOGGER = logging.getLogger(__name__)

_FINISH_REASONS = {"stop": FinishReason.STOP, "length": FinishReason.LENGTH}
_MODEL_NOT_FOUND = re.compile(r"""model ["']([^"']+)["'] not found""")
_MAX_MESSAGE = 300


class OllamaProvider(BaseProvider):
    """A local (or proxied) Ollama server."""

    provider_type = "ollama"

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        key = settings.api_key.reveal()
        self._host = settings.base_url or DEFAULT_OLLAMA_HOST
        self._client = ollama.AsyncClient(
            host=self._host,
            timeout=settings.timeout,
            headers={"Authorization": f"Bearer {key}"} if key else None,
        )

    def check_request(self, request: ChatRequest) -> None:
        """Also refuse structured output for a model the traits say cannot follow a schema."""
        super().check_request(request)
        if request.json_schema is not None and not self.traits(request.model).json_schema:
            raise ProviderBadRequestError(
                f"Model {request.model!r} on {self.name} cannot produce structured output"
            )

    async def _chat(self, request: ChatRequest, *, timeout: float) -> ChatResponse:
        model = self.resolve_model(request)
        response = await self._client.chat(
            model=model,
            messages=wire_messages(request),
            tools=self._wire_tools(request.tools),
            format=dict(request.json_schema) if request.json_schema is not None else None,
            options=wire_options(request, self.traits(model)),
            keep_alive=request.keep_alive,
            stream=False,
        )
        message = response.message
        tool_calls = read_tool_calls(message)
        return ChatResponse(
            text=message.content or "",
            model=response.model or model,
            usage=read_usage(response),
            finish_reason=finish_reason(response.done_reason, has_tool_calls=bool(tool_calls)),
            tool_calls=tool_calls,
        )

    async def _chat_stream(
        self, request: ChatRequest, *, timeout: float
    ) -> AsyncIterator[StreamDelta]:
        model = self.resolve_model(request)
        stream = await self._client.chat(
            model=model,
            messages=wire_messages(request),
            tools=self._wire_tools(request.tools),
            format=dict(request.json_schema) if request.json_schema is not None else None,
            options=wire_options(request, self.traits(model)),
            keep_alive=request.keep_alive,
            stream=True,
        )
        called_tools = False
        try:
            async for part in stream:
                called_tools = called_tools or bool(part.message.tool_calls)
                if part.message.content:
                    yield StreamDelta(text=part.message.content)
                if part.done:
                    yield StreamDelta(
                        model=part.model or model,
                        finish_reason=finish_reason(part.done_reason, has_tool_calls=called_tools),
                        usage=read_usage(part),
                    )
                    return
        finally:
            # Close the HTTP response now rather than whenever the generator is collected.
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        raise ProviderResponseError(f"{self.name}: the stream ended without its final message")

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
        if isinstance(err, ValueError | TypeError | KeyError | httpx.DecodingError):
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
        if status == 404 and (found := _MODEL_NOT_FOUND.search(message)):
            return ProviderBadRequestError(
                f"{self.name}: {message} (run `ollama pull {found.group(1)}` on the Ollama host)"
            )
        if 400 <= status < 500:
            return ProviderBadRequestError(f"{self.name} refused the request ({status}): {message}")
        if status < 0:
            # An {"error": ...} line inside a 200 stream: the model runner failed mid-answer.
            return ProviderResponseError(f"{self.name} failed while streaming: {message}")
        return ProviderResponseError(f"{self.name} failed ({status}): {message}")

    def _wire_tools(self, tools: tuple[ToolSpec, ...]) -> list[ollama.Tool] | None:
        """Tool definitions, validated here so a bad schema is the caller's error."""
        if not tools:
            return None
        try:
            return [ollama.Tool.model_validate(wire_tool(tool)) for tool in tools]
        except ValueError as err:
            raise ProviderBadRequestError(
                f"{self.name}: a tool definition is not valid for Ollama"
            ) from err

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


def wire_messages(request: ChatRequest) -> list[dict[str, Any]]:
    """Ollama's ``messages``: one leading system message, then the conversation."""
    tool_names = {call.id: call.name for m in request.messages for call in m.tool_calls}
    messages: list[dict[str, Any]] = []
    if (system := request.system_prompt) is not None:
        messages.append({"role": "system", "content": system})
    messages.extend(wire_message(message, tool_names) for message in request.conversation)
    return messages


def wire_message(message: Message, tool_names: Mapping[str, str]) -> dict[str, Any]:
    """One message; images go base64-encoded into its ``images`` field."""
    wire: dict[str, Any] = {"role": message.role.value, "content": message.content}
    if message.images:
        # Raw bytes: the SDK base64-encodes them (a str would first be tried as a file path).
        wire["images"] = [image.data for image in message.images]
    if message.tool_calls:
        wire["tool_calls"] = [
            {"function": {"name": call.name, "arguments": dict(call.arguments)}}
            for call in message.tool_calls
        ]
    if message.role is Role.TOOL and message.tool_call_id:
        wire["tool_name"] = tool_names.get(message.tool_call_id, message.tool_call_id)
    return wire


def wire_tool(tool: ToolSpec) -> dict[str, Any]:
    """Ollama's function-tool definition."""
    parameters = dict(tool.parameters) or {"type": "object", "properties": {}}
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description, "parameters": parameters},
    }


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


def read_tool_calls(message: ollama.Message) -> tuple[ToolCall, ...]:
    """The model's tool calls (Ollama's SDK drops the ids, so they are numbered here)."""
    return tuple(
        ToolCall(
            id=f"call_{index}", name=call.function.name, arguments=dict(call.function.arguments)
        )
        for index, call in enumerate(message.tool_calls or ())
    )


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
