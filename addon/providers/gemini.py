"""Google Gemini (Developer API) through the official ``google-genai`` SDK.

One ``genai.Client`` per provider, built once with the key, the base URL, the default timeout and
SDK retries off (the manager owns retries and failover); every call passes its own timeout in the
request's ``http_options``. SDK types stay in this module.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, Final

import aiohttp
import httpx
import httpx2
import pydantic
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

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
from addon.images.generation import rules_for
from addon.models import (
    AudioChunk,
    Capability,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    FinishReason,
    ImageRequest,
    ImageResponse,
    Message,
    ModelInfo,
    Role,
    SpeechRequest,
    SpeechResponse,
    StreamDelta,
    ToolCall,
    TranscriptDelta,
    TranscriptionRequest,
    TranscriptionResponse,
    Usage,
)
from addon.providers import gemini_audio
from addon.providers.base import PLACEHOLDER_API_KEY, BaseProvider, retry_after
from addon.providers.gemini_embed import embed_contents
from addon.providers.gemini_images import generate_pictures
from addon.providers.gemini_schema import Restorer
from addon.providers.gemini_tools import (
    CallReader,
    Declarations,
    SignatureBook,
    call_parts,
    declarations,
    response_part,
)
from addon.providers.probe import GEMINI_AUTH_REASONS
from addon.providers.tooling import tool_names
from addon.settings import ProviderSettings

_LOGGER = logging.getLogger(__name__)

API_VERSION: Final = "v1beta"
NOT_FOUND: Final = 404
NO_RETRIES: Final = types.HttpRetryOptions(attempts=1)
CONTENT_FILTER_REASONS: Final = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "LANGUAGE",
    }
)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
_TIMEOUTS: Final = (TimeoutError, httpx.TimeoutException, httpx2.TimeoutException)
_CONNECTION_ERRORS: Final = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    httpx.TransportError,
    httpx2.TransportError,
    ConnectionError,
)


def _milliseconds(seconds: float) -> int:
    """The SDK takes timeouts in whole milliseconds."""
    return max(1, math.ceil(seconds * 1000))


def _call_options(timeout: float) -> types.HttpOptions:
    """Per-call HTTP options: this call's timeout, and no SDK retries."""
    return types.HttpOptions(timeout=_milliseconds(timeout), retry_options=NO_RETRIES)


class GeminiProvider(BaseProvider):
    """The Gemini API (``generativelanguage.googleapis.com`` or a compatible base URL)."""

    provider_type = "gemini"
    sdk_errors = (
        genai_errors.APIError,
        genai_errors.UnknownApiResponseError,
        genai_errors.ContinuationInterruptedError,
        aiohttp.ClientError,
        httpx.HTTPError,
        httpx2.HTTPError,
        ConnectionError,
        json.JSONDecodeError,
        pydantic.ValidationError,
    )
    requires_api_key = True
    media_capabilities = frozenset(
        {Capability.EMBEDDINGS, Capability.TRANSCRIPTION, Capability.SPEECH, Capability.IMAGES}
    )

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._client = genai.Client(
            vertexai=False,
            # Without a key the SDK would silently use GOOGLE_API_KEY/GEMINI_API_KEY instead.
            api_key=settings.api_key.reveal() or PLACEHOLDER_API_KEY,
            http_options=types.HttpOptions(
                base_url=settings.base_url or None,
                api_version=API_VERSION,
                timeout=_milliseconds(settings.timeout),
                retry_options=NO_RETRIES,
            ),
        )
        self._signatures = SignatureBook()

    # --- calls --------------------------------------------------------------------------
    async def _chat(self, request: ChatRequest, *, timeout: float) -> ChatResponse:
        model = self.resolve_model(request)
        _LOGGER.debug("%s: generateContent model=%s", self.name, model)
        offered = declarations(request)
        response = await self._client.aio.models.generate_content(
            model=model,
            contents=self._contents(request, model),
            config=self._config(request, model, timeout, offered),
        )
        return _to_response(response, model, self._reader(request, offered.restorers))

    async def _chat_stream(
        self, request: ChatRequest, *, timeout: float
    ) -> AsyncIterator[StreamDelta]:
        model = self.resolve_model(request)
        _LOGGER.debug("%s: streamGenerateContent model=%s", self.name, model)
        offered = declarations(request)
        stream = await self._client.aio.models.generate_content_stream(
            model=model,
            contents=self._contents(request, model),
            config=self._config(request, model, timeout, offered),
        )
        summary = _StreamSummary(model, self._reader(request, offered.restorers))
        try:
            async for chunk in stream:
                text, calls = summary.add(chunk)
                if text or calls:
                    yield StreamDelta(text=text, tool_calls=calls)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        yield summary.final()

    async def _embed(self, request: EmbeddingRequest, *, timeout: float) -> EmbeddingResponse:
        options = _call_options(timeout)
        with self._known_model():
            return await embed_contents(self._client, request, options=options, provider=self.name)

    async def _transcribe(
        self, request: TranscriptionRequest, *, timeout: float
    ) -> TranscriptionResponse:
        config = types.GenerateContentConfig(http_options=_call_options(timeout))
        with self._known_model():
            return await gemini_audio.transcribe(
                self._client, request, config=config, usage_of=_usage, provider=self.name
            )

    async def _transcribe_stream(
        self, request: TranscriptionRequest, *, timeout: float
    ) -> AsyncIterator[TranscriptDelta | TranscriptionResponse]:
        config = types.GenerateContentConfig(http_options=_call_options(timeout))
        stream = gemini_audio.transcribe_stream(
            self._client, request, config=config, usage_of=_usage, provider=self.name
        )
        with self._known_model():
            async for item in stream:
                yield item

    async def _speak(self, request: SpeechRequest, *, timeout: float) -> SpeechResponse:
        options = _call_options(timeout)
        with self._known_model():
            return await gemini_audio.speak(
                self._client, request, options=options, usage_of=_usage, provider=self.name
            )

    async def _speak_stream(
        self, request: SpeechRequest, *, timeout: float
    ) -> AsyncIterator[AudioChunk | SpeechResponse]:
        stream = gemini_audio.speak_stream(
            self._client,
            request,
            options=_call_options(timeout),
            usage_of=_usage,
            provider=self.name,
        )
        with self._known_model():
            async for item in stream:
                yield item

    @contextlib.contextmanager
    def _known_model(self) -> Iterator[None]:
        """A 404 from a media call: the vendor has no such model (a capability miss)."""
        try:
            yield
        except genai_errors.APIError as err:
            if err.code == NOT_FOUND:
                raise self.unknown_model(self._vendor_message(err)) from err
            raise

    async def _generate_image(self, request: ImageRequest, *, timeout: float) -> ImageResponse:
        if not rules_for(request.model).family.startswith("gemini-"):
            raise ProviderCapabilityError(
                f"{self.name} draws with Gemini image models only (Imagen needs Vertex AI)"
            )
        options = _call_options(timeout)
        with self._known_model():
            return await generate_pictures(
                self._client, request, options=options, provider=self.name
            )

    async def list_models(self, *, timeout: float) -> list[ModelInfo]:
        """Models that can generate content (every page of ``GET /v1beta/models``)."""
        self.require_key()
        return await self._guard(self._list_models(timeout), timeout)

    async def validate_credentials(self, *, timeout: float) -> None:
        """List one model: free, and rejected with ``API_KEY_INVALID`` for a bad key."""
        self.require_key()
        config = types.ListModelsConfig(page_size=1, http_options=_call_options(timeout))
        await self._guard(self._client.aio.models.list(config=config), timeout)

    async def close(self) -> None:
        """Close the SDK's HTTP sessions."""
        await self._client.aio.aclose()
        self._client.close()

    async def _list_models(self, timeout: float) -> list[ModelInfo]:
        config = types.ListModelsConfig(http_options=_call_options(timeout))
        pager = await self._client.aio.models.list(config=config)
        models: list[ModelInfo] = []
        async for model in pager:
            if not model.name or not _generates(model):
                continue
            model_id = model.name.removeprefix("models/")
            models.append(
                ModelInfo(
                    id=model_id,
                    display_name=model.display_name,
                    vision=self.supports_vision(model_id),
                )
            )
        return models

    # --- request mapping ----------------------------------------------------------------
    def _reader(self, request: ChatRequest, restorers: Mapping[str, Restorer]) -> CallReader:
        limit = 1 if request.parallel_tool_calls is False else None  # Gemini has no switch
        return CallReader(restorers, self._signatures, limit)

    def _config(
        self, request: ChatRequest, model: str, timeout: float, offered: Declarations
    ) -> types.GenerateContentConfig:
        traits = self.traits(model)
        if request.json_schema is not None and not traits.json_schema:
            raise ProviderBadRequestError(
                f"Model {model!r} on {self.name} cannot produce structured (JSON schema) output"
            )
        temperature = request.temperature
        if temperature is not None and not traits.temperature:
            _LOGGER.debug("%s: %s takes no temperature; dropped", self.name, model)
            temperature = None
        schema = dict(request.json_schema) if request.json_schema is not None else None
        return types.GenerateContentConfig(
            http_options=_call_options(timeout),
            system_instruction=request.system_prompt if traits.system_prompt else None,
            max_output_tokens=request.max_tokens or traits.default_max_tokens,
            temperature=temperature,
            stop_sequences=list(request.stop) or None,
            response_mime_type="application/json" if schema is not None else None,
            response_json_schema=schema,
            tools=offered.tools,
            tool_config=offered.config,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            automatic_continuation=False,
        )

    def _contents(self, request: ChatRequest, model: str) -> list[types.Content]:
        """The conversation as Gemini turns (``user``/``model``); tool results ride as user.

        Models that refuse a system instruction get it as the first part of the first turn.
        """
        names = tool_names(request.messages)
        sign = self.traits(model).thought_signatures
        contents: list[types.Content] = []
        for message in request.conversation:
            role = "model" if message.role is Role.ASSISTANT else "user"
            parts = self._parts(message, names, sign=sign)
            if not parts:
                continue
            if message.role is Role.TOOL and contents and _is_tool_turn(contents[-1]):
                # Gemini wants all results of one round of function calls in one turn.
                (contents[-1].parts or []).extend(parts)
                continue
            contents.append(types.Content(role=role, parts=parts))
        if not contents:
            raise ProviderBadRequestError(f"{self.name}: the request has no message to answer")
        if request.system_prompt and not self.traits(model).system_prompt:
            _fold_system_prompt(contents, request.system_prompt)
        return contents

    def _parts(self, message: Message, names: Mapping[str, str], *, sign: bool) -> list[types.Part]:
        """One message's parts: text, inline images, function calls or a function response."""
        if message.role is Role.TOOL:
            return [response_part(message, names)]
        parts = [types.Part.from_text(text=message.content)] if message.content else []
        parts += [types.Part.from_bytes(data=i.data, mime_type=i.mime_type) for i in message.images]
        return parts + call_parts(message.tool_calls, self._signatures, sign=sign)

    # --- errors -------------------------------------------------------------------------
    def map_error(self, err: Exception) -> ProviderError:
        """Map SDK, HTTP-client and parsing errors into the hub's hierarchy."""
        if isinstance(err, genai_errors.APIError):
            return self._map_api_error(err)
        if isinstance(err, _TIMEOUTS):
            return ProviderTimeoutError(f"{self.name} did not answer in time")
        if isinstance(err, _CONNECTION_ERRORS):
            return ProviderConnectionError(
                f"{self.name} could not be reached: {type(err).__name__}"
            )
        if isinstance(err, ValueError):
            # Undecodable JSON, an SDK parse error or a body that fails the SDK's model.
            return ProviderResponseError(f"{self.name} sent a response that cannot be read")
        return super().map_error(err)

    def _map_api_error(self, err: genai_errors.APIError) -> ProviderError:
        code = err.code
        message = self._vendor_message(err)
        reasons = _error_reasons(err.details)
        if code in (401, 403) or reasons & GEMINI_AUTH_REASONS:
            return ProviderAuthError(f"{self.name} rejected the credentials: {message}")
        if code in (429, 503, 529):
            return ProviderRateLimitError(
                f"{self.name} is rate limited or overloaded: {message}",
                retry_after=_retry_after(err),
            )
        if code in (408, 504):
            return ProviderTimeoutError(f"{self.name} timed out: {message}")
        if 400 <= code < 500:
            return ProviderBadRequestError(f"{self.name} rejected the request: {message}")
        return ProviderResponseError(f"{self.name} failed with HTTP {code}: {message}")

    def _vendor_message(self, err: genai_errors.APIError) -> str:
        return self.without_key(str(err.message or err.status or "no message"))


# --- module helpers (SDK types in, hub types out) ------------------------------------------
def _fold_system_prompt(contents: list[types.Content], prompt: str) -> None:
    """Put the system prompt in front of the first user turn (for models without one)."""
    part = types.Part.from_text(text=prompt)
    first = contents[0]
    if first.role == "user" and first.parts is not None:
        first.parts.insert(0, part)
    else:
        contents.insert(0, types.Content(role="user", parts=[part]))


def _is_tool_turn(content: types.Content) -> bool:
    return bool(content.parts) and all(p.function_response for p in content.parts or [])


def _generates(model: types.Model) -> bool:
    actions = model.supported_actions
    return actions is None or "generateContent" in actions


def _usage(metadata: types.GenerateContentResponseUsageMetadata | None) -> Usage:
    """Input incl. tool-use prompt tokens; output = candidates + thoughts (billed as output)."""
    if metadata is None:
        return Usage()
    return Usage(
        input_tokens=(metadata.prompt_token_count or 0)
        + (metadata.tool_use_prompt_token_count or 0),
        output_tokens=(metadata.candidates_token_count or 0) + (metadata.thoughts_token_count or 0),
    )


def _finish_reason(
    reason: types.FinishReason | None, *, tool_calls: bool, blocked: bool
) -> FinishReason:
    """Gemini says STOP after a function call; the hub says ``tool_calls``."""
    if blocked:
        return FinishReason.CONTENT_FILTER
    name = reason.value if reason is not None else "STOP"
    if name in ("STOP", "FINISH_REASON_UNSPECIFIED"):
        return FinishReason.TOOL_CALLS if tool_calls else FinishReason.STOP
    if name == "MAX_TOKENS":
        return FinishReason.LENGTH
    if name in CONTENT_FILTER_REASONS:
        return FinishReason.CONTENT_FILTER
    return FinishReason.OTHER


def _candidate_parts(response: types.GenerateContentResponse) -> list[types.Part]:
    candidates = response.candidates or []
    content = candidates[0].content if candidates else None
    return list(content.parts or []) if content is not None else []


def _text(parts: Iterable[types.Part]) -> str:
    """Answer text, without thought summaries."""
    return "".join(part.text for part in parts if part.text and not part.thought)


def _to_response(
    response: types.GenerateContentResponse, model: str, reader: CallReader
) -> ChatResponse:
    parts = _candidate_parts(response)
    tool_calls = reader.read(parts)
    candidates = response.candidates or []
    feedback = response.prompt_feedback
    blocked = not candidates and feedback is not None and feedback.block_reason is not None
    return ChatResponse(
        text=_text(parts),
        model=response.model_version or model,
        usage=_usage(response.usage_metadata),
        finish_reason=_finish_reason(
            candidates[0].finish_reason if candidates else None,
            tool_calls=bool(tool_calls),
            blocked=blocked,
        ),
        tool_calls=tool_calls,
    )


class _StreamSummary:
    """Folds stream chunks: usage is a running total (keep the last), finish comes last."""

    def __init__(self, model: str, reader: CallReader) -> None:
        self.model = model
        self.usage = Usage()
        self.reason: types.FinishReason | None = None
        self.reader = reader
        self.blocked = False

    def add(self, chunk: types.GenerateContentResponse) -> tuple[str, tuple[ToolCall, ...]]:
        """Record one chunk; return its answer text and its (whole) function calls."""
        if chunk.model_version:
            self.model = chunk.model_version
        if chunk.usage_metadata is not None:
            self.usage = _usage(chunk.usage_metadata)
        candidates = chunk.candidates or []
        if candidates and candidates[0].finish_reason is not None:
            self.reason = candidates[0].finish_reason
        feedback = chunk.prompt_feedback
        if not candidates and feedback is not None and feedback.block_reason is not None:
            self.blocked = True
        parts = _candidate_parts(chunk)
        return _text(parts), self.reader.read(parts)

    def final(self) -> StreamDelta:
        """The closing delta: finish reason, usage and the model the vendor reported."""
        called = self.reader.count > 0
        reason = _finish_reason(self.reason, tool_calls=called, blocked=self.blocked)
        return StreamDelta(model=self.model, finish_reason=reason, usage=self.usage)


def _error_reasons(details: Any) -> set[str]:
    """``ErrorInfo.reason`` values in Google's error body."""
    return {
        str(detail.get("reason"))
        for detail in _error_details(details)
        if str(detail.get("@type", "")).endswith("google.rpc.ErrorInfo")
    }


def _error_details(details: Any) -> list[Mapping[str, Any]]:
    if not isinstance(details, Mapping):
        return []
    error = details.get("error", details)
    items = error.get("details", []) if isinstance(error, Mapping) else []
    return [item for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []


def _retry_after(err: genai_errors.APIError) -> float | None:
    """Seconds to wait: ``retry-after-ms`` / ``Retry-After`` headers, else ``RetryInfo``."""
    headers = getattr(err.response, "headers", None)
    if headers is not None:
        from_header = retry_after(headers)
        if from_header is not None:
            return from_header
    for detail in _error_details(err.details):
        if str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None
