"""Pillow's block cache: image memory is reused between images instead of faulted in afresh.

Pillow keeps no freed blocks by default, so every decoded frame, channel and resize buffer
is new memory from the kernel, and touching it page by page costs a third of a 4K photo's
processing time. A cache of small blocks removes that; what it keeps is bounded by about
``BLOCK_SIZE * BLOCKS_MAX``, whatever the size of the images seen.

Blocks beyond the cache must go back to the kernel when freed. glibc's malloc raises its mmap
threshold after the first large free, so later blocks come from per-thread heaps that keep
their peak for good (two decode threads after a few 40 MP images: +500 MB held). A fixed
threshold keeps every block mmapped and returned; musl's malloc returns memory by itself.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from typing import Final

from PIL import _imaging as pillow_core  # what PIL.Image.core is

_LOGGER = logging.getLogger(__name__)

KIB: Final = 1024
MIB: Final = 1024 * KIB
# Small blocks, because a cached block handed out for an image of another size is resized
# (realloc), which faults the pages again: with 256 KiB every block is within a line of the
# same size. 256 of them hold a 4K frame's buffers, and at most 64 MiB stays with the process.
BLOCK_SIZE: Final = 256 * KIB
BLOCKS_MAX: Final = 256
#: Pillow's own settings; when the operator sets either, theirs win.
ENV_OVERRIDES: Final = ("PILLOW_BLOCK_SIZE", "PILLOW_BLOCKS_MAX")
M_MMAP_THRESHOLD: Final = -3  # glibc's mallopt parameter number
MMAP_THRESHOLD: Final = 128 * KIB  # glibc's initial value, kept fixed

_configured = False


def reuse_image_memory() -> None:
    """Turn Pillow's block cache on for this process (once; a no-op when the env sets it)."""
    global _configured  # noqa: PLW0603 - process-wide setting, applied once
    if _configured:
        return
    _configured = True
    if any(name in os.environ for name in ENV_OVERRIDES):
        _LOGGER.debug("Pillow block cache left to %s", ", ".join(ENV_OVERRIDES))
        return
    pillow_core.set_block_size(BLOCK_SIZE)
    pillow_core.set_blocks_max(BLOCKS_MAX)
    _return_large_blocks()


def _return_large_blocks() -> None:
    """Fix glibc's mmap threshold so that freed image blocks go back to the kernel."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return  # the operator's setting wins
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return  # not glibc-like: nothing to tune
    if not mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD):
        _LOGGER.debug("mallopt(M_MMAP_THRESHOLD) refused; image memory may be kept")
