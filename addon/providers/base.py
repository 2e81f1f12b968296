"""The provider contract: the protocol and the behaviour every provider shares.

SDK types never leave a provider module: providers take a ``ChatRequest`` and give back a
``ChatResponse`` (or ``StreamDelta`` items), the hub's vocabulary from ``addon.models``, and
likewise for the capabilities beyond chat (``media_calls``); everything here is SDK-free.
Class layers: ``core.ProviderCore`` (identity, traits, errors, deadlines) <
``media_calls.MediaCalls`` (embeddings, speech, images) < ``BaseProvider`` (chat, health).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Final, Protocol

from addon.errors import (
    ProviderBadRequestError,
    ProviderCapabilityError,
    ProviderError,
    ProviderResponseError,
)
from addon.models import (
    AudioChunk,
    Capability,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    HealthStatus,
    ImageRequest,
    ImageResponse,
    ModelInfo,
    SpeechRequest,
    SpeechResponse,
    StreamDelta,
    TranscriptDelta,
    TranscriptionRequest,
    TranscriptionResponse,
)
from addon.providers.media_calls import MediaCalls
from addon.providers.tooling import check_tool_request
from addon.structure import mismatch

if TYPE_CHECKING:
    from addon.providers.traits import ModelTraits
    from addon.settings import ProviderSettings

# Given to an SDK when no key is configured, so it never falls back to a key from the
# environment; ``BaseProvider.require_key`` stops such a call before it is sent.
PLACEHOLDER_API_KEY: Final = "not-needed"

__all__ = ["PLACEHOLDER_API_KEY", "BaseProvider", "Provider", "parse_structured", "retry_after"]


class Provider(Protocol):
    """What the manager needs from a provider. One implementation per SDK."""

    name: str
    settings: ProviderSettings

    def traits(self, model: str) -> ModelTraits:
        """Capabilities and quirks of ``model`` on this provider."""

    def resolve_model(self, request: ChatRequest) -> str:
        """The model to use: the pinned one, else the vision model for images, else the default."""

    def supports_vision(self, model: str) -> bool:
        """True when ``model`` on this provider accepts images."""

    def supports(self, capability: Capability, model: str) -> bool:
        """True when ``model`` on this provider can serve ``capability``."""

    def default_model(self, capability: Capability) -> str:
        """The model used for ``capability`` when the request pins none ("" = none)."""

    async def chat(self, request: ChatRequest, *, timeout: float) -> ChatResponse:
        """Answer ``request`` within ``timeout`` seconds."""

    def chat_stream(self, request: ChatRequest, *, timeout: float) -> AsyncIterator[StreamDelta]:
        """Stream the answer; ``timeout`` bounds the whole stream."""

    async def embed(self, request: EmbeddingRequest, *, timeout: float) -> EmbeddingResponse:
        """One vector per input, in order."""

    async def transcribe(
        self, request: TranscriptionRequest, *, timeout: float
    ) -> TranscriptionResponse:
        """The transcript of the audio."""

    def transcribe_stream(
        self, request: TranscriptionRequest, *, timeout: float
    ) -> AsyncIterator[TranscriptDelta | TranscriptionResponse]:
        """Transcript pieces, then the whole ``TranscriptionResponse``."""

    async def speak(self, request: SpeechRequest, *, timeout: float) -> SpeechResponse:
        """The text spoken."""

    def speak_stream(
        self, request: SpeechRequest, *, timeout: float
    ) -> AsyncIterator[AudioChunk | SpeechResponse]:
        """Audio chunks, then the ``SpeechResponse`` with the usage."""

    async def generate_image(self, request: ImageRequest, *, timeout: float) -> ImageResponse:
        """The generated images."""

    async def list_models(self, *, timeout: float) -> list[ModelInfo]:
        """Models the provider offers."""

    async def health(self, *, timeout: float) -> HealthStatus:
        """A cheap liveness check (no tokens spent)."""

    async def validate_credentials(self, *, timeout: float) -> None:
        """Raise ``ProviderAuthError`` when the key is rejected."""

    async def close(self) -> None:
        """Release the SDK client."""


def parse_structured(text: str, schema: Mapping[str, Any] | None = None) -> Any:
    """Decode a structured-output answer and check it against ``schema``.

    Invalid JSON or an answer that does not match is the provider's failure
    (``ProviderResponseError``: another provider may be tried), never a silent string.
    """
    candidate = text.strip()
    if candidate.startswith("```"):
        # Some models wrap JSON in a Markdown fence even when told not to.
        candidate = candidate.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(candidate)
    except ValueError as err:
        raise ProviderResponseError(
            "The model did not return valid JSON for the requested structure"
        ) from err
    problem = mismatch(value, schema) if schema is not None else None
    if problem is not None:
        raise ProviderResponseError(
            f"The model's answer does not match the requested structure: {problem}"
        )
    return value


def retry_after(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds a vendor asks us to wait, from its response headers; None when it did not say.

    ``retry-after-ms`` (OpenAI, Anthropic) wins over ``retry-after``, which is seconds or an
    HTTP date. Negative delays and dates in the past mean "now" (0); unreadable values are
    ignored, so a vendor-specific source (a body, Gemini's ``RetryInfo``) can still answer.
    """
    millis = _finite(_header(headers, "retry-after-ms"))
    if millis is not None:
        return max(0.0, millis / 1000)
    value = _header(headers, "retry-after")
    if value is None:
        return None
    seconds = _finite(value)
    if seconds is None:
        when = _http_date(value)
        if when is None:
            return None
        seconds = when - now()
    return max(0.0, seconds)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """``name`` from ``headers`` whatever its case (SDKs hand over plain dicts too)."""
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _finite(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _http_date(value: str) -> float | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # an HTTP date is always GMT
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class BaseProvider(MediaCalls):
    """Chat on top of the shared behaviour: model resolution, checks, timing, health.

    Subclasses implement ``_chat``, ``_chat_stream``, ``list_models`` and
    ``validate_credentials`` (and the media hooks of their ``media_capabilities``); they map
    SDK exceptions with their own ``map_error``.
    """

    def resolve_model(self, request: ChatRequest) -> str:
        """The pinned model, else the vision model for images, else the default model."""
        if request.model:
            return request.model
        if request.has_images and self.settings.vision_model:
            return self.settings.vision_model
        return self.settings.model

    def check_request(self, request: ChatRequest) -> None:
        """Refuse what this model cannot honour (or a call without a key), with a clear message."""
        self.require_key()
        traits = self.traits(request.model)
        if request.has_images and not self.supports_vision(request.model):
            raise ProviderBadRequestError(
                f"Model {request.model!r} on {self.name} does not accept images"
            )
        if request.uses_tools:
            if not traits.tools:
                raise ProviderCapabilityError(
                    f"Model {request.model!r} on {self.name} cannot call tools"
                )
            check_tool_request(request)

    async def chat(self, request: ChatRequest, *, timeout: float) -> ChatResponse:
        """Run ``_chat`` under the deadline, map errors, measure latency, parse structure."""
        self.check_request(request)
        started = time.perf_counter()
        response = await self._guard(self._chat(request, timeout=timeout), timeout)
        latency_ms = (time.perf_counter() - started) * 1000
        schema = request.json_schema
        data = parse_structured(response.text, schema) if schema is not None else response.data
        return ChatResponse(
            text=response.text,
            model=response.model,
            usage=response.usage,
            finish_reason=response.finish_reason,
            latency_ms=round(latency_ms, 1),
            data=data,
            tool_calls=response.tool_calls,
        )

    async def chat_stream(
        self, request: ChatRequest, *, timeout: float
    ) -> AsyncIterator[StreamDelta]:
        """Stream ``_chat_stream`` under one deadline for the whole stream, mapping errors."""
        self.check_request(request)
        async for delta in self._relay(self._chat_stream(request, timeout=timeout), timeout):
            yield delta

    async def health(self, *, timeout: float) -> HealthStatus:
        """Check liveness by listing models (free for every vendor)."""
        started = time.perf_counter()
        try:
            self.require_key()
            await self.list_models(timeout=timeout)
        except ProviderError as err:
            latency = round((time.perf_counter() - started) * 1000, 1)
            return HealthStatus(
                ok=False, latency_ms=latency, error_key=err.key, message=err.message
            )
        return HealthStatus(ok=True, latency_ms=round((time.perf_counter() - started) * 1000, 1))

    async def close(self) -> None:
        """Release the SDK client (subclasses override when they hold one)."""

    async def _chat(self, request: ChatRequest, *, timeout: float) -> ChatResponse:
        raise NotImplementedError

    def _chat_stream(self, request: ChatRequest, *, timeout: float) -> AsyncIterator[StreamDelta]:
        raise NotImplementedError

    async def list_models(self, *, timeout: float) -> list[ModelInfo]:
        """Models the provider offers."""
        raise NotImplementedError

    async def validate_credentials(self, *, timeout: float) -> None:
        """Raise ``ProviderAuthError`` when the key is rejected (default: list models)."""
        await self.list_models(timeout=timeout)
