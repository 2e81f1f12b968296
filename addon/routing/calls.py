"""What the attempt loop needs to know about one capability: a call spec.

The loop (``run``, ``failover``) is written once. For each request the manager builds a call
spec (``chat_call.ChatCall``, ``media.EmbedCall``...) that knows, for that capability, how to
turn the request into one provider's call (the model resolved, images prepared), what the call
may cost at most (a ``Quote``: budgets and rate limits reserve it), how to make the call (one
shot or streamed), what its answer used (``Settled``) and how the hub answers (``respond``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Protocol, TypeIs

from addon.models import Attempt, Routed, Usage
from addon.pricing import ModelPrice, cost
from addon.providers.base import Provider


@dataclass(frozen=True, slots=True)
class Quote:
    """What one call may cost: its model, that model's price, the most the call may use.

    ``variant`` names what a per-unit price depends on beyond the usage (an image's
    ``"<quality> <size>"``); None when nothing does.
    """

    model: str
    price: ModelPrice
    worst: Usage
    variant: str | None = None

    @property
    def worst_usd(self) -> float:
        """The most the call can cost (what a budget reserves)."""
        return cost(self.price, self.worst, self.variant)

    def cost_of(self, usage: Usage) -> float:
        """What ``usage`` costs at this quote's price."""
        return round(cost(self.price, usage, self.variant), 8)


@dataclass(frozen=True, slots=True)
class Settled:
    """What a successful call used, as the ledger records it."""

    usage: Usage
    model: str
    tool_calls: int = 0


@dataclass(frozen=True, slots=True)
class Answered:
    """The hub's figures of an answered request, for ``CallSpec.respond``."""

    request_id: str
    provider: str
    model: str
    usage: Usage
    cost_usd: float
    latency_ms: float
    attempts: tuple[Attempt, ...]


class CallSpec[C, A, P, H](Protocol):
    """One request's calls, for one capability.

    ``C`` is the call a provider takes (a ``ChatRequest``, an ``EmbeddingRequest``...), ``A``
    the provider's answer, ``P`` a streamed piece and ``H`` the hub's response.
    """

    @property
    def request(self) -> Routed:
        """The request being answered."""

    async def prepare(self, provider: Provider, timeout: float, /) -> C:
        """The call for ``provider``: its model resolved (``timeout``: seconds left)."""

    def model_of(self, call: C, /) -> str:
        """The model ``call`` asks for."""

    def bound(self, provider: Provider, call: C, price: ModelPrice, /) -> tuple[C, Quote]:
        """The call as it will be sent (bounded where a budget needs it) and its quote."""

    def invoke(self, provider: Provider, call: C, timeout: float, /) -> Awaitable[A]:
        """Make the call in one shot."""

    def stream(self, provider: Provider, call: C, timeout: float, /) -> AsyncIterator[P | A]:
        """Make the call streamed: pieces (labelled for the caller), then the answer."""

    def is_answer(self, item: P | A, /) -> TypeIs[A]:
        """True for the stream's final answer (not a piece)."""

    def settled(self, answer: A, /) -> Settled:
        """What ``answer`` used."""

    def respond(self, answer: A, answered: Answered, /) -> H:
        """The hub's response for ``answer``."""
