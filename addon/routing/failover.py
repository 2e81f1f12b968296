"""The attempt loop: try the candidates in order until one answers (one-shot and streaming).

``RunState`` decides what to try next and accounts for each outcome; this module makes the
calls. A stream fails over only before its first delta: once text has reached the caller, a
failure ends the stream with its error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

from addon.errors import ProviderError, ProviderTimeoutError
from addon.models import (
    ChatResponse,
    FinishReason,
    HubRequest,
    HubResponse,
    StreamDelta,
    ToolCall,
    Usage,
)
from addon.providers.base import Provider, parse_structured
from addon.routing.guard import Ticket
from addon.routing.run import RunPlan, RunState


async def answer(plan: RunPlan, request: HubRequest, candidates: list[Provider]) -> HubResponse:
    """The first good answer among ``candidates``, or the error that explains why none came."""
    run = RunState(plan, request, candidates)
    while (slot := await run.next()) is not None:
        ticket = slot.ticket
        try:
            response = await ticket.provider.chat(ticket.chat, timeout=slot.first_byte)
        except ProviderError as err:
            await run.failed(ticket, err)
            continue
        except BaseException:
            ticket.abandon()
            raise
        run.attempts.append(await ticket.succeeded(response))
        return run.response(ticket, response)
    raise run.exhausted()


async def stream(
    plan: RunPlan, request: HubRequest, candidates: list[Provider]
) -> AsyncIterator[StreamDelta | HubResponse]:
    """Yield the answer's deltas, then the final ``HubResponse``."""
    run = RunState(plan, request, candidates)
    while (slot := await run.next()) is not None:
        ticket = slot.ticket
        iterator = ticket.provider.chat_stream(ticket.chat, timeout=slot.timeout)
        try:
            first = await _first_delta(ticket, iterator, slot.first_byte)
        except ProviderError as err:
            await run.failed(ticket, err)
            continue
        except BaseException:
            ticket.abandon()
            raise
        async for item in _relay(ticket, first, iterator):
            if isinstance(item, ChatResponse):
                run.attempts.append(await ticket.succeeded(item))
                yield run.response(ticket, item)
            else:
                yield item
        return
    raise run.exhausted()


async def _first_delta(
    ticket: Ticket, iterator: AsyncIterator[StreamDelta], within: float
) -> StreamDelta:
    """The stream's first delta, or ``ProviderTimeoutError`` when none came ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            return await anext(iterator, StreamDelta())
    except TimeoutError as err:
        raise ProviderTimeoutError(
            f"{ticket.provider.name} sent nothing within {within:.3g}s"
        ) from err


async def _relay(
    ticket: Ticket, first: StreamDelta, iterator: AsyncIterator[StreamDelta]
) -> AsyncIterator[StreamDelta | ChatResponse]:
    """Pass deltas through while collecting the whole answer for the final response.

    A structured answer is parsed once complete (as for one-shot calls), so the final response
    carries ``data``; JSON that does not parse fails the attempt after the text went out.
    """
    parts: list[str] = []
    calls: list[ToolCall] = []
    usage, finish, model = Usage(), None, ticket.chat.model
    delta: StreamDelta | None = first
    try:
        while delta is not None:
            model = delta.model or model
            if delta.text or delta.tool_calls:
                parts.append(delta.text)
                calls.extend(delta.tool_calls)
                yield replace(delta, provider=ticket.provider.name, model=model)
            usage = delta.usage or usage
            finish = delta.finish_reason or finish
            delta = await anext(iterator, None)
        text = "".join(parts)
        schema = ticket.chat.json_schema
        data = parse_structured(text, schema) if schema is not None else None
    except ProviderError as err:
        await ticket.failed(err)
        raise
    except BaseException:
        ticket.abandon()
        raise
    yield ChatResponse(
        text=text,
        data=data,
        model=model,
        usage=usage,
        latency_ms=ticket.latency_ms,
        finish_reason=finish or FinishReason.STOP,
        tool_calls=tuple(calls),
    )
