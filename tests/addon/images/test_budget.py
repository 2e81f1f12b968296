"""The hub-wide decode budget and pool: memory and threads never grow with the requests."""

from __future__ import annotations

import asyncio
import io
import threading
from functools import cache
from typing import Any

import pytest
from PIL import Image

from addon.errors import PayloadTooLargeError, UpstreamTimeoutError
from addon.images import ImageLimits, ImageOptions, PreparedImage, prepare_images, process
from addon.images import pipeline as pipeline_module
from addon.images.budget import (
    MIB,
    POOL_WORKERS,
    DecodeBudget,
    decode_cost,
    run_decoding,
)
from tests.addon.images import corpus

BOMB_SIDE = 6300  # 39.7 million pixels: just under the 40 MP pixel limit


@cache
def palette_bomb() -> bytes:
    """A 39.7 MP palette PNG of a few dozen KB: cheap to send, 200 MB to decode and convert."""
    out = io.BytesIO()
    Image.new("P", (BOMB_SIDE, BOMB_SIDE), 3).save(out, "PNG", compress_level=9)
    return out.getvalue()


async def prepare(*images: bytes, budget: DecodeBudget, **kwargs: Any) -> list[PreparedImage]:
    return await prepare_images(
        list(images),
        provider_type="openai",
        options=ImageOptions(),
        limits=ImageLimits(),
        budget=budget,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("fmt", "size", "mode", "target", "expected"),
    [
        # Palette PNG: one byte a pixel decoded, four for the RGB working copy.
        ("png", (6300, 6300), "P", (2048, 2048), 6300 * 6300 * 5),
        ("png", (100, 100), "RGBA", (100, 100), 100 * 100 * 8),
        ("tiff", (100, 100), "I;16", (100, 100), 100 * 100 * 6),
        # JPEG decodes near the target (DCT scaling): at most twice it per side.
        ("jpeg", (4000, 3000), "RGB", (1000, 750), 4 * 1000 * 750 * 8),
        # ... but never smaller than an eighth of the source per side.
        ("jpeg", (8000, 8000), "RGB", (16, 16), 8000 * 8000 // 64 * 8),
        ("jpeg", (200, 100), "L", (200, 100), 200 * 100 * 5),
    ],
)
def test_decode_cost(
    fmt: str, size: tuple[int, int], mode: str, target: tuple[int, int], expected: int
) -> None:
    assert decode_cost(fmt, size, mode, target) == expected


async def test_budget_hands_out_first_come_first_served() -> None:
    budget = DecodeBudget(100)
    await budget.acquire(60)
    order: list[str] = []

    async def take(name: str, cost: int) -> None:
        await budget.acquire(cost)
        order.append(name)

    big = asyncio.create_task(take("big", 80))
    await asyncio.sleep(0)
    small = asyncio.create_task(take("small", 10))  # would fit now, but waits its turn
    await asyncio.sleep(0)
    assert order == []
    budget.release(60)
    await asyncio.gather(big, small)
    assert order == ["big", "small"]
    assert budget.used == 90


async def test_the_earliest_deadline_is_served_first() -> None:
    budget = DecodeBudget(100)
    await budget.acquire(100)
    order: list[str] = []

    async def take(name: str, deadline: float) -> None:
        await budget.acquire(60, deadline)
        order.append(name)
        budget.release(60)

    late = asyncio.create_task(take("late", 50.0))
    await asyncio.sleep(0)
    urgent = asyncio.create_task(take("urgent", 10.0))  # arrived later, must answer sooner
    await asyncio.sleep(0)
    budget.release(100)
    await asyncio.gather(late, urgent)
    assert order == ["urgent", "late"]


async def test_a_cancelled_waiter_lets_the_next_one_in() -> None:
    budget = DecodeBudget(100)
    await budget.acquire(50)
    blocked = asyncio.create_task(budget.acquire(80))
    await asyncio.sleep(0)
    behind = asyncio.create_task(budget.acquire(40))
    await asyncio.sleep(0)
    assert not behind.done()
    blocked.cancel()
    await asyncio.wait_for(behind, timeout=5)
    assert budget.used == 90


def test_an_image_larger_than_the_whole_budget_is_refused() -> None:
    with pytest.raises(PayloadTooLargeError) as info:
        DecodeBudget(64 * MIB).check(3, 200 * MIB)
    assert info.value.details == {"index": 3, "limit": 64 * MIB}
    assert "Image 3 needs about 200 MiB" in info.value.message


async def test_reservation_lasts_while_the_worker_runs_even_after_the_caller_gave_up() -> None:
    budget = DecodeBudget(100)
    release = threading.Event()
    running = threading.Event()

    def work() -> str:
        running.set()
        release.wait(timeout=10)
        return "done"

    task = asyncio.create_task(run_decoding(budget, 70, work))
    await asyncio.to_thread(running.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert budget.used == 70  # the thread still holds the memory
    release.set()
    for _ in range(500):
        if budget.used == 0:
            break
        await asyncio.sleep(0.01)
    assert budget.used == 0


async def test_bomb_over_a_small_budget_is_413_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = process.prepare_one

    def guarded(data: bytes, fmt: str, index: int, **kwargs: Any) -> list[PreparedImage]:
        assert index != 1, "decoded an image the budget refuses"
        return real(data, fmt, index, **kwargs)

    monkeypatch.setattr(pipeline_module, "prepare_one", guarded)
    with pytest.raises(PayloadTooLargeError) as info:
        await prepare(corpus.jpeg(16, 16), palette_bomb(), budget=DecodeBudget(128 * MIB))
    assert info.value.details["index"] == 1


async def test_waiting_for_the_budget_counts_against_the_deadline() -> None:
    budget = DecodeBudget(256 * MIB)
    await budget.acquire(250 * MIB)  # other requests hold nearly all of it
    with pytest.raises(UpstreamTimeoutError) as info:
        await prepare(palette_bomb(), budget=budget, timeout=0.2)
    assert "deadline" in info.value.message
    assert budget.used == 250 * MIB  # nothing leaked by the request that gave up


async def test_requests_share_one_bounded_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    real = process.prepare_one
    lock = threading.Lock()
    active, peak = 0, 0

    def counting(*args: Any, **kwargs: Any) -> list[PreparedImage]:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                active -= 1

    monkeypatch.setattr(pipeline_module, "prepare_one", counting)
    budget = DecodeBudget()
    requests = [
        prepare(*(corpus.jpeg(300 + i, 200) for i in range(3)), budget=budget) for _ in range(6)
    ]
    results = await asyncio.gather(*requests)
    assert [len(r) for r in results] == [3] * 6
    assert 1 <= peak <= POOL_WORKERS
    assert budget.used == 0


async def test_a_bomb_within_budget_still_prepares() -> None:
    budget = DecodeBudget()
    (image,) = await prepare(palette_bomb(), budget=budget)
    assert max(image.width, image.height) <= 2048
    assert budget.used == 0
