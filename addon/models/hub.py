"""Hub-level models: what the API hands the manager and what the manager answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from addon.models.chat import ChatRequest, ToolCall, Usage

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
