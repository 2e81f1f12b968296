"""The synchronous, CPU-bound part: decode within limits, orient, convert, resize, re-encode.

Runs in a worker thread. Only pixels leave: the output is a fresh JPEG (or PNG) written
without EXIF, GPS, XMP, comments or ICC, and nothing after the image data survives.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from PIL import Image, UnidentifiedImageError

from addon.errors import HubError, InvalidRequestError, PayloadTooLargeError, UnsupportedMediaError
from addon.images import ycbcr
from addon.images.convert import orientation, to_resizable, to_rgb
from addon.images.models import ImageLimits, ImageOptions, PreparedImage
from addon.images.sniff import MIME_TYPES, PILLOW_FORMATS

_LOGGER = logging.getLogger(__name__)

# Pillow's bilinear is an antialiasing triangle filter whose support grows with the ratio.
# After DCT scaling the ratio is below 2, where it looks like bicubic to a vision model and
# costs about 60% of bicubic's time.
RESAMPLE: Final = Image.Resampling.BILINEAR
# Shrink by whole factors with a box filter first while the ratio is >= 2x (PNG, GIF...):
# cheap, and the final pass still sees at least twice the output size.
REDUCING_GAP: Final = 2.0
# zlib level 3: most of level 6's size for a fraction of its time.
PNG_COMPRESS_LEVEL: Final = 3

_DECODE_ERRORS: Final = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    EOFError,
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
)


def target_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size with the long side at most ``max_side``, aspect kept, never upscaled."""
    long_side = max(width, height)
    if long_side <= max_side:
        return width, height
    scale = max_side / long_side
    return max(1, round(width * scale)), max(1, round(height * scale))


def frame_indices(n_frames: int, wanted: int, frame_pixels: int, limits: ImageLimits) -> list[int]:
    """Which frames of an animation to send: ``wanted`` of them, evenly spaced from the first.

    Reaching frame k decodes every frame before it, so only the first frames that fit in
    ``wanted x max_pixels`` decoded pixels are candidates.
    """
    affordable = max(1, limits.max_pixels * wanted // max(1, frame_pixels))
    usable = min(n_frames, affordable)
    count = min(wanted, usable)
    if count <= 1:
        return [0]
    return sorted({round(i * (usable - 1) / (count - 1)) for i in range(count)})


def probe(data: bytes, fmt: str, index: int, limits: ImageLimits) -> tuple[tuple[int, int], str]:
    """Read only the header of image ``index``: its size and Pillow mode.

    Both tell how much memory decoding will take; the size is checked against the pixel limit.
    """
    with _decoding(index, fmt), Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[fmt]]) as im:
        _check_pixels(index, *im.size, limits)
        return im.size, im.mode


def prepare_one(
    data: bytes,
    fmt: str,
    index: int,
    *,
    max_side: int,
    options: ImageOptions,
    limits: ImageLimits,
) -> list[PreparedImage]:
    """Prepare image ``index`` (already sniffed as ``fmt``); one result per frame sent."""
    try:
        return _prepare(data, fmt, index, max_side=max_side, options=options, limits=limits)
    except MemoryError as err:
        raise PayloadTooLargeError(
            f"Image {index} needs too much memory to decode: send a smaller image", index=index
        ) from err


@contextmanager
def _decoding(index: int, fmt: str) -> Iterator[None]:
    """Map what Pillow raises on hostile or broken input to the hub's errors."""
    try:
        yield
    except HubError:
        raise
    except Image.DecompressionBombError as err:
        raise _too_many_pixels(index, str(err)) from err
    except _DECODE_ERRORS as err:
        raise _decode_error(index, fmt, err) from err


def _decode_error(index: int, fmt: str, err: Exception) -> HubError:
    if isinstance(err, ValueError) and "too large" in str(err).lower():
        # Pillow's guard against zTXt/iCCP chunks that inflate past MAX_TEXT_CHUNK.
        return PayloadTooLargeError(
            f"Image {index} carries metadata that decompresses past a safety limit"
            " (a decompression bomb): re-save the image without metadata",
            index=index,
        )
    _LOGGER.debug("Image %d (%s) failed to decode: %r", index, fmt, err)
    return InvalidRequestError(
        f"Image {index} is truncated or corrupt (not a readable {fmt.upper()}): send the"
        " complete file",
        index=index,
        format=fmt,
    )


def _too_many_pixels(index: int, detail: str) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"Image {index} has too many pixels ({detail}): scale it down before sending",
        index=index,
    )


def _prepare(
    data: bytes,
    fmt: str,
    index: int,
    *,
    max_side: int,
    options: ImageOptions,
    limits: ImageLimits,
) -> list[PreparedImage]:
    with _decoding(index, fmt):
        opened = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[fmt]])
    with opened as im:
        width, height = im.size
        _check_pixels(index, width, height, limits)
        icc_profile = im.info.get("icc_profile")
        if ycbcr.eligible(im, options, icc_profile):
            return [_prepare_ycbcr(im, fmt, index, len(data), max_side=max_side, options=options)]
        with _decoding(index, fmt):
            n_frames = getattr(im, "n_frames", 1) if options.frames > 1 else 1
        results = []
        for frame in frame_indices(n_frames, options.frames, width * height, limits):
            with _decoding(index, fmt):
                size = _load(im, frame, index, max_side, limits)
            pixels = _render(im, size, index, icc_profile)
            results.append(_encode(pixels, fmt, len(data), options))
        return results


def _prepare_ycbcr(
    im: Image.Image,
    fmt: str,
    index: int,
    source_bytes: int,
    *,
    max_side: int,
    options: ImageOptions,
) -> PreparedImage:
    """A colour JPEG going out as JPEG: never leaves YCbCr (see ``addon.images.ycbcr``)."""
    size = target_size(*im.size, max_side)
    with _decoding(index, fmt):
        ycbcr.load(im, size)
    pixels = ycbcr.render(im, size, RESAMPLE, REDUCING_GAP)
    return _encode(pixels, fmt, source_bytes, options)


def _check_pixels(index: int, width: int, height: int, limits: ImageLimits) -> None:
    if width * height > limits.max_pixels:
        raise _too_many_pixels(
            index, f"{width}x{height} is over the limit of {limits.max_pixels:,} pixels"
        )


def _load(
    im: Image.Image, frame: int, index: int, max_side: int, limits: ImageLimits
) -> tuple[int, int]:
    """Decode ``frame`` near its target size; returns that size (pages may differ in size)."""
    if frame:
        im.seek(frame)
        _check_pixels(index, *im.size, limits)
    size = target_size(*im.size, max_side)
    if size != im.size:
        # JPEG only (a no-op elsewhere): let libjpeg scale the DCT by 1/2, 1/4 or 1/8 so
        # that the decoded image is the smallest one still at least ``size``.
        im.draft("RGB", size)
    im.load()
    return size


def _render(im: Image.Image, size: tuple[int, int], index: int, icc: object) -> Image.Image:
    transpose = orientation(im)
    try:
        frame = to_resizable(im)
    except ValueError as err:
        raise UnsupportedMediaError(
            f"Image {index} uses the {im.mode} colour mode, which the hub cannot convert:"
            " send it as an sRGB JPEG or PNG",
            index=index,
            detected=im.mode,
        ) from err
    if frame.size != size:
        frame = frame.resize(size, RESAMPLE, reducing_gap=REDUCING_GAP)
    if transpose is not None:
        frame = frame.transpose(transpose)
    return to_rgb(frame, icc if isinstance(icc, bytes) else None)


def _encode(
    im: Image.Image, source_format: str, source_bytes: int, options: ImageOptions
) -> PreparedImage:
    im.info = {}  # whatever the plugins read (exif, icc_profile, comment, xmp...) stays behind
    out = io.BytesIO()
    if options.lossless:
        im.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL)
        mime_type = MIME_TYPES["png"]
    else:
        # 4:2:0 stated, not left to the default: the YCbCr path's chroma relies on it.
        im.save(
            out,
            "JPEG",
            quality=options.quality,
            optimize=False,
            subsampling=ycbcr.SUBSAMPLING,
        )
        mime_type = MIME_TYPES["jpeg"]
    return PreparedImage(
        data=out.getvalue(),
        mime_type=mime_type,
        width=im.width,
        height=im.height,
        source_format=source_format,
        source_bytes=source_bytes,
    )
