"""Per-vendor sweet spots and image token estimates against hand-computed values."""

from __future__ import annotations

import pytest

from addon.errors import InvalidRequestError
from addon.images import default_max_side, estimate_image_tokens


@pytest.mark.parametrize(
    ("provider", "detail", "expected"),
    [
        ("openai", None, 1536),
        ("openai", "auto", 1536),
        ("openai", "high", 1536),
        ("openai", "low", 512),
        ("anthropic", None, 1568),
        ("gemini", None, 1536),
        ("gemini", "low", 768),
        ("ollama", None, 1024),
        ("openai_compatible", None, 1536),
        ("openai_compatible", "low", 512),
    ],
)
def test_default_max_side(provider: str, detail: str | None, expected: int) -> None:
    assert default_max_side(provider, detail) == expected


@pytest.mark.parametrize(
    ("provider", "size", "detail", "expected"),
    [
        # OpenAI: fit 2048, short side to 768, 85 + 170 per 512 px tile.
        ("openai", (1024, 1024), None, 85 + 170 * 4),  # -> 768x768: 2x2 tiles = 765
        ("openai", (2048, 4096), "high", 85 + 170 * 6),  # -> 1024x2048 -> 768x1536: 2x3
        ("openai", (4096, 8192), "low", 85),
        ("openai", (512, 512), None, 85 + 170),
        ("openai", (100, 100), None, 85 + 170),
        ("openai", (1536, 864), None, 85 + 170 * 6),  # -> 1365x768: 3x2
        ("openai", (513, 100), None, 85 + 170 * 2),
        ("openai_compatible", (1024, 1024), None, 765),
        # Anthropic: ceil(w*h/750) after fitting 1568, at most ~1600.
        ("anthropic", (200, 200), None, 54),
        ("anthropic", (1000, 1000), None, 1334),
        ("anthropic", (1092, 1092), None, 1590),
        ("anthropic", (1568, 882), None, 1600),
        ("anthropic", (3136, 300), None, 314),  # -> 1568x150: 235200/750 = 313.6
        # Gemini: 258 when both sides <= 384, else 258 per 768 tile after fitting 3072.
        ("gemini", (384, 384), None, 258),
        ("gemini", (385, 200), None, 258),
        ("gemini", (1536, 864), None, 258 * 4),
        ("gemini", (3072, 3072), None, 258 * 16),
        ("gemini", (6144, 3072), None, 258 * 8),  # -> 3072x1536: 4x2
        # Ollama: a flat rough rule.
        ("ollama", (1024, 576), None, 576),
        ("ollama", (64, 64), None, 576),
    ],
)
def test_estimate_image_tokens(
    provider: str, size: tuple[int, int], detail: str | None, expected: int
) -> None:
    assert estimate_image_tokens(provider, *size, detail=detail) == expected


def test_unknown_provider_type_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown provider type"):
        default_max_side("mistral")
    with pytest.raises(ValueError, match="unknown provider type"):
        estimate_image_tokens("mistral", 10, 10)


def test_bad_detail_is_an_invalid_request() -> None:
    with pytest.raises(InvalidRequestError, match="detail must be one of"):
        default_max_side("openai", "ultra")


def test_empty_size_is_rejected() -> None:
    with pytest.raises(ValueError, match="positive"):
        estimate_image_tokens("openai", 0, 10)
