"""Anthropic (Claude) behind the hub's provider contract, through the official ``anthropic`` SDK.

Wire notes: the system prompt is a top-level field, turns must alternate (same-role messages
are merged), ``max_tokens`` is mandatory, images are base64 content blocks placed before the
text, and structured output is a forced tool whose ``input`` is the answer. The API version the
SDK pins has no ``temperature`` field, so the traits mark it unsupported and it is dropped.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping, Sequence
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
    Message,
    ModelInfo,
    Role,
    StreamDelta,
    ToolChoice,
    ToolChoiceMode,
    ToolSpec,
)
from addon.providers.anthropic_wire import STRUCTURED_TOOL, EventReader, message_response
from addon.providers.base import PLACEHOLDER_API_KEY, BaseProvider, retry_after
from addon.providers.direct import DirectPost, encode_json
from addon.providers.probe import ANTHROPIC_AUTH_TYPES, ANTHROPIC_RATE_TYPES, RATE_STATUSES
from addon.providers.tooling import object_schema, vendor_id
from addon.providers.transport import connection_failure
from addon.settings import ProviderSettings

_LOGGER = logging.getLogger(__name__)

STRUCTURED_TOOL_DESCRIPTION: Final = (
    "Give your final answer by calling this tool; its input is the answer."
)
FALLBACK_MAX_TOKENS: Final = 4096
MESSAGES_PATH: Final = "/v1/messages"
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


# error.type from Anthropic's error body; mid-stream errors arrive with HTTP 200, so the type
# is what tells them apart.
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
        self._direct = DirectPost(
            self._client,
            connection_error=anthropic.APIConnectionError,
            timeout_error=anthropic.APITimeoutError,
        )

    # --- contract -----------------------------------------------------------------------
    # Both go out as the SDK's own request (``DirectPost``) with the body encoded once; the
    # answer, or each event of a stream, is read from its JSON (``anthropic_wire``).
    async def _chat(self, request: ChatRequest, *, timeout: float) -> ChatResponse:
        body = self._body(request, self.resolve_model(request))
        answer = await self._direct.post(MESSAGES_PATH, body, timeout=timeout)
        structured = request.json_schema is not None
        return message_response(json.loads(answer), self.name, structured=structured)

    async def _chat_stream(
        self, request: ChatRequest, *, timeout: float
    ) -> AsyncIterator[StreamDelta]:
        body = self._body(request, self.resolve_model(request), stream=True)
        reader = EventReader(self.name, structured=request.json_schema is not None)
        events = self._direct.events(MESSAGES_PATH, body, timeout=timeout)
        async with contextlib.aclosing(events):  # the connection goes with an early end
            async for event in events:
                if event.event == "error":  # inside an answer that began with HTTP 200
                    raise self._direct.error_event(MESSAGES_PATH, event.data)
                if event.event is None or event.event == "ping" or not event.data:
                    continue  # as the SDK's stream skips them
                delta = reader.feed(event.json())
                if delta is not None:
                    yield delta
        yield reader.final()

    async def list_models(self, *, timeout: float) -> list[ModelInfo]:
        """Every model the key can use (all pages of ``GET /v1/models``)."""
        self.require_key()
        return await self._guard(self._list_models(timeout), timeout)

    async def validate_credentials(self, *, timeout: float) -> None:
        """Fetch one model: cheap, no tokens spent; a bad key raises ``ProviderAuthError``."""
        self.require_key()
        await self._guard(self._client.models.list(limit=1, timeout=timeout), timeout)

    async def close(self) -> None:
        """Close the SDK's HTTP client and the direct session."""
        await self._direct.close()
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
    def _body(self, request: ChatRequest, model: str, *, stream: bool = False) -> bytes:
        """The Messages request body (JSON, encoded once) for ``request`` on ``model``."""
        params = self._params(request, model)
        if stream:
            params["stream"] = True
        return encode_json(params)

    def _params(self, request: ChatRequest, model: str) -> dict[str, Any]:
        """The Messages request's fields for ``request`` on ``model``."""
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
                params["temperature"] = request.temperature
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
        if kind in ANTHROPIC_AUTH_TYPES or status in (401, 403):
            return ProviderAuthError(f"{self.name} rejected the API key: {detail}")
        if kind in ANTHROPIC_RATE_TYPES or status in RATE_STATUSES:
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
def _image_input(info: Any) -> bool:
    capabilities = getattr(info, "capabilities", None)
    return bool(capabilities is not None and capabilities.image_input.supported)
