"""Small helpers of the contract tests: requests and stream draining."""

from __future__ import annotations

from typing import Any

from addon.models import ChatRequest, Message, Role, StreamDelta
from addon.providers.base import Provider
from tests.addon.providers.contract.vendors import Vendor
from tests.fakes.base import FakeServer, RecordedRequest

# Closed and fully required: every vendor's strict structured-output mode accepts it.
LIGHT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"room": {"type": "string"}, "on": {"type": "boolean"}},
    "required": ["room", "on"],
    "additionalProperties": False,
}
LIGHT_EXAMPLE = {"room": "example", "on": False}  # what the fakes build from the schema


def ask(vendor: Vendor, text: str = "Hello?", **fields: Any) -> ChatRequest:
    """A one-message request to the vendor's chat model (``model=`` overrides it)."""
    fields.setdefault("model", vendor.model)
    return ChatRequest(messages=(Message(Role.USER, text),), **fields)


async def drain(
    provider: Provider,
    request: ChatRequest,
    *,
    timeout: float = 10,
    into: list[StreamDelta] | None = None,
) -> list[StreamDelta]:
    """Every delta of a stream; ``into`` keeps those seen before an error."""
    deltas = into if into is not None else []
    async for delta in provider.chat_stream(request, timeout=timeout):
        deltas.append(delta)
    return deltas


async def call(
    provider: Provider, request: ChatRequest, *, streaming: bool, timeout: float = 10
) -> None:
    """One chat or one drained stream."""
    if streaming:
        await drain(provider, request, timeout=timeout)
    else:
        await provider.chat(request, timeout=timeout)


def generations(vendor: Vendor, fake: FakeServer) -> list[RecordedRequest]:
    """The generation requests the fake received (not model listings)."""
    return [r for r in fake.requests if vendor.is_generation(r)]
