"""Images for vision: fast, safe, private preprocessing (Pillow).

Every image a provider receives went through ``prepare_images``: sniffed by its bytes,
checked against limits before decoding, oriented by EXIF and then stripped of all metadata,
converted to sRGB RGB, shrunk to the provider's sweet spot and re-encoded. ``fetch_image_url``
downloads an image with a size cap and a deadline, refusing private addresses.

Pillow is imported with ``prepare_images``, on its first use: the add-on starts without it.
"""

from typing import TYPE_CHECKING, Any

from addon.images.fetch import fetch_image_url
from addon.images.models import ImageLimits, ImageOptions, PreparedImage
from addon.images.sniff import MIME_TYPES, sniff_format
from addon.images.vendors import default_max_side, estimate_image_tokens

if TYPE_CHECKING:
    from addon.images.pipeline import prepare_images

__all__ = [
    "MIME_TYPES",
    "ImageLimits",
    "ImageOptions",
    "PreparedImage",
    "default_max_side",
    "estimate_image_tokens",
    "fetch_image_url",
    "prepare_images",
    "sniff_format",
]


def __getattr__(name: str) -> Any:
    """``prepare_images`` (the Pillow pipeline), imported when first asked for."""
    if name == "prepare_images":
        from addon.images.pipeline import prepare_images

        return prepare_images
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
