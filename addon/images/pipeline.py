"""``prepare_images``: cheap checks on the event loop, pixel work in a bounded set of threads."""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections.abc import Coroutine, Sequence
from typing import Any

from addon.errors import (
    InvalidRequestError,
    PayloadTooLargeError,
    UnsupportedMediaError,
    UpstreamTimeoutError,
)
from addon.images.budget import SHARED_BUDGET, DecodeBudget, decode_cost, run_decoding, run_in_pool
from addon.images.memory import reuse_image_memory
from addon.images.models import ImageLimits, ImageOptions, PreparedImage
from addon.images.process import prepare_one, probe, target_size
from addon.images.sniff import sniff_format
from addon.images.vendors import default_max_side

_LOGGER = logging.getLogger(__name__)


async def prepare_images(
    images: Sequence[bytes],
    *,
    provider_type: str,
    options: ImageOptions,
    limits: ImageLimits,
    max_workers: int = 2,
    budget: DecodeBudget = SHARED_BUDGET,
    timeout: float | None = None,
) -> list[PreparedImage]:
    """Make ``images`` safe and cheap to send to a ``provider_type`` provider.

    Each image is sniffed, checked against ``limits`` before decoding, oriented, stripped
    of metadata, converted to RGB, shrunk to ``options.max_side`` (default: the provider's
    sweet spot) and re-encoded. At most ``max_workers`` images of this request are decoded at
    once, on the hub's decode pool, each after reserving its worst-case decoded size from
    ``budget`` (shared by every request, earliest deadline first). Results keep the input
    order (an animation gives one result per frame). ``timeout`` bounds the whole
    preparation, waiting included.

    Raises ``PayloadTooLargeError`` (413; also for an image that alone needs more memory than
    the budget), ``UnsupportedMediaError`` (415), ``InvalidRequestError`` (400), each message
    naming the image's index and what to fix; ``UpstreamTimeoutError`` (504) past ``timeout``.
    """
    try:
        async with asyncio.timeout(timeout):
            return await _prepare_all(
                images,
                provider_type=provider_type,
                options=options,
                limits=limits,
                max_workers=max_workers,
                budget=budget,
                timeout=timeout,
            )
    except TimeoutError as err:
        raise UpstreamTimeoutError(
            f"The images were not ready within the request's deadline ({timeout:g}s): the hub"
            " is busy decoding other images; try again or send smaller images"
        ) from err


async def _prepare_all(
    images: Sequence[bytes],
    *,
    provider_type: str,
    options: ImageOptions,
    limits: ImageLimits,
    max_workers: int,
    budget: DecodeBudget,
    timeout: float | None,
) -> list[PreparedImage]:
    options.validate(limits)
    reuse_image_memory()
    _check_count(len(images), limits)
    formats = [_check_image(index, data, limits) for index, data in enumerate(images)]
    max_side = options.max_side or default_max_side(provider_type)
    semaphore = asyncio.Semaphore(max(1, max_workers))
    deadline = asyncio.get_running_loop().time() + (math.inf if timeout is None else timeout)
    failed = asyncio.Event()

    async def run(index: int) -> list[PreparedImage]:
        # The semaphore wakes waiters in order, so lower indices always start first: after a
        # failure the rest are skipped and the lowest failing index is the one reported.
        async with semaphore:
            if failed.is_set():
                return []
            try:
                data, fmt = images[index], formats[index]
                size, mode = await run_in_pool(functools.partial(probe, data, fmt, index, limits))
                cost = decode_cost(fmt, size, mode, target_size(*size, max_side))
                budget.check(index, cost)
                work = functools.partial(
                    prepare_one, data, fmt, index, max_side=max_side, options=options, limits=limits
                )
                return await run_decoding(budget, cost, work, deadline)
            except BaseException:
                failed.set()
                raise

    groups = await _gather_in_order([run(index) for index in range(len(images))])
    prepared = [image for group in groups for image in group]
    _check_output_count(len(prepared), limits)
    _LOGGER.debug(
        "Prepared %d image(s) for %s: %d -> %d bytes",
        len(prepared),
        provider_type,
        sum(len(data) for data in images),
        sum(len(image.data) for image in prepared),
    )
    return prepared


def _check_count(count: int, limits: ImageLimits) -> None:
    if count > limits.max_images:
        raise PayloadTooLargeError(
            f"{count} images sent, at most {limits.max_images} per request: send fewer images",
            count=count,
            limit=limits.max_images,
        )


def _check_output_count(count: int, limits: ImageLimits) -> None:
    if count > limits.max_images:
        raise PayloadTooLargeError(
            f"The animations give {count} frames, at most {limits.max_images} images per"
            " request: ask for fewer frames",
            count=count,
            limit=limits.max_images,
        )


def _check_image(index: int, data: bytes, limits: ImageLimits) -> str:
    """Checks that need no decoding: emptiness, byte size, format. Returns the format."""
    if not data:
        raise InvalidRequestError(
            f"Image {index} is empty (0 bytes): send the image's content", index=index
        )
    if len(data) > limits.max_bytes:
        raise PayloadTooLargeError(
            f"Image {index} is {len(data):,} bytes, over the limit of {limits.max_bytes:,}:"
            " send a smaller or more compressed image",
            index=index,
            limit=limits.max_bytes,
        )
    try:
        return sniff_format(data)
    except UnsupportedMediaError as err:
        detected = err.details.get("detected", "unknown")
        raise UnsupportedMediaError(
            f"Image {index} is {detected}, not an image the hub accepts:"
            " send JPEG, PNG, WebP, GIF, BMP or TIFF",
            index=index,
            detected=detected,
        ) from err


async def _gather_in_order[T](coroutines: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Run all to completion, then raise the failure of the lowest index, if any."""
    tasks = [asyncio.create_task(coroutine) for coroutine in coroutines]
    try:
        await asyncio.wait(tasks)
    finally:
        for task in tasks:
            task.cancel()  # only matters when we are cancelled ourselves
    for task in tasks:
        if (error := task.exception()) is not None:
            raise error
    return [task.result() for task in tasks]
