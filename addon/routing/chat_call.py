"""Chat and vision through the attempt loop: the call spec of a ``HubRequest``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from typing import TypeIs

from addon.models import (
    ChatRequest,
    ChatResponse,
    FinishReason,
    HubRequest,
    HubResponse,
    StreamDelta,
    ToolCall,
    Usage,
)
from addon.pricing import ModelPrice
from addon.providers.base import Provider, parse_structured
from addon.routing.calls import Answered, CallSpec, Quote, Settled
from addon.routing.estimate import estimate_input_tokens, output_cap
from addon.routing.prepare import CallPreparer, ImagePreparer


class ChatCall(CallSpec[ChatRequest, ChatResponse, StreamDelta, HubResponse]):
    """The calls of one chat (or vision) request."""

    def __init__(self, request: HubRequest, prepare_images: ImagePreparer) -> None:
        self._request = request
        self._calls = CallPreparer(request, prepare_images)

    @property
    def request(self) -> HubRequest:
        """The chat request being answered."""
        return self._request

    async def prepare(self, provider: Provider, timeout: float, /) -> ChatRequest:
        """The chat for ``provider``: model resolved, images prepared for its type."""
        return await self._calls.chat_for(provider, timeout)

    def model_of(self, call: ChatRequest, /) -> str:
        """The chat's model."""
        return call.model

    def bound(
        self, provider: Provider, call: ChatRequest, price: ModelPrice, /
    ) -> tuple[ChatRequest, Quote]:
        """The prompt's estimate plus the output cap; a priced call is sent with that cap."""
        tokens_in = estimate_input_tokens(call, provider.settings.type, self._request.detail)
        cap = output_cap(call, provider.traits(call.model))
        if price.output_per_mtok > 0 and call.max_tokens is None:
            call = replace(call, max_tokens=cap)  # a bound output keeps the reservation honest
        return call, Quote(call.model, price, Usage(tokens_in, cap))

    def invoke(
        self, provider: Provider, call: ChatRequest, timeout: float, /
    ) -> Awaitable[ChatResponse]:
        """One chat call."""
        return provider.chat(call, timeout=timeout)

    async def stream(
        self, provider: Provider, call: ChatRequest, timeout: float, /
    ) -> AsyncIterator[StreamDelta | ChatResponse]:
        """The deltas with text or tool calls, labelled, then the whole answer.

        A structured answer is parsed once complete (as for one-shot calls), so the final
        response carries ``data``; JSON that does not parse fails the attempt after the text
        went out.
        """
        parts: list[str] = []
        calls: list[ToolCall] = []
        usage, finish, model = Usage(), None, call.model
        async for delta in provider.chat_stream(call, timeout=timeout):
            model = delta.model or model
            if delta.text or delta.tool_calls:
                parts.append(delta.text)
                calls.extend(delta.tool_calls)
                yield replace(delta, provider=provider.name, model=model)
            usage = delta.usage or usage
            finish = delta.finish_reason or finish
        text = "".join(parts)
        yield ChatResponse(
            text=text,
            data=parse_structured(text, call.json_schema) if call.json_schema is not None else None,
            model=model,
            usage=usage,
            finish_reason=finish or FinishReason.STOP,
            tool_calls=tuple(calls),
        )

    def is_answer(self, item: StreamDelta | ChatResponse, /) -> TypeIs[ChatResponse]:
        """The whole answer ends the stream."""
        return isinstance(item, ChatResponse)

    def settled(self, answer: ChatResponse, /) -> Settled:
        """Tokens and tool calls of the answer."""
        return Settled(answer.usage, answer.model, len(answer.tool_calls))

    def respond(self, answer: ChatResponse, answered: Answered, /) -> HubResponse:
        """The hub's chat response."""
        return HubResponse(
            request_id=answered.request_id,
            text=answer.text,
            data=answer.data,
            provider=answered.provider,
            model=answered.model,
            usage=answered.usage,
            latency_ms=answered.latency_ms,
            attempts=answered.attempts,
            cost_usd=answered.cost_usd,
            finish_reason=str(answer.finish_reason),
            tool_calls=answer.tool_calls,
        )
