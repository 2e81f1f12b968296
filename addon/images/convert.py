"""Pixel conversions: every Pillow mode to 8-bit RGB, colour profiles to sRGB, EXIF orientation."""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Final, cast

from PIL import Image, ImageCms

_LOGGER = logging.getLogger(__name__)

# Mid grey: dark and light foregrounds of a transparent image both stay visible over it.
BACKGROUND: Final = (128, 128, 128)
EXIF_ORIENTATION: Final = 0x0112

ORIENTATIONS: Final[Mapping[int, Image.Transpose]] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Modes the resampler handles as they are (RGBA/LA are premultiplied by Pillow while resizing).
RESIZABLE: Final = frozenset({"RGB", "RGBA", "L", "LA", "CMYK"})
_SIXTEEN_BIT: Final = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def orientation(im: Image.Image) -> Image.Transpose | None:
    """The transpose that the EXIF orientation tag asks for (``None``: upright or unknown)."""
    try:
        value = im.getexif().get(EXIF_ORIENTATION)
    except (OSError, ValueError, SyntaxError, TypeError, KeyError):
        return None  # broken EXIF: show the pixels as stored
    return ORIENTATIONS.get(value) if isinstance(value, int) else None


def to_resizable(im: Image.Image) -> Image.Image:
    """Convert modes the resampler cannot take (palette, 1-bit, 16/32-bit...) to 8-bit ones."""
    if im.mode in _SIXTEEN_BIT or im.mode in ("I", "F"):
        return _wide_to_l(im)
    return (
        im
        if im.mode in RESIZABLE and "transparency" not in im.info
        else im.convert(_resizable_mode(im))
    )


def _resizable_mode(im: Image.Image) -> str:
    has_alpha = im.mode in ("PA", "RGBa") or "transparency" in im.info
    if im.mode in ("L", "1"):
        return "LA" if has_alpha else "L"
    if im.mode in ("LA", "RGBA", "CMYK"):
        return im.mode
    # P, PA, RGB with a transparent colour, RGBa, RGBX, YCbCr, HSV; LAB raises ValueError
    return "RGBA" if has_alpha else "RGB"


def _wide_to_l(im: Image.Image) -> Image.Image:
    """Scale 16/32-bit and float grey to 8 bits (Pillow's own convert clips at 255 instead)."""
    wide = im.convert("I") if im.mode in _SIXTEEN_BIT else im
    # single-band images: (min, max)
    low, high = cast("tuple[float, float]", wide.getextrema())
    if im.mode == "F" and low >= 0 and high <= 1:
        factor = 255.0
    elif high <= 255 and im.mode not in _SIXTEEN_BIT:
        factor = 1.0
    else:
        factor = 255 / 65535
    return wide.point(lambda value: value * factor).convert("L")


def to_rgb(im: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Turn a resizable-mode image into sRGB ``RGB``; transparency goes over a grey background."""
    if im.mode in ("RGBA", "LA"):
        rgba = im.convert("RGBA") if im.mode == "LA" else im
        background = Image.new("RGB", im.size, BACKGROUND)
        background.paste(rgba, mask=rgba.getchannel("A"))
        im = background
    if icc_profile and im.mode in ("RGB", "CMYK"):
        converted = _apply_profile(im, icc_profile)
        if converted is not None:
            return converted
    return im if im.mode == "RGB" else im.convert("RGB")


def is_srgb_or_unusable(icc_profile: bytes) -> bool:
    """Whether an RGB image tagged ``icc_profile`` is sent as it is (``to_rgb`` keeps it)."""
    return _transform(icc_profile, "RGB") is None


def _apply_profile(im: Image.Image, icc_profile: bytes) -> Image.Image | None:
    transform = _transform(icc_profile, im.mode)
    if transform is None:
        return None
    return ImageCms.applyTransform(im, transform)


@lru_cache(maxsize=16)
def _transform(icc_profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """An ICC -> sRGB transform (None when the profile is sRGB already or unusable)."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if mode == "RGB" and "srgb" in ImageCms.getProfileDescription(source).lower():
            return None
        # NOCACHE: one transform is shared by the worker threads.
        return ImageCms.buildTransform(source, _SRGB, mode, "RGB", flags=ImageCms.Flags.NOCACHE)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as err:
        _LOGGER.debug("Ignoring an unusable ICC profile: %s", err)
        return None
