"""What each vendor does with an image: the size worth sending and the tokens it costs.

The numbers are the vendors' documented rules, kept as data so a rule change is a one-line edit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from addon.errors import InvalidRequestError
from addon.models import DETAILS


@dataclass(frozen=True, slots=True)
class SideRule:
    """Long-side targets for one provider type: the default and the ``detail=low`` one."""

    default: int
    low: int


# Long side worth sending; anything bigger is scaled down by the vendor and only costs upload.
MAX_SIDE: Final[Mapping[str, SideRule]] = {
    # OpenAI high detail fits the image in 2048x2048, then scales the short side to 768:
    # a 4:3..16:9 frame ends at 1024..1365 wide, so 1536 keeps every pixel the model sees.
    # Low detail: the model sees one 512x512 version.
    "openai": SideRule(default=1536, low=512),
    # Anthropic: images whose long edge exceeds 1568 px are scaled down before the model.
    # Low: 768 keeps a 16:9 frame near 590 tokens instead of ~1600.
    "anthropic": SideRule(default=1568, low=768),
    # Gemini: up to 3072 px, tiled in 768x768 crops of 258 tokens: 1536 is 2x2 tiles for
    # a landscape frame. Low: one 768 tile.
    "gemini": SideRule(default=1536, low=768),
    # Ollama: local encoders (Gemma 3 SigLIP 896, LLaVA 336/672, Qwen-VL 28 px patches) work at
    # about 1k or below; more pixels only slow the CPU/GPU of a home server.
    "ollama": SideRule(default=1024, low=512),
    # OpenAI-compatible servers mostly front OpenAI-like models: same rule as OpenAI.
    "openai_compatible": SideRule(default=1536, low=512),
}

# OpenAI: fit into 2048x2048, scale the short side down to 768, count 512 px tiles;
# 85 base tokens plus 170 per tile (low detail: the 85 only).
OPENAI_FIT: Final = 2048
OPENAI_SHORT_SIDE: Final = 768
OPENAI_TILE: Final = 512
OPENAI_BASE_TOKENS: Final = 85
OPENAI_TILE_TOKENS: Final = 170
# Anthropic: tokens = width * height / 750 after fitting the long side into 1568; images over
# about 1600 tokens are scaled down first, so that is the most one image costs.
ANTHROPIC_LONG_SIDE: Final = 1568
ANTHROPIC_PIXELS_PER_TOKEN: Final = 750
ANTHROPIC_MAX_TOKENS: Final = 1600
# Gemini 2.x: both sides <= 384 -> 258 tokens; otherwise 258 per 768x768 tile, after fitting
# into 3072x3072.
GEMINI_FIT: Final = 3072
GEMINI_SMALL_SIDE: Final = 384
GEMINI_TILE: Final = 768
GEMINI_TILE_TOKENS: Final = 258
# Ollama: local encoders use a fixed grid whatever the input size: Gemma 3 spends 256 tokens
# per image, LLaVA 1.5 576 (24x24 patches of 336 px). Reserve the larger, a rough rule.
OLLAMA_IMAGE_TOKENS: Final = 576


def default_max_side(provider_type: str, detail: str | None = None) -> int:
    """The long side (pixels) worth sending to ``provider_type`` at ``detail``.

    ``detail`` is ``low``, ``high``, ``auto`` or ``None`` (the last three mean the default).
    """
    rule = _rule(provider_type)
    return rule.low if _is_low(detail) else rule.default


def estimate_image_tokens(
    provider_type: str, width: int, height: int, detail: str | None = None
) -> int:
    """The input tokens ``provider_type`` will charge for one ``width`` x ``height`` image."""
    _rule(provider_type)
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    if provider_type in ("openai", "openai_compatible"):
        return _openai_tokens(width, height, low=_is_low(detail))
    if provider_type == "anthropic":
        return _anthropic_tokens(width, height)
    if provider_type == "gemini":
        return _gemini_tokens(width, height)
    return OLLAMA_IMAGE_TOKENS


def _rule(provider_type: str) -> SideRule:
    try:
        return MAX_SIDE[provider_type]
    except KeyError:
        raise ValueError(f"unknown provider type {provider_type!r}") from None


def _is_low(detail: str | None) -> bool:
    if detail is not None and detail not in DETAILS:
        raise InvalidRequestError(
            f"detail must be one of {', '.join(DETAILS)}, got {detail!r}", field="detail"
        )
    return detail == "low"


def _fit(width: float, height: float, box: float) -> tuple[float, float]:
    """Scale down (never up) so that the long side fits ``box``."""
    scale = min(1.0, box / max(width, height))
    return width * scale, height * scale


def _openai_tokens(width: int, height: int, *, low: bool) -> int:
    if low:
        return OPENAI_BASE_TOKENS
    w, h = _fit(width, height, OPENAI_FIT)
    short = min(w, h)
    if short > OPENAI_SHORT_SIDE:
        w, h = w * OPENAI_SHORT_SIDE / short, h * OPENAI_SHORT_SIDE / short
    tiles = _tiles(w, OPENAI_TILE) * _tiles(h, OPENAI_TILE)
    return OPENAI_BASE_TOKENS + OPENAI_TILE_TOKENS * tiles


def _anthropic_tokens(width: int, height: int) -> int:
    w, h = _fit(width, height, ANTHROPIC_LONG_SIDE)
    return min(math.ceil(round(w) * round(h) / ANTHROPIC_PIXELS_PER_TOKEN), ANTHROPIC_MAX_TOKENS)


def _gemini_tokens(width: int, height: int) -> int:
    if width <= GEMINI_SMALL_SIDE and height <= GEMINI_SMALL_SIDE:
        return GEMINI_TILE_TOKENS
    w, h = _fit(width, height, GEMINI_FIT)
    return GEMINI_TILE_TOKENS * _tiles(w, GEMINI_TILE) * _tiles(h, GEMINI_TILE)


def _tiles(length: float, tile: int) -> int:
    # A tiny float excess (1536.0000001) must not cost a whole extra tile.
    return max(1, math.ceil(round(length, 6) / tile))
