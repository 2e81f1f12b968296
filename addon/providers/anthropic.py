"""Anthropic (Claude) behind the hub's provider contract, through the official ``anthropic`` SDK.

Wire notes: the system prompt is a top-level field, turns must alternate (same-role messages
are merged), ``max_tokens`` is mandatory, images are base64 content blocks placed before the
text, and structured output is a forced tool whose ``input`` is the answer. The API version the
SDK pins has no ``temperature`` field, so the traits mark it unsupported and it is dropped.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import anthropic
import httpx2
import pydantic

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
    ToolChoice,
    ToolChoiceMode,
    ToolSpec,
    Usage,
)
from addon.providers.base import PLACEHOLDER_API_KEY, BaseProvider, retry_after
from addon.providers.tooling import object_schema, vendor_id
from addon.providers.transport import connection_failure
from addon.settings import ProviderSettings

_LOGGER = logging.getLogger(__name__)

STRUCTURED_TOOL: Final = "structured_output"
STRUCTURED_TOOL_DESCRIPTION: Final = (
    "Give your final answer by calling this tool; its input is the answer."
)
FALLBACK_MAX_TOKENS: Final = 4096
IMAGE_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
# tool_use ids must match this; ids from other vendors are mapped (see ``wire_call_id``).
TOOL_USE_ID: Final = re.compile(r"[a-zA-Z0-9_-]+")
MAX_TOOL_USE_ID: Final = 64
_CHOICE_TYPES: Final[Mapping[ToolChoiceMode, str]] = {
    ToolChoiceMode.AUTO: "auto",
    ToolChoiceMode.NONE: "none",
    ToolChoiceMode.REQUIRED: "any",
    ToolChoiceMode.TOOL: "tool",
}

STOP_REASONS: Final[Mapping[str, FinishReason]] = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "refusal": FinishReason.CONTENT_FILTER,
    "pause_turn": FinishReason.OTHER,
}

# error.type from Anthropic's error body; mid-stream errors arrive with HTTP 200, so the type
# is what tells them apart.
_AUTH_TYPES: Final = frozenset({"authentication_error", "permission_error"})
_RATE_TYPES: Final = frozenset({"rate_limit_error", "overloaded_error"})
_BAD_REQUEST_TYPES: Final = frozenset(
    {"invalid_request_error", "not_found_error", "request_too_large", "billing_error"}
)


class AnthropicProvider(BaseProvider):
    """Claude models through ``anthropic.AsyncAnthropic`` (one client, reused, retries off)."""

    provider_type = "anthropic"
    sdk_errors = (
        anthropic.AnthropicError,
        httpx2.HTTPError,
        json.JSONDecodeError,
        pydantic.ValidationError,
    )
    requires_api_key = True

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        # The SDK's aiohttp transport (see ``transport``); its session is made on first use.
        self._client = anthropic.AsyncAnthropic(
            api_key=settings.api_key.reveal() or PLACEHOLDER_API_KEY,
            base_url=settings.base_url or None,
            timeout=settings.timeout,
            max_retries=0,
            http_client=anthropic.DefaultAioHttpClient(),
        )

    # --- contract -----------------------------------------------------------------------
    async def _chat(self, request: ChatRequest, *, timeout: float) -> ChatResponse:
        model = self.resolve_model(request)
        params = self._params(request, model)
        message = await self._client.messages.create(**params, timeout=timeout)
        return _to_response(message, structured=request.json_schema is not None)

    async def _chat_stream(
        self, request: ChatRequest, *, timeout: float
    ) -> AsyncIterator[StreamDelta]:
        model = self.resolve_model(request)
        params = self._params(request, model)
        stream = await self._client.messages.create(**params, stream=True, timeout=timeout)
        state = _StreamState(structured=request.json_schema is not None)
        async with stream:
            async for event in stream:
                delta = state.feed(event)
                if delta is not None:
                    yield delta
        yield state.final()

    async def list_models(self, *, timeout: float) -> list[ModelInfo]:
        """Every model the key can use (all pages of ``GET /v1/models``)."""
        self.require_key()
        return await self._guard(self._list_models(timeout), timeout)

    async def validate_credentials(self, *, timeout: float) -> None:
        """Fetch one model: cheap, no tokens spent; a bad key raises ``ProviderAuthError``."""
        self.require_key()
        await self._guard(self._client.models.list(limit=1, timeout=timeout), timeout)

    async def close(self) -> None:
        """Close the SDK's HTTP client."""
        await self._client.close()

    def map_error(self, err: Exception) -> ProviderError:
        """Map an SDK (or transport) exception into the hub's hierarchy, once."""
        if isinstance(err, ProviderError):
            return err
        if isinstance(err, anthropic.APIConnectionError | httpx2.TransportError | TimeoutError):
            return self._map_transport(err)
        if isinstance(err, anthropic.APIStatusError):
            return self._map_status(err)
        if isinstance(err, anthropic.APIResponseValidationError | ValueError):
            return ProviderResponseError(f"{self.name} returned a malformed response")
        return super().map_error(err)

    def _map_transport(self, err: Exception) -> ProviderError:
        failure = connection_failure(err)  # what the aiohttp transport calls a timeout
        if failure is None and isinstance(
            err, anthropic.APITimeoutError | httpx2.TimeoutException | TimeoutError
        ):
            return ProviderTimeoutError(f"{self.name} did not answer in time")
        return ProviderConnectionError(f"{self.name} could not be reached: {failure or err}")

    # --- requests -----------------------------------------------------------------------
    def _params(self, request: ChatRequest, model: str) -> dict[str, Any]:
        """The keyword arguments of ``messages.create`` for ``request`` on ``model``."""
        traits = self.traits(model)
        params: dict[str, Any] = {
            "model": model,
            "max_tokens": request.max_tokens or traits.default_max_tokens or FALLBACK_MAX_TOKENS,
            "messages": build_messages(request.conversation),
        }
        if request.system_prompt:
            params["system"] = request.system_prompt
        if request.stop:
            params["stop_sequences"] = list(request.stop)
        tools = [tool_definition(tool, f"tools[{i}]") for i, tool in enumerate(request.tools)]
        choice = tool_choice(request.tool_choice, request.parallel_tool_calls) if tools else None
        if request.json_schema is not None:
            if not traits.json_schema:
                raise ProviderBadRequestError(
                    f"Model {model!r} on {self.name} cannot give structured output"
                )
            tools.append(structured_tool(request.json_schema))
            choice = {"type": "tool", "name": STRUCTURED_TOOL}
        if tools:
            params["tools"] = tools
        if choice is not None:
            params["tool_choice"] = choice
        if request.temperature is not None:
            if traits.temperature:
                params["extra_body"] = {"temperature": request.temperature}
            else:
                _LOGGER.debug("%s: model %s takes no temperature; dropped", self.name, model)
        return params

    # --- responses ----------------------------------------------------------------------
    async def _list_models(self, timeout: float) -> list[ModelInfo]:
        models: list[ModelInfo] = []
        async for info in self._client.models.list(timeout=timeout):
            models.append(
                ModelInfo(
                    id=info.id,
                    display_name=info.display_name,
                    vision=_image_input(info) or self.supports_vision(info.id),
                )
            )
        return models

    def _map_status(self, err: anthropic.APIStatusError) -> ProviderError:
        kind = err.type or ""
        status = err.status_code
        detail = self.without_key(err.api_message or f"HTTP {status}")
        if kind in _AUTH_TYPES or status in (401, 403):
            return ProviderAuthError(f"{self.name} rejected the API key: {detail}")
        if kind in _RATE_TYPES or status in (429, 503, 529):
            overloaded = kind == "overloaded_error" or status == 529
            what = "is overloaded" if overloaded else "rate limited"
            return ProviderRateLimitError(
                f"{self.name} {what}: {detail}", retry_after=retry_after(err.response.headers)
            )
        if kind == "timeout_error" or status in (408, 504):
            return ProviderTimeoutError(f"{self.name} timed out: {detail}")
        if kind in _BAD_REQUEST_TYPES or 400 <= status < 500:
            return ProviderBadRequestError(f"{self.name} rejected the request: {detail}")
        return ProviderResponseError(f"{self.name} failed (HTTP {status}): {detail}")


# --- request mapping (pure functions) ---------------------------------------------------
def build_messages(conversation: Sequence[Message]) -> list[dict[str, Any]]:
    """Alternating ``user``/``assistant`` turns of content blocks (same-role turns merged)."""
    turns: list[dict[str, Any]] = []
    for message in conversation:
        role = "assistant" if message.role is Role.ASSISTANT else "user"
        blocks = content_blocks(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    if not turns:
        raise ProviderBadRequestError("Anthropic needs at least one non-empty user message")
    return turns


def content_blocks(message: Message) -> list[dict[str, Any]]:
    """The content blocks of one message: images before text, tool calls after it."""
    if message.role is Role.TOOL:
        if not message.tool_call_id:
            raise ProviderBadRequestError("A tool result needs the id of its tool call")
        result: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": wire_call_id(message.tool_call_id),
        }
        if message.content:  # an empty text block is refused; no content is allowed
            result["content"] = message.content
        return [result]
    blocks: list[dict[str, Any]] = []
    if message.role is Role.USER:
        blocks.extend(image_block(image.data, image.mime_type) for image in message.images)
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    blocks.extend(
        {
            "type": "tool_use",
            "id": wire_call_id(call.id),
            "name": call.name,
            "input": dict(call.arguments),
        }
        for call in message.tool_calls
    )
    return blocks


def wire_call_id(call_id: str) -> str:
    """A ``tool_use`` id Anthropic accepts: ids from other vendors may hold other characters."""
    return vendor_id(call_id, allowed=TOOL_USE_ID, max_length=MAX_TOOL_USE_ID, prefix="toolu_")


def image_block(data: bytes, mime_type: str) -> dict[str, Any]:
    """A base64 image content block; Anthropic takes JPEG, PNG, GIF and WebP only."""
    if mime_type not in IMAGE_TYPES:
        raise ProviderBadRequestError(f"Anthropic does not accept {mime_type} images")
    return {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": mime_type,
            "data": base64.b64encode(data).decode("ascii"),
        },
    }


def tool_definition(tool: ToolSpec, where: str = "tools") -> dict[str, Any]:
    """A client tool definition (``input_schema`` must be an object schema)."""
    definition: dict[str, Any] = {
        "name": tool.name,
        "input_schema": object_schema(tool, where=where),
    }
    if tool.description:
        definition["description"] = tool.description
    return definition


def tool_choice(choice: ToolChoice | None, parallel: bool | None) -> dict[str, Any] | None:
    """``tool_choice`` in Anthropic's words; None when the caller asked for nothing."""
    if choice is None and parallel is not False:
        return None
    mode = choice.mode if choice is not None else ToolChoiceMode.AUTO
    wire: dict[str, Any] = {"type": _CHOICE_TYPES[mode]}
    if mode is ToolChoiceMode.TOOL and choice is not None:
        wire["name"] = choice.name
    if parallel is False and mode is not ToolChoiceMode.NONE:
        wire["disable_parallel_tool_use"] = True
    return wire


def structured_tool(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The forced tool that carries a structured answer as its input."""
    if schema.get("type", "object") != "object":
        raise ProviderBadRequestError(
            "Anthropic structured output needs a JSON schema whose root is an object"
        )
    return {
        "name": STRUCTURED_TOOL,
        "description": STRUCTURED_TOOL_DESCRIPTION,
        "input_schema": {"type": "object", **schema},
    }


# --- response mapping -------------------------------------------------------------------
def _to_response(message: Any, *, structured: bool) -> ChatResponse:
    """A ``ChatResponse`` from an SDK ``Message``; any other shape is a response error."""
    if (
        not isinstance(message, anthropic.types.Message)
        or not isinstance(message.content, list)
        or message.usage is None
    ):
        raise ProviderResponseError("Anthropic answered with something other than a message")
    texts: list[str] = []
    calls: list[ToolCall] = []
    answer: Any = None
    for block in message.content:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use" and structured and block.name == STRUCTURED_TOOL:
            answer = block.input
        elif block.type == "tool_use":
            calls.append(ToolCall(id=block.id, name=block.name, arguments=dict(block.input)))
    text = json.dumps(answer) if answer is not None else "".join(texts)
    return ChatResponse(
        text=text,
        model=message.model,
        usage=_usage(message.usage),
        finish_reason=finish_reason(message.stop_reason, structured=answer is not None),
        tool_calls=tuple(calls),
    )


def _usage(usage: Any) -> Usage:
    """Input counts cached tokens too (Anthropic reports them apart); output includes thinking."""
    cached = (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)
    return Usage(input_tokens=(usage.input_tokens or 0) + cached, output_tokens=usage.output_tokens)


def finish_reason(stop_reason: str | None, *, structured: bool = False) -> FinishReason:
    """Normalise Anthropic's ``stop_reason``; the forced structured tool is a normal stop."""
    if structured and stop_reason == "tool_use":
        return FinishReason.STOP
    return STOP_REASONS.get(stop_reason or "", FinishReason.OTHER)


def _image_input(info: Any) -> bool:
    capabilities = getattr(info, "capabilities", None)
    return bool(capabilities is not None and capabilities.image_input.supported)


@dataclass
class _StreamState:
    """Folds the SSE events of one streamed message into text pieces and a final delta."""

    structured: bool
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str | None = None
    stopped: bool = False
    answer_blocks: set[int] = field(default_factory=set)
    calls: dict[int, tuple[str, str, list[str]]] = field(default_factory=dict)

    def feed(self, event: Any) -> StreamDelta | None:
        """Take one event; return the delta it completes (text, or a whole tool call)."""
        kind = event.type
        if kind == "message_start":
            self.model = event.message.model
            self.input_tokens = _usage(event.message.usage).input_tokens
            self.output_tokens = event.message.usage.output_tokens
        elif kind == "content_block_start":
            self._start(event.index, event.content_block)
        elif kind == "content_block_delta":
            piece = self._piece(event)
            return StreamDelta(text=piece) if piece else None
        elif kind == "content_block_stop" and event.index in self.calls:
            return StreamDelta(tool_calls=(self._call(event.index),))
        elif kind == "message_delta":
            self._delta(event)
        elif kind == "message_stop":
            self.stopped = True
        return None

    def _start(self, index: int, block: Any) -> None:
        if block.type != "tool_use":
            return
        if self.structured and block.name == STRUCTURED_TOOL:
            self.answer_blocks.add(index)
        else:
            self.calls[index] = (block.id, block.name, [])

    def _call(self, index: int) -> ToolCall:
        """The tool call of a finished ``tool_use`` block (its input came in JSON fragments)."""
        call_id, name, fragments = self.calls.pop(index)
        text = "".join(fragments)
        try:
            arguments = json.loads(text) if text else {}
        except ValueError as err:
            raise ProviderResponseError("Anthropic streamed tool input that is not JSON") from err
        if not isinstance(arguments, dict):
            raise ProviderResponseError("Anthropic streamed tool input that is not an object")
        return ToolCall(id=call_id, name=name, arguments=arguments)

    def final(self) -> StreamDelta:
        """The last delta: finish reason, usage and the model as the vendor reported it."""
        if self.model is None or not self.stopped:
            raise ProviderResponseError("Anthropic's stream ended before message_stop")
        return StreamDelta(
            model=self.model,
            finish_reason=finish_reason(self.stop_reason, structured=bool(self.answer_blocks)),
            usage=Usage(input_tokens=self.input_tokens, output_tokens=self.output_tokens),
        )

    def _piece(self, event: Any) -> str:
        delta = event.delta
        if delta.type == "text_delta":
            return str(delta.text)
        if delta.type == "input_json_delta" and event.index in self.calls:
            self.calls[event.index][2].append(str(delta.partial_json))
        elif delta.type == "input_json_delta" and event.index in self.answer_blocks:
            # The structured answer streams as the forced tool's JSON input.
            return str(delta.partial_json)
        return ""

    def _delta(self, event: Any) -> None:
        self.stop_reason = event.delta.stop_reason
        usage = event.usage
        self.output_tokens = usage.output_tokens
        if usage.input_tokens is not None:
            # message_delta counts are cumulative and, when present, authoritative.
            self.input_tokens = _usage(usage).input_tokens
