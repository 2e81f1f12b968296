"""The JPEG-to-JPEG fast path: decode, resize and re-encode in YCbCr, chroma at 4:2:0 size.

The plain path asks libjpeg for RGB, resizes three full-resolution channels, and the
encoder then converts back to YCbCr and averages each 2x2 block of chroma into one sample.
Here libjpeg hands over YCbCr as coded; luma is resized to the target, chroma straight to
the half-size plane that 4:2:0 keeps, then widened back by pixel doubling, which the
encoder's 2x2 averaging undoes exactly. Same pixels to the eye, a third of the resampling
work and no colour conversion either way.
"""

from __future__ import annotations

from typing import Final

from PIL import Image, JpegImagePlugin

from addon.images.convert import is_srgb_or_unusable, orientation
from addon.images.models import ImageOptions

# libjpeg reads a 3-component JPEG as RGB only when an Adobe segment says transform 0 or,
# lacking JFIF and Adobe segments, when the component ids spell "RGB".
_RGB_COMPONENT_IDS: Final = (ord("R"), ord("G"), ord("B"))
_ADOBE_RGB: Final = 0
# Pillow's bilinear support grows with the ratio; chroma that the encoder halves again can
# take a box reduction by the whole factor first (``reducing_gap=1``) without visible loss.
CHROMA_REDUCING_GAP: Final = 1.0
SUBSAMPLING: Final = "4:2:0"


def eligible(im: Image.Image, options: ImageOptions, icc_profile: object) -> bool:
    """Whether ``im`` (opened, not loaded) can take the YCbCr path.

    Only single colour JPEGs coded as YCbCr, sRGB or untagged, going out as JPEG: anything
    else needs RGB pixels (colour management, CMYK, greyscale, PNG output) or several frames.
    """
    if options.lossless or not isinstance(im, JpegImagePlugin.JpegImageFile):
        return False
    if options.frames > 1 and getattr(im, "n_frames", 1) > 1:
        return False  # an MPO (stereo or multi-picture JPEG) asked for several frames
    if im.mode != "RGB" or im.layers != 3 or not _coded_as_ycbcr(im):
        return False
    return icc_profile is None or (
        isinstance(icc_profile, bytes) and is_srgb_or_unusable(icc_profile)
    )


def _coded_as_ycbcr(im: JpegImagePlugin.JpegImageFile) -> bool:
    """The colour space libjpeg reads a 3-component image in (``default_decompress_parms``)."""
    if "jfif" in im.info:
        return True
    if "adobe_transform" in im.info:
        return bool(im.info["adobe_transform"] != _ADOBE_RGB)
    return tuple(layer[0] for layer in im.layer) != _RGB_COMPONENT_IDS


def load(im: Image.Image, size: tuple[int, int]) -> None:
    """Decode as YCbCr, DCT-scaled to the smallest 1/2, 1/4 or 1/8 still at least ``size``."""
    im.draft("YCbCr", size if size != im.size else None)
    im.load()


def render(
    im: Image.Image, size: tuple[int, int], resample: Image.Resampling, reducing_gap: float
) -> Image.Image:
    """The loaded YCbCr ``im`` at ``size``, oriented upright, to be saved with ``SUBSAMPLING``."""
    transpose = orientation(im)
    frame = im if im.size == size else resize(im, size, resample, reducing_gap)
    return frame if transpose is None else frame.transpose(transpose)


def resize(
    im: Image.Image, size: tuple[int, int], resample: Image.Resampling, reducing_gap: float
) -> Image.Image:
    """Resize a YCbCr image: luma to ``size``, chroma to the 4:2:0 plane then doubled."""
    width, height = size
    luma, blue, red = im.split()
    luma = luma.resize(size, resample, reducing_gap=reducing_gap)
    half = ((width + 1) // 2, (height + 1) // 2)
    # Even sizes: output pixels 2i and 2i+1 both read chroma sample i, as the encoder groups
    # them. Odd sizes: each pixel reads the sample over it, so chroma does not drift by up to a
    # pixel towards the far edge; one column (row) pair then straddles two samples.
    chroma = [
        plane.resize(half, resample, reducing_gap=CHROMA_REDUCING_GAP).resize(
            size, Image.Resampling.NEAREST
        )
        for plane in (blue, red)
    ]
    return Image.merge("YCbCr", (luma, *chroma))
