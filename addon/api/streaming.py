"""Streaming answers: wait for the first item before any status line is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator


async def started[T](events: AsyncIterator[T]) -> tuple[T, AsyncIterator[T]]:
    """``events``' first item and all of ``events`` (that item included), once it has arrived.

    An error before the first item raises here, so it can still be answered with a status and
    a JSON body; after it, the stream's status line is out and errors travel inside the stream.
    """
    first = await anext(events)
    return first, _chain(first, events)


async def _chain[T](first: T, rest: AsyncIterator[T]) -> AsyncIterator[T]:
    yield first
    async for item in rest:
        yield item
