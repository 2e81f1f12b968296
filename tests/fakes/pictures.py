"""Deterministic, valid pictures for the fakes' image generation (Pillow).

The same prompt, index, size and format always give the same bytes, so a test can check that
the hub passed an image through untouched; different prompts give different colours, so a test
can tell the images of a request apart. Every picture decodes with Pillow.
"""

from __future__ import annotations

import hashlib
import io
from typing import Final

from PIL import Image, ImageDraw

PILLOW_FORMATS: Final = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
MIME_TYPES: Final = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def colour(prompt: str, index: int) -> tuple[int, int, int]:
    """The background colour of picture ``index`` of ``prompt``."""
    digest = hashlib.sha256(f"{index}:{prompt}".encode()).digest()
    return digest[0], digest[1], digest[2]


def picture(prompt: str, index: int, width: int, height: int, fmt: str = "png") -> bytes:
    """An encoded ``width`` x ``height`` picture (``fmt``: png, jpeg or webp).

    A flat background in the prompt's colour with a contrasting band across the middle: small
    to encode and send, yet a real image of the asked size.
    """
    background = colour(prompt, index)
    image = Image.new("RGB", (width, height), background)
    band = tuple(255 - channel for channel in background)
    ImageDraw.Draw(image).rectangle(
        (0, height // 3, width - 1, 2 * height // 3), fill=(band[0], band[1], band[2])
    )
    buffer = io.BytesIO()
    image.save(buffer, format=PILLOW_FORMATS[fmt], **_options(fmt))
    return buffer.getvalue()


def _options(fmt: str) -> dict[str, int | bool]:
    """Fast, reproducible encoder settings."""
    if fmt == "png":
        return {"compress_level": 1}
    if fmt == "webp":
        return {"quality": 80, "method": 0}
    return {"quality": 85}
