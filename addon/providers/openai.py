"""OpenAI and OpenAI-compatible providers over the official ``openai`` SDK (Chat Completions).

One async client per provider, built once with SDK retries off (the manager owns retries and
failover). ``OpenAICompatibleProvider`` is the same code pointed at another server's
``base_url`` (OpenRouter, DeepSeek, LocalAI, llama.cpp server, vLLM).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import httpx
import openai
import pydantic
from openai import AsyncOpenAI, DefaultAioHttpClient
from openai.types.chat import (
    ChatCompletionMessageParam,
    ChatCompletionToolUnionParam,
    completion_create_params,
)

from addon.errors import (
    ConfigError,
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from addon.models import (
    AudioChunk,
    Capability,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    ImageRequest,
    ImageResponse,
    Message,
    ModelInfo,
    Role,
    SpeechRequest,
    SpeechResponse,
    StreamDelta,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    TranscriptDelta,
    TranscriptionRequest,
    TranscriptionResponse,
)
from addon.providers import openai_audio
from addon.providers.base import PLACEHOLDER_API_KEY, BaseProvider, retry_after
from addon.providers.direct import DirectPost, encode_json
from addon.providers.openai_embed import Encoding, create_embeddings
from addon.providers.openai_images import create_images
from addon.providers.openai_wire import ChunkReader, completion_response, stream_error
from addon.providers.probe import OPENAI_BASE_URL
from addon.providers.tooling import object_schema, vendor_id
from addon.providers.transport import connection_failure

if TYPE_CHECKING:
    from addon.providers.traits import ModelTraits
    from addon.settings import ProviderSettings

_LOGGER = logging.getLogger(__name__)

COMPLETIONS_PATH = "/chat/completions"
IMAGE_DETAIL = "auto"
# OpenAI's /models lists every product; these are not chat models.
NON_CHAT_MODEL_MARKERS = (
    "embedding",
    "tts",
    "whisper",
    "dall-e",
    "moderation",
    "transcribe",
    "realtime",
    "davinci",
    "babbage",
    "gpt-image",
    "sora",
)
STRUCTURE_INSTRUCTION = (
    "Answer with one JSON object and nothing else (no prose, no Markdown). "
    "It must conform to this JSON schema:\n{schema}"
)
_OVERLOADED_STATUSES = frozenset({503, 529})
_TRY_AGAIN = re.compile(r"try again in (\d+(?:\.\d+)?)\s*(ms|s)\b", re.IGNORECASE)
_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9_*\-]{2})[A-Za-z0-9_*\-]+")
_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]")
# OpenAI refuses tool call ids longer than 40 characters; printable ASCII keeps them safe.
_CALL_ID = re.compile(r"[\x21-\x7e]+")
_MAX_CALL_ID = 40


class OpenAIProvider(BaseProvider):
    """OpenAI's Chat Completions API through ``openai.AsyncOpenAI``."""

    provider_type = "openai"
    sdk_errors = (
        openai.OpenAIError,
        httpx.HTTPError,
        json.JSONDecodeError,
        pydantic.ValidationError,
    )
    requires_base_url = False
    requires_api_key = True
    media_capabilities = frozenset(
        {Capability.EMBEDDINGS, Capability.TRANSCRIPTION, Capability.SPEECH, Capability.IMAGES}
    )
    embedding_encoding: Encoding = "base64"
    streams_transcripts = True  # the gpt-*-transcribe models stream text deltas
    voices: frozenset[str] | None = openai_audio.OPENAI_VOICES  # others: the default voice

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        if self.requires_base_url and not settings.base_url:
            raise ConfigError(f"Provider {settings.name!r} needs a base_url")
        # The SDK's aiohttp transport (see ``transport``); its session is made on first use,
        # inside the running loop.
        self._client = AsyncOpenAI(
            api_key=settings.api_key.reveal() or PLACEHOLDER_API_KEY,
            base_url=settings.base_url or OPENAI_BASE_URL,
            max_retries=0,
            timeout=settings.timeout,
            http_client=DefaultAioHttpClient(),
        )
        self._direct = DirectPost(
            self._client,
            connection_error=openai.APIConnectionError,
            timeout_error=openai.APITimeoutError,
        )

    # --- the provider protocol ----------------------------------------------------------
    # The body ``_params`` builds is already the wire JSON: it is encoded once (the C encoder)
    # without ``create``'s typed re-transformation. A one-shot call goes out as the SDK's own
    # request (``DirectPost``) and its answer is parsed once; a stream uses the SDK's
    # request path (``post``: auth, headers, status errors) and its event parser.
    async def _chat(self, request: ChatRequest, *, timeout: float) -> ChatResponse:
        model = self.resolve_model(request)
        body = encode_json(self._params(request, model))
        answer = await self._direct.post(COMPLETIONS_PATH, body, timeout=timeout)
        return completion_response(json.loads(answer), self.name)

    async def _chat_stream(
        self, request: ChatRequest, *, timeout: float
    ) -> AsyncIterator[StreamDelta]:
        model = self.resolve_model(request)
        body = {
            **self._params(request, model),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        reader = ChunkReader(self.name)
        events = self._direct.events(COMPLETIONS_PATH, encode_json(body), timeout=timeout)
        async with contextlib.aclosing(events):  # the connection goes with an early end
            async for event in events:
                chunk = event.json()
                if (message := stream_error(chunk)) is not None:
                    request_view = self._direct.request(COMPLETIONS_PATH)
                    raise openai.APIError(message, request_view, body=chunk["error"])
                for delta in reader.feed(chunk):
                    yield delta
        if reader.chunks and reader.usage is None:
            _LOGGER.debug("%s streamed no usage for %s", self.name, model)
        for delta in reader.end(model):
            yield delta

    async def _embed(self, request: EmbeddingRequest, *, timeout: float) -> EmbeddingResponse:
        with self._known_model():
            return await create_embeddings(
                self._client,
                request,
                timeout=timeout,
                encoding=self.embedding_encoding,
                provider=self.name,
            )

    async def _transcribe(
        self, request: TranscriptionRequest, *, timeout: float
    ) -> TranscriptionResponse:
        with self._known_model():
            return await openai_audio.transcribe(
                self._client, request, timeout=timeout, provider=self.name
            )

    async def _transcribe_stream(
        self, request: TranscriptionRequest, *, timeout: float
    ) -> AsyncIterator[TranscriptDelta | TranscriptionResponse]:
        if not self.streams_transcripts or not openai_audio.streams_transcript(request.model):
            stream = super()._transcribe_stream(request, timeout=timeout)
        else:
            stream = openai_audio.transcribe_stream(
                self._client, request, timeout=timeout, provider=self.name
            )
        with self._known_model():
            async for item in stream:
                yield item

    async def _speak(self, request: SpeechRequest, *, timeout: float) -> SpeechResponse:
        with self._known_model():
            return await openai_audio.speak(
                self._client, request, timeout=timeout, provider=self.name, voices=self.voices
            )

    async def _speak_stream(
        self, request: SpeechRequest, *, timeout: float
    ) -> AsyncIterator[AudioChunk | SpeechResponse]:
        stream = openai_audio.speak_stream(
            self._client, request, timeout=timeout, provider=self.name, voices=self.voices
        )
        with self._known_model():
            async for item in stream:
                yield item

    @contextlib.contextmanager
    def _known_model(self) -> Iterator[None]:
        """A 404 from a media call: the vendor has no such model (a capability miss)."""
        try:
            yield
        except openai.NotFoundError as err:
            raise self.unknown_model(self._vendor_message(err)) from err

    async def _generate_image(self, request: ImageRequest, *, timeout: float) -> ImageResponse:
        with self._known_model():
            return await create_images(self._client, request, timeout=timeout, provider=self.name)

    async def list_models(self, *, timeout: float) -> list[ModelInfo]:
        """Models the server offers (chat models only for OpenAI itself)."""
        return await self._guard(self._list_models(timeout), timeout)

    async def validate_credentials(self, *, timeout: float) -> None:
        """List models (free): a rejected key raises ``ProviderAuthError``."""
        await self.list_models(timeout=timeout)

    async def close(self) -> None:
        """Close the SDK client and its connection pool."""
        await self._direct.close()
        await self._client.close()

    def map_error(self, err: Exception) -> ProviderError:
        """Map an ``openai`` SDK exception into the hub's hierarchy (once, here)."""
        if isinstance(err, openai.APIConnectionError):  # timeouts included
            return self._map_transport(err)
        if isinstance(err, openai.APIStatusError):
            return self._map_status(err)
        if isinstance(err, openai.APIError):
            # An error event inside an otherwise successful stream.
            return ProviderResponseError(f"{self.name} failed: {self._vendor_message(err)}")
        if isinstance(err, ValueError):
            # Invalid JSON or a body that is not the documented shape.
            return ProviderResponseError(f"{self.name} sent an unreadable answer")
        return super().map_error(err)

    def _map_transport(self, err: openai.APIConnectionError) -> ProviderError:
        refused = connection_failure(err)
        if isinstance(err, openai.APITimeoutError) and refused is None:
            return ProviderTimeoutError(f"{self.name} did not answer in time")
        cause = refused or (type(err.__cause__).__name__ if err.__cause__ else "connection error")
        return ProviderConnectionError(f"{self.name} could not be reached ({cause})")

    # --- requests -----------------------------------------------------------------------
    def _params(self, request: ChatRequest, model: str) -> dict[str, Any]:
        """The Chat Completions request body as JSON (without ``stream``)."""
        traits = self.traits(model)
        instruction = None
        params: dict[str, Any] = {"model": model}
        if request.json_schema is not None:
            params["response_format"] = _response_format(request.json_schema, traits)
            if not traits.json_schema:
                schema_text = json.dumps(request.json_schema, separators=(",", ":"))
                instruction = STRUCTURE_INSTRUCTION.format(schema=schema_text)
        params["messages"] = _messages(request, instruction)
        if request.stop:
            params["stop"] = list(request.stop)
        params.update(_tool_params(request))
        max_tokens = request.max_tokens or traits.default_max_tokens
        if max_tokens is not None:
            params[traits.max_tokens_param] = max_tokens
        if request.temperature is not None:
            if traits.temperature:
                params["temperature"] = request.temperature
            else:
                _LOGGER.debug("%s: %s takes no temperature; dropped", self.name, model)
        return params

    # --- responses ----------------------------------------------------------------------
    async def _list_models(self, timeout: float) -> list[ModelInfo]:
        self.require_key()
        found = [model.id async for model in self._client.models.list(timeout=timeout)]
        if self.provider_type == "openai":
            found = [m for m in found if not any(x in m for x in NON_CHAT_MODEL_MARKERS)]
        return [ModelInfo(id=m, vision=self.supports_vision(m)) for m in sorted(found)]

    # --- errors -------------------------------------------------------------------------
    def _map_status(self, err: openai.APIStatusError) -> ProviderError:
        status = err.status_code
        message = f"{self.name}: {self._vendor_message(err)} (HTTP {status})"
        _LOGGER.debug("%s answered HTTP %s (request id %s)", self.name, status, err.request_id)
        if status in (401, 403):
            return ProviderAuthError(message)
        if status == 429 or status in _OVERLOADED_STATUSES:
            headers = err.response.headers
            retry_after = retry_after_seconds(headers, self._vendor_message(err))
            return ProviderRateLimitError(message, retry_after=retry_after)
        if status == 408:
            return ProviderTimeoutError(message)
        if 400 <= status < 500:
            return ProviderBadRequestError(message)
        return ProviderResponseError(message)

    def _vendor_message(self, err: openai.APIError) -> str:
        """The vendor's own error message, with anything key-like blanked out."""
        body = err.body
        text = body.get("message") if isinstance(body, Mapping) else None
        if not isinstance(text, str) or not text:
            text = str(body)[:300] if body else err.message
        return self._scrub(text)

    def _scrub(self, text: str) -> str:
        # Our key, then anything else that looks like an OpenAI key.
        return _KEY_LIKE.sub(r"\1***", self.without_key(text))


class OpenAICompatibleProvider(OpenAIProvider):
    """Any server speaking OpenAI's Chat Completions API at ``base_url``; the key is optional."""

    provider_type = "openai_compatible"
    requires_base_url = True
    requires_api_key = False
    embedding_encoding: Encoding = "float"  # not every server knows base64
    streams_transcripts = False  # a local Whisper server answers once
    voices = None  # a local server's own voice names, passed as given


# --- wire mapping (pure functions) --------------------------------------------------------
def _messages(request: ChatRequest, instruction: str | None) -> list[ChatCompletionMessageParam]:
    """System prompt first (with any structure instruction), then the conversation."""
    system = "\n\n".join(p for p in (request.system_prompt, instruction) if p)
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    out.extend(_message(m) for m in request.conversation)
    return cast("list[ChatCompletionMessageParam]", out)


def _message(message: Message) -> dict[str, Any]:
    if message.images and message.role is not Role.USER:
        raise ProviderBadRequestError("Images can only ride on user messages")
    if message.role is Role.TOOL:
        if not message.tool_call_id:
            raise ProviderBadRequestError("A tool result needs the tool_call_id it answers")
        call_id = wire_call_id(message.tool_call_id)
        return {"role": "tool", "tool_call_id": call_id, "content": message.content}
    if message.role is Role.ASSISTANT:
        if not message.tool_calls:
            return {"role": "assistant", "content": message.content}
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [_wire_tool_call(call) for call in message.tool_calls],
        }
    if not message.images:
        return {"role": "user", "content": message.content}
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}]
    parts = parts if message.content else []
    for image in message.images:
        encoded = base64.b64encode(image.data).decode("ascii")
        url = f"data:{image.mime_type};base64,{encoded}"
        parts.append({"type": "image_url", "image_url": {"url": url, "detail": IMAGE_DETAIL}})
    return {"role": "user", "content": parts}


def _wire_tool_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": wire_call_id(call.id),
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(dict(call.arguments))},
    }


def wire_call_id(call_id: str) -> str:
    """A call id OpenAI accepts (ids from other vendors may be longer than 40 characters)."""
    return vendor_id(call_id, allowed=_CALL_ID, max_length=_MAX_CALL_ID, prefix="call_")


def _tool_params(request: ChatRequest) -> dict[str, Any]:
    """``tools``, ``tool_choice`` and ``parallel_tool_calls``: only what the caller asked for."""
    if not request.tools:
        return {}
    tools: list[dict[str, Any]] = []
    for index, spec in enumerate(request.tools):
        function: dict[str, Any] = {
            "name": spec.name,
            "parameters": object_schema(spec, where=f"tools[{index}]"),
        }
        if spec.description:
            function["description"] = spec.description
        tools.append({"type": "function", "function": function})
    params: dict[str, Any] = {"tools": cast("list[ChatCompletionToolUnionParam]", tools)}
    if request.tool_choice is not None:
        params["tool_choice"] = _tool_choice(request.tool_choice)
    if request.parallel_tool_calls is not None:
        params["parallel_tool_calls"] = request.parallel_tool_calls
    return params


def _tool_choice(choice: ToolChoice) -> str | dict[str, Any]:
    if choice.mode is ToolChoiceMode.TOOL:
        return {"type": "function", "function": {"name": choice.name}}
    return str(choice.mode)  # "auto", "none" and "required" are OpenAI's own words


def _response_format(
    schema: Mapping[str, Any], traits: ModelTraits
) -> completion_create_params.ResponseFormat:
    """``json_schema`` where the model supports it, else ``json_object`` (schema in the prompt)."""
    if not traits.json_schema:
        return {"type": "json_object"}
    name = _SCHEMA_NAME.sub("_", str(schema.get("title") or "response"))[:64] or "response"
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "schema": dict(schema), "strict": is_strict_schema(schema)},
    }


def is_strict_schema(schema: Mapping[str, Any]) -> bool:
    """True when OpenAI's strict mode accepts ``schema``.

    Strict mode needs every object closed (``additionalProperties: false``) with all of its
    properties required; asking strictly for anything else is a 400, so we ask loosely.
    """
    return all(_strict_object(node) for node in _subschemas(schema))


def _strict_object(node: Mapping[str, Any]) -> bool:
    is_object = node.get("type") == "object" or "properties" in node
    if not is_object:
        return True
    properties = node.get("properties") or {}
    return node.get("additionalProperties") is False and set(node.get("required") or ()) == set(
        properties
    )


def _subschemas(schema: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield schema
    children: list[Any] = list((schema.get("properties") or {}).values())
    children += list((schema.get("$defs") or {}).values())
    children += list((schema.get("definitions") or {}).values())
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        children += list(schema.get(key) or ())
    if isinstance(schema.get("items"), Mapping):
        children.append(schema["items"])
    for child in children:
        if isinstance(child, Mapping):
            yield from _subschemas(child)


def retry_after_seconds(headers: Mapping[str, str], message: str = "") -> float | None:
    """Seconds to wait: the headers (``retry-after-ms``, ``retry-after``), else the body's hint."""
    from_headers = retry_after(headers)
    if from_headers is not None:
        return from_headers
    match = _TRY_AGAIN.search(message)
    if match:
        amount = float(match.group(1))
        return amount / 1000 if match.group(2).lower() == "ms" else amount
    return None
