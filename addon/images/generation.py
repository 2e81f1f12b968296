"""What each image generation model accepts: sizes, qualities, counts, prompt lengths (data).

The API checks a request against these rules at the edge (400 naming the field, when the
request pins a model), a provider checks its own model before it calls (a capability miss, so
the walk moves on to a provider that can), and budgets reserve a model's dearest picture. SDK
free. The hub's vocabulary: ``size`` is ``WIDTHxHEIGHT`` (None: the model's choice),
``quality`` one of ``low``/``medium``/``high`` (None: the model's choice); DALL-E 3's
``standard``/``hd`` are ``medium``/``high`` here.

Sources: OpenAI's Image API reference (``images.generate``: sizes, ``n``, prompt lengths per
model; GPT image output tokens by quality and size from OpenAI's cost calculator), the Gemini
API's image generation guide (aspect ratios, resolutions, tokens per image).
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

MAX_PROMPT: Final = 32_000
"""The longest prompt any model takes (OpenAI's GPT image models)."""
MAX_COUNT: Final = 10
MIN_EDGE: Final = 64
MAX_EDGE: Final = 4096
QUALITIES: Final = ("low", "medium", "high")
QUALITY_ALIASES: Final[Mapping[str, str | None]] = {
    "auto": None,
    "standard": "medium",
    "hd": "high",
}
"""What other vocabularies say, in the hub's (``auto``: the model's choice)."""
SIZE: Final = re.compile(r"^([1-9][0-9]{1,4})x([1-9][0-9]{1,4})$")
ASPECT_TOLERANCE: Final = 0.05
GEMINI_RATIOS: Final = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
# Output image tokens of OpenAI's fixed-size GPT image models (gpt-image-1, -1-mini, -1.5).
GPT_IMAGE_TOKENS: Final[Mapping[str, Mapping[str, int]]] = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}
FLEX_TOKENS_PER_MEGAPIXEL: Final = 7100
"""A high-quality megapixel of gpt-image-2 and later (about 7,024 tokens at 1024x1024)."""
FLEX_QUALITY_SHARE: Final[Mapping[str, float]] = {"low": 0.25, "medium": 0.5, "high": 1.0}
GEMINI_FLASH_TOKENS: Final = 1290
GEMINI_PRO_TOKENS: Final[Mapping[str, int]] = {"1K": 1120, "2K": 1120, "4K": 2000}
GEMINI_3_FLASH_TOKENS: Final[Mapping[str, int]] = {"1K": 1120, "2K": 1680, "4K": 2520}
SIZED_GEMINI: Final = ("gemini-pro-image", "gemini-3-flash-image")
"""The Gemini image families that take an ``imageSize`` (1K, 2K, 4K) beside the ratio."""
UNKNOWN_IMAGE_TOKENS: Final = 6240  # the dearest fixed-size GPT image (1536x1024, high)


@dataclass(frozen=True, slots=True)
class ImageRules:
    """What one family of image models accepts.

    ``sizes`` lists the sizes served (empty: any size ``fits`` allows); ``qualities`` the
    qualities it tells apart (empty: quality is not a choice there, and any is accepted).
    Gemini makes one picture per call: a request for more is that many calls (at most four).
    """

    family: str
    max_prompt: int = MAX_PROMPT
    max_count: int = MAX_COUNT
    sizes: tuple[str, ...] = ()
    qualities: tuple[str, ...] = QUALITIES
    default_size: str | None = None
    default_quality: str | None = None
    text_allowance: int = 0  # output tokens a picture's answer may add (caption, thinking)

    def problem(
        self, prompt: str, count: int, size: str | None, quality: str | None
    ) -> tuple[str, str] | None:
        """``(field, what the model takes)`` when it cannot make that request, else None."""
        if len(prompt) > self.max_prompt:
            return "prompt", f"a prompt of at most {self.max_prompt} characters (not {len(prompt)})"
        if count > self.max_count:
            return "count", f"at most {self.max_count} image(s) per request (not {count})"
        if size is not None and not self.serves_size(size):
            return "size", f"{self.describe_sizes()} (not {size})"
        if quality is not None and self.qualities and quality not in self.qualities:
            return "quality", f"the qualities {', '.join(self.qualities)} (not {quality})"
        return None

    def serves_size(self, size: str) -> bool:
        """True when a ``WIDTHxHEIGHT`` size can be made."""
        if self.sizes:
            return size in self.sizes
        dimensions = parse_size(size)
        return dimensions is not None and _fits(self.family, *dimensions)

    def describe_sizes(self) -> str:
        """The sizes served, for messages."""
        if self.sizes:
            return "the sizes " + ", ".join(self.sizes)
        return SIZE_RULES.get(self.family, f"sizes with edges of {MIN_EDGE} to {MAX_EDGE} pixels")

    def output_tokens(self, size: str | None, quality: str | None) -> int:
        """The most output tokens one picture of ``size`` and ``quality`` may bill."""
        return _output_tokens(self, size, quality)


SIZE_RULES: Final[Mapping[str, str]] = {
    "gpt-image-flex": (
        "sizes with both edges multiples of 16 and at most 3840, an aspect ratio within 3:1 "
        "and 655,360 to 8,294,400 pixels"
    ),
    "gemini-flash-image": (
        f"sizes of the aspect ratios {', '.join(GEMINI_RATIOS)} with the longest edge at most 1600"
    ),
    "gemini-pro-image": (
        f"sizes of the aspect ratios {', '.join(GEMINI_RATIOS)} with the longest edge at most 4096"
    ),
    "gemini-3-flash-image": (
        f"sizes of the aspect ratios {', '.join(GEMINI_RATIOS)} with the longest edge at most 4096"
    ),
}

GPT_FIXED_SIZES: Final = ("1024x1024", "1536x1024", "1024x1536")
_FAMILIES: Final[tuple[tuple[tuple[str, ...], ImageRules], ...]] = (
    (
        ("dall-e-3",),
        ImageRules(
            "dall-e-3",
            max_prompt=4000,
            max_count=1,
            sizes=("1024x1024", "1792x1024", "1024x1792"),
            default_size="1024x1024",
            default_quality="medium",
        ),
    ),
    (
        ("dall-e-2",),
        ImageRules(
            "dall-e-2",
            max_prompt=1000,
            sizes=("256x256", "512x512", "1024x1024"),
            qualities=(),
            default_size="1024x1024",
            default_quality="medium",  # its one quality (its price depends on the size only)
        ),
    ),
    (("gpt-image-[2-9]*", "gpt-image-[1-9][0-9]*"), ImageRules("gpt-image-flex")),
    (("gpt-image-*", "chatgpt-image*"), ImageRules("gpt-image", sizes=GPT_FIXED_SIZES)),
    (
        ("gemini-3*-flash*-image*",),
        ImageRules("gemini-3-flash-image", max_count=4, qualities=(), text_allowance=2048),
    ),
    (
        ("gemini-3*-image*",),
        ImageRules("gemini-pro-image", max_count=4, qualities=(), text_allowance=2048),
    ),
    (
        ("gemini-*-image*", "gemini-*image-generation*"),
        ImageRules("gemini-flash-image", max_count=4, qualities=(), text_allowance=512),
    ),
)
GENERIC: Final = ImageRules("generic")
"""Any other model (an OpenAI-compatible server's Flux or Stable Diffusion): the hub's bounds."""


def rules_for(model: str) -> ImageRules:
    """The rules of ``model`` (by name, lower case, without a ``vendor/`` prefix)."""
    name = model.strip().lower().rsplit("/", 1)[-1]
    for patterns, rules in _FAMILIES:
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
            return rules
    return GENERIC


def parse_size(size: str) -> tuple[int, int] | None:
    """``(width, height)`` of a ``WIDTHxHEIGHT`` size within the hub's bounds, else None."""
    match = SIZE.match(size)
    if match is None:
        return None
    width, height = int(match[1]), int(match[2])
    if not (MIN_EDGE <= width <= MAX_EDGE and MIN_EDGE <= height <= MAX_EDGE):
        return None
    return width, height


def normal_quality(quality: str | None) -> str | None:
    """A quality in the hub's vocabulary (``standard``/``hd``/``auto`` translated)."""
    if quality is None:
        return None
    lowered = quality.strip().lower()
    return QUALITY_ALIASES.get(lowered, lowered)


def aspect_ratio(width: int, height: int) -> str | None:
    """Gemini's aspect ratio for a size (within 5 %), else None."""
    wanted = width / height
    best = min(GEMINI_RATIOS, key=lambda ratio: abs(math.log(wanted / _ratio(ratio))))
    return best if abs(wanted / _ratio(best) - 1) <= ASPECT_TOLERANCE else None


def gemini_image_size(width: int, height: int) -> str:
    """Gemini 3 image models' ``imageSize`` for a size: the smallest that reaches its long edge."""
    longest = max(width, height)
    return "1K" if longest <= 1600 else "2K" if longest <= 3200 else "4K"


def _ratio(name: str) -> float:
    width, _, height = name.partition(":")
    return int(width) / int(height)


def _fits(family: str, width: int, height: int) -> bool:
    if family == "gpt-image-flex":
        return (
            width % 16 == 0
            and height % 16 == 0
            and max(width, height) <= 3840
            and max(width, height) <= 3 * min(width, height)
            and 655_360 <= width * height <= 8_294_400
        )
    if family == "gemini-flash-image" or family in SIZED_GEMINI:
        longest = 1600 if family == "gemini-flash-image" else MAX_EDGE
        return aspect_ratio(width, height) is not None and max(width, height) <= longest
    return True


def _output_tokens(rules: ImageRules, size: str | None, quality: str | None) -> int:
    family = rules.family
    if family == "gpt-image":
        by_size = GPT_IMAGE_TOKENS[quality or "high"]
        return by_size.get(size or "", max(by_size.values()))
    if family == "gpt-image-flex":
        width, height = parse_size(size or "") or (1536, 1024)  # auto picks a standard size
        share = FLEX_QUALITY_SHARE.get(quality or "high", 1.0)
        return math.ceil(FLEX_TOKENS_PER_MEGAPIXEL * share * width * height / 1_048_576)
    if family == "gemini-flash-image":
        return GEMINI_FLASH_TOKENS
    if family in SIZED_GEMINI:
        width, height = parse_size(size or "") or (1024, 1024)
        tokens = GEMINI_PRO_TOKENS if family == "gemini-pro-image" else GEMINI_3_FLASH_TOKENS
        return tokens[gemini_image_size(width, height)]
    if family.startswith("dall-e"):
        return 0  # billed per image
    return UNKNOWN_IMAGE_TOKENS
