"""Images for vision: fast, safe, private preprocessing (Pillow).

Every image a provider receives went through ``prepare_images``: sniffed by its bytes,
checked against limits before decoding, oriented by EXIF and then stripped of all metadata,
converted to sRGB RGB, shrunk to the provider's sweet spot and re-encoded. ``fetch_image_url``
downloads an image with a size cap and a deadline, refusing private addresses.
"""

from addon.images.fetch import fetch_image_url
from addon.images.models import ImageLimits, ImageOptions, PreparedImage
from addon.images.pipeline import prepare_images
from addon.images.sniff import MIME_TYPES, sniff_format
from addon.images.vendors import default_max_side, estimate_image_tokens

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
