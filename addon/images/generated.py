"""Pictures a provider generated: checked to be real images, and re-encoded when asked.

A provider's bytes are sniffed and decoded (Pillow) before the hub hands them on, so a vendor
that sends something else fails over like any unusable answer; a picture in a format other than
the one the caller asked for (Gemini and DALL-E make PNG only) is re-encoded. The work runs on
the image decode pool, off the event loop.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from addon.errors import HubError
from addon.images.budget import run_in_pool
from addon.images.sniff import MIME_TYPES, PILLOW_FORMATS, sniff_format

if TYPE_CHECKING:
    from PIL import Image

OUTPUT_FORMATS: Final = ("png", "jpeg", "webp")
MAX_PIXELS: Final = 4096 * 4096
"""Above any model's largest picture: a bigger one is not a picture the hub asked for."""
_ENCODER_OPTIONS: Final[dict[str, dict[str, int]]] = {
    "png": {"compress_level": 6},
    "jpeg": {"quality": 90},
    "webp": {"quality": 90},
}


class NotAPictureError(ValueError):
    """The bytes are not a picture the hub can hand on (what is wrong, in the message)."""


@dataclass(frozen=True, slots=True)
class Picture:
    """A checked picture: its bytes, MIME type and size."""

    data: bytes
    mime_type: str
    width: int
    height: int


async def checked_picture(data: bytes, fmt: str | None = None) -> Picture:
    """``data`` checked to decode, re-encoded as ``fmt`` (png, jpeg, webp) when it is not."""
    return await run_in_pool(lambda: check_picture(data, fmt))


def check_picture(data: bytes, fmt: str | None = None) -> Picture:
    """The blocking work of ``checked_picture``; ``NotAPictureError`` when ``data`` is none."""
    from PIL import Image  # on first use: the add-on starts without Pillow

    try:
        found = sniff_format(data)
    except HubError as err:
        detected = err.details.get("detected", "unknown")
        raise NotAPictureError(f"something that is not an image ({detected})") from err
    try:
        with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[found]]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise NotAPictureError(f"a {width}x{height} image is larger than any model makes")
            image.load()
            if fmt is not None and fmt != found:
                return Picture(_encode(image, fmt), MIME_TYPES[fmt], width, height)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        if isinstance(err, NotAPictureError):
            raise
        raise NotAPictureError(f"a {found} image that does not decode") from err
    return Picture(data, MIME_TYPES[found], width, height)


def _encode(image: Image.Image, fmt: str) -> bytes:
    if fmt == "jpeg" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")  # JPEG has no alpha channel
    buffer = io.BytesIO()
    image.save(buffer, format=PILLOW_FORMATS[fmt], **_ENCODER_OPTIONS[fmt])
    return buffer.getvalue()
