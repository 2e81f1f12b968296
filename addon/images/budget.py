"""Hub-wide bounds on image decoding: a memory budget shared by all requests, and one pool.

Decoding is the one step where a small request can ask for a lot: a 500 KB PNG may hold 40
million palette pixels, a quarter of a gigabyte once converted. Every image therefore reserves
its worst-case decoded size from a ``DecodeBudget`` before a worker thread touches it, and the
workers come from one small process-wide pool, so neither memory nor threads grow with the
number of requests.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import heapq
import itertools
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from addon.errors import PayloadTooLargeError

MIB: Final = 1024 * 1024
DEFAULT_DECODE_BYTES: Final = 256 * MIB
POOL_WORKERS: Final = 2
# Bytes Pillow stores per pixel: one for bilevel, grey and palette images, two for 16-bit
# grey, four for everything else (RGB is stored as 32-bit pixels).
_NARROW_MODES: Final = frozenset({"1", "L", "P"})
_WIDE_MODES: Final = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
# The largest working copy of a frame: the 8-bit RGB(A) conversion, four bytes a pixel.
_WORKING_COPY_BYTES: Final = 4
# libjpeg's DCT scaling decodes at most 1/8 smaller per side, and never below the target.
_JPEG_MAX_REDUCTION: Final = 64

_pool_lock = threading.Lock()
_pool: concurrent.futures.ThreadPoolExecutor | None = None


def decode_pool() -> concurrent.futures.ThreadPoolExecutor:
    """The process-wide pool that decodes images (created on first use)."""
    global _pool  # noqa: PLW0603 - one pool per process, shared by every hub
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=POOL_WORKERS, thread_name_prefix="image-decode"
            )
        return _pool


def decode_cost(fmt: str, size: tuple[int, int], mode: str, target: tuple[int, int]) -> int:
    """Worst-case bytes needed to decode and convert one frame of ``size`` pixels.

    A JPEG is decoded by libjpeg near the ``target`` size (at most twice it per side, at
    least an eighth of the source per side); every other format is decoded whole.
    """
    pixels = size[0] * size[1]
    if fmt == "jpeg":
        pixels = min(pixels, max(4 * target[0] * target[1], pixels // _JPEG_MAX_REDUCTION))
    stored = 1 if mode in _NARROW_MODES else 2 if mode in _WIDE_MODES else 4
    return pixels * (stored + _WORKING_COPY_BYTES)


@dataclass(order=True)
class _Waiter:
    deadline: float
    arrival: int
    cost: int = field(compare=False)
    future: asyncio.Future[None] = field(compare=False)


class DecodeBudget:
    """Bytes of decoded pixels the hub may hold at once, earliest deadline first.

    Under overload, serving the request that must answer first lets it finish in time, where
    handing out memory image by image in arrival order would make every request late. Waiters
    are served strictly in order (no smaller one jumps ahead), so a large image is never
    starved. Use from one event loop; ``release_threadsafe`` from any thread.
    """

    def __init__(self, capacity: int = DEFAULT_DECODE_BYTES) -> None:
        self.capacity = capacity
        self._used = 0
        self._waiters: list[_Waiter] = []  # a heap
        self._arrivals = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def used(self) -> int:
        """Bytes reserved right now."""
        return self._used

    def check(self, index: int, cost: int) -> None:
        """Refuse an image that alone needs more than the whole budget (413)."""
        if cost > self.capacity:
            raise PayloadTooLargeError(
                f"Image {index} needs about {cost // MIB} MiB to decode, more than the"
                f" {self.capacity // MIB} MiB the hub allows for all images at once:"
                " send a smaller image",
                index=index,
                limit=self.capacity,
            )

    async def acquire(self, cost: int, deadline: float = math.inf) -> None:
        """Wait until ``cost`` bytes are free, after every waiter with an earlier deadline.

        ``deadline`` is in the event loop's clock; equal deadlines are served in arrival order.
        """
        self._loop = asyncio.get_running_loop()
        if not self._waiters and self._used + cost <= self.capacity:
            self._used += cost
            return
        waiter = _Waiter(deadline, next(self._arrivals), cost, self._loop.create_future())
        heapq.heappush(self._waiters, waiter)
        try:
            await waiter.future
        except BaseException:
            if waiter.future.done() and not waiter.future.cancelled():
                self.release(cost)  # granted just as we gave up: give it back
            else:
                waiter.future.cancel()  # left in the heap, skipped when it comes up
                self._wake()  # the next one may fit now
            raise

    def release_threadsafe(self, cost: int) -> None:
        """Give ``cost`` bytes back, from the worker thread that used them."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._used = max(0, self._used - cost)
            return
        loop.call_soon_threadsafe(self.release, cost)

    def release(self, cost: int) -> None:
        """Give ``cost`` bytes back (on the event loop's thread)."""
        self._used = max(0, self._used - cost)
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            head = self._waiters[0]
            if head.future.done():
                heapq.heappop(self._waiters)
                continue
            if self._used + head.cost > self.capacity:
                return
            heapq.heappop(self._waiters)
            self._used += head.cost
            head.future.set_result(None)


SHARED_BUDGET: Final = DecodeBudget()
"""The budget every request of this process shares unless given its own (tests)."""


async def run_in_pool[T](work: Callable[[], T]) -> T:
    """Run cheap ``work`` (a header probe) on the decode pool, with no reservation."""
    return await asyncio.wrap_future(decode_pool().submit(work))


async def run_decoding[T](
    budget: DecodeBudget, cost: int, work: Callable[[], T], deadline: float = math.inf
) -> T:
    """Run ``work`` on the decode pool once ``cost`` bytes are reserved (see ``acquire``).

    The reservation lasts until the worker finishes, even when the caller stops waiting
    (a deadline): memory in use by a running thread stays counted.
    """
    await budget.acquire(cost, deadline)
    try:
        future = decode_pool().submit(work)
    except BaseException:
        budget.release(cost)
        raise
    future.add_done_callback(lambda _: budget.release_threadsafe(cost))
    return await asyncio.wrap_future(future)
