"""The pipeline's inputs and outputs: limits, per-request options and prepared images."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from addon.errors import InvalidRequestError

MIB: Final = 1024 * 1024
MAX_QUALITY: Final = 95  # above 95 libjpeg spends bytes without visible gain
MIN_SIDE: Final = 16


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """Hard limits, all checked before any pixel is decoded."""

    max_bytes: int = 20 * MIB
    max_images: int = 10
    max_pixels: int = 40_000_000


@dataclass(frozen=True, slots=True)
class ImageOptions:
    """How to prepare the images of one request.

    ``max_side`` caps the long side (``None``: the provider's documented sweet spot);
    ``lossless`` sends PNG instead of JPEG; ``frames`` is how many frames of an animation
    (GIF, WebP, APNG, multi-page TIFF) to send, evenly spaced from the first.
    """

    max_side: int | None = None
    quality: int = 85
    lossless: bool = False
    frames: int = 1

    def validate(self, limits: ImageLimits) -> None:
        """Raise ``InvalidRequestError`` naming the first option out of range."""
        if self.max_side is not None and self.max_side < MIN_SIDE:
            raise InvalidRequestError(
                f"max_side must be at least {MIN_SIDE} pixels, got {self.max_side}",
                field="max_side",
            )
        if not 1 <= self.quality <= MAX_QUALITY:
            raise InvalidRequestError(
                f"quality must be between 1 and {MAX_QUALITY}, got {self.quality}",
                field="quality",
            )
        if not 1 <= self.frames <= limits.max_images:
            raise InvalidRequestError(
                f"frames must be between 1 and {limits.max_images}, got {self.frames}",
                field="frames",
            )


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """One image ready for a provider: re-encoded pixels only, no metadata."""

    data: bytes
    mime_type: str
    width: int
    height: int
    source_format: str
    source_bytes: int

    def __repr__(self) -> str:
        return (
            f"PreparedImage({self.mime_type}, {self.width}x{self.height}, {len(self.data)} bytes"
            f" from {self.source_format} {self.source_bytes} bytes)"
        )
