"""The attempt loop: try the candidates in order until one answers (one-shot and streaming).

``RunState`` decides what to try next and accounts for each outcome; this module makes the
calls through the request's call spec, the same way for every capability. A stream fails over
only before its first piece: once a piece has reached the caller, a failure ends the stream
with its error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from addon.errors import ProviderError, ProviderResponseError, ProviderTimeoutError
from addon.providers.base import Provider
from addon.routing.calls import CallSpec
from addon.routing.guard import Ticket
from addon.routing.run import RunPlan, RunState


async def answer[C, A, P, H](
    plan: RunPlan, spec: CallSpec[C, A, P, H], candidates: list[Provider]
) -> H:
    """The first good answer among ``candidates``, or the error that explains why none came."""
    run = RunState(plan, spec, candidates)
    while (slot := await run.next()) is not None:
        ticket = slot.ticket
        try:
            result = await spec.invoke(ticket.provider, slot.call, slot.first_byte)
        except ProviderError as err:
            await run.failed(ticket, err)
            continue
        except BaseException:
            ticket.abandon()
            raise
        return await run.succeeded(ticket, result)
    raise run.exhausted()


async def stream[C, A, P, H](
    plan: RunPlan, spec: CallSpec[C, A, P, H], candidates: list[Provider]
) -> AsyncIterator[P | H]:
    """Yield the answer's pieces, then the hub's response."""
    run = RunState(plan, spec, candidates)
    while (slot := await run.next()) is not None:
        ticket = slot.ticket
        items = spec.stream(ticket.provider, slot.call, slot.timeout)
        try:
            first = await _first(items, ticket, slot.first_byte)
        except ProviderError as err:
            await run.failed(ticket, err)
            continue
        except BaseException:
            ticket.abandon()
            raise
        async for item in _relay(run, ticket, first, items):
            yield item
        return
    raise run.exhausted()


async def _relay[C, A, P, H](
    run: RunState[C, A, P, H], ticket: Ticket, first: P | A, items: AsyncIterator[P | A]
) -> AsyncIterator[P | H]:
    """Pass the pieces on; settle the call when its answer comes (or fails) at the end."""
    item = first
    try:
        while not run.spec.is_answer(item):
            yield item
            item = await _next(items, ticket)
    except ProviderError as err:
        await ticket.failed(err)
        raise
    except BaseException:
        ticket.abandon()
        raise
    yield await run.succeeded(ticket, item)


async def _first[T](items: AsyncIterator[T], ticket: Ticket, within: float) -> T:
    """The stream's first item, or ``ProviderTimeoutError`` when none came ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            return await _next(items, ticket)
    except TimeoutError as err:
        raise ProviderTimeoutError(
            f"{ticket.provider.name} sent nothing within {within:.3g}s"
        ) from err


async def _next[T](items: AsyncIterator[T], ticket: Ticket) -> T:
    """The next item; a stream that ends before its answer is the provider's failure."""
    try:
        return await anext(items)
    except StopAsyncIteration:
        raise ProviderResponseError(
            f"{ticket.provider.name}'s stream ended without its answer"
        ) from None
