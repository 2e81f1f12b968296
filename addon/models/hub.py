"""Hub-level models: what the API hands the manager and what the manager answers.

A chat (or vision) request is a ``HubRequest``; every other capability's request is a
``MediaRequest`` around the capability's own body (``addon.models.media``). Both carry the same
routing wishes, which is all routing needs of a request (``Routed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Protocol

from addon.models.chat import ChatRequest, ToolCall, Usage
from addon.models.media import (
    Capability,
    EmbeddingRequest,
    ImageRequest,
    SpeechRequest,
    TranscriptionRequest,
)

type MediaBody = EmbeddingRequest | TranscriptionRequest | SpeechRequest | ImageRequest
"""The body of a request for a capability other than chat."""

_CAPABILITIES: Final[dict[type, Capability]] = {
    EmbeddingRequest: Capability.EMBEDDINGS,
    TranscriptionRequest: Capability.TRANSCRIPTION,
    SpeechRequest: Capability.SPEECH,
    ImageRequest: Capability.IMAGES,
}


class Routed(Protocol):
    """What routing needs of any request, chat or media: who asks, and what they wish."""

    @property
    def request_id(self) -> str:
        """The request's id (ledger, logs, the response)."""

    @property
    def provider(self) -> str | None:
        """The provider the caller pinned, if any."""

    @property
    def tag(self) -> str | None:
        """The caller's tag (routes, the ledger's cost per caller)."""

    @property
    def strategy(self) -> str | None:
        """The strategy the caller asked for (None: the hub's)."""

    @property
    def cache(self) -> bool | None:
        """The caller's cache wish (None: the cache decides)."""

    @property
    def capability(self) -> Capability:
        """What the request needs a model to do."""


DETAILS: Final = ("low", "high", "auto")
"""The image detail levels a request may ask for (``HubRequest.detail``)."""


@dataclass(frozen=True, slots=True)
class RawImage:
    """An image as the caller sent it (bytes; preprocessing happens per provider)."""

    data: bytes
    declared_type: str | None = None

    def __repr__(self) -> str:
        return f"RawImage({len(self.data)} bytes, declared={self.declared_type})"


@dataclass(frozen=True, slots=True)
class HubRequest:
    """One request to the hub: the chat itself plus routing wishes.

    ``chat.model`` is empty unless the caller pinned a model; the manager resolves it per
    provider. ``images`` ride on the last user message once prepared for a provider.
    """

    chat: ChatRequest
    request_id: str
    images: tuple[RawImage, ...] = ()
    provider: str | None = None
    tag: str | None = None
    strategy: str | None = None
    detail: str | None = None
    cache: bool | None = None  # None: the cache decides (deterministic requests only)

    @property
    def needs_vision(self) -> bool:
        """True when the request carries images."""
        return bool(self.images) or self.chat.has_images

    @property
    def capability(self) -> Capability:
        """``vision`` when the request carries images, else ``chat``."""
        return Capability.VISION if self.needs_vision else Capability.CHAT


@dataclass(frozen=True, slots=True)
class MediaRequest[B: MediaBody]:
    """One request for embeddings, a transcription, speech or images, plus routing wishes.

    ``body.model`` is empty unless the caller pinned a model; the manager resolves it per
    provider (the provider's model for the capability).
    """

    body: B
    request_id: str
    provider: str | None = None
    tag: str | None = None
    strategy: str | None = None
    cache: bool | None = None

    @property
    def capability(self) -> Capability:
        """The capability the body asks for."""
        return _CAPABILITIES[type(self.body)]


@dataclass(frozen=True, slots=True)
class MediaResponse[R]:
    """The hub's answer to a ``MediaRequest``: the provider's result and the hub's figures."""

    request_id: str
    result: R
    provider: str
    model: str
    usage: Usage
    latency_ms: float
    attempts: tuple[Attempt, ...]
    cost_usd: float = 0.0
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The figures every capability's API answer carries (each adds its result)."""
        return {
            "request_id": self.request_id,
            "provider": self.provider,
            "model": self.model,
            "usage": usage_dict(self.usage),
            "cost_usd": self.cost_usd,
            "latency_ms": self.latency_ms,
            "cached": self.cached,
            "attempts": [attempt.to_dict() for attempt in self.attempts],
        }


def usage_dict(usage: Usage) -> dict[str, Any]:
    """Every unit of ``usage`` (tokens, audio seconds, characters, images) as JSON."""
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "audio_seconds": usage.audio_seconds,
        "characters": usage.characters,
        "images": usage.images,
    }


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at one provider; ``message`` says why one that was not ``ok`` failed."""

    provider: str
    model: str
    outcome: str
    latency_ms: float
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form for responses and error details (``message`` only when there is one)."""
        body: dict[str, Any] = {
            "provider": self.provider,
            "model": self.model,
            "outcome": self.outcome,
            "latency_ms": self.latency_ms,
        }
        if self.message is not None:
            body["message"] = self.message
        return body


@dataclass(frozen=True, slots=True)
class HubResponse:
    """The hub's answer to one request."""

    request_id: str
    text: str
    provider: str
    model: str
    usage: Usage
    latency_ms: float
    attempts: tuple[Attempt, ...]
    data: Any = None
    cost_usd: float = 0.0
    cached: bool = False
    finish_reason: str = "stop"
    tool_calls: tuple[ToolCall, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The API's response body."""
        return {
            "request_id": self.request_id,
            "text": self.text,
            "data": self.data,
            "provider": self.provider,
            "model": self.model,
            "usage": {
                "input_tokens": self.usage.input_tokens,
                "output_tokens": self.usage.output_tokens,
            },
            "cost_usd": self.cost_usd,
            "latency_ms": self.latency_ms,
            "cached": self.cached,
            "finish_reason": self.finish_reason,
            "tool_calls": [
                {"id": call.id, "name": call.name, "arguments": dict(call.arguments)}
                for call in self.tool_calls
            ],
            "attempts": [attempt.to_dict() for attempt in self.attempts],
        }
