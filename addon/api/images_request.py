"""Image generation requests at the edge: both doors' schemas, and the model's own limits.

Every request is held to the hub's bounds (a prompt of 1 to 32,000 characters, 1 to 10
pictures, a size of ``WIDTHxHEIGHT`` with edges of 64 to 4096 pixels or ``auto``, a known
quality and format). When the request pins a model, or a provider whose image model the
options name, it is also held to that model's limits (DALL-E 3 draws one picture from at most
4,000 characters, GPT image models three sizes, Gemini four pictures in its aspect ratios...):
a 400 naming the field, before any vendor is asked. Qualities are translated into the hub's
words (``standard`` is ``medium``, ``hd`` is ``high``, ``auto`` is the model's choice).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

import voluptuous as vol

from addon.errors import InvalidRequestError
from addon.images.generated import OUTPUT_FORMATS
from addon.images.generation import (
    MAX_COUNT,
    MAX_PROMPT,
    QUALITIES,
    QUALITY_ALIASES,
    normal_quality,
    parse_size,
    rules_for,
)
from addon.models import ImageRequest
from addon.settings import STRATEGIES, ProviderSettings
from addon.validation import caller_tag

TAG: Final = vol.Any(caller_tag, None)
QUALITY_WORDS: Final = (*QUALITIES, *QUALITY_ALIASES)


def _prompt(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("must be a non-empty string")
    if len(value) > MAX_PROMPT:
        raise vol.Invalid(f"must be at most {MAX_PROMPT} characters (got {len(value)})")
    return value


def _count(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has one number type: 2.0 is the whole number 2
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_COUNT:
        raise vol.Invalid(f"must be a whole number from 1 to {MAX_COUNT}")
    return value


def _size(value: Any) -> str | None:
    if value is None or value == "auto":
        return None
    edges = parse_size(value) if isinstance(value, str) else None
    if edges is None:
        raise vol.Invalid("must be 'auto' or WIDTHxHEIGHT with edges of 64 to 4096 pixels")
    return f"{edges[0]}x{edges[1]}"


def _quality(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in QUALITY_WORDS:
        raise vol.Invalid(f"must be one of {', '.join(QUALITY_WORDS)}")
    return normal_quality(value)


def _name(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise vol.Invalid("must be a name (not blank)")
    return value


def _only(allowed: Collection[Any], why: str) -> Callable[[Any], Any]:
    """Accept a field the hub cannot honour only at a harmless value (or null)."""

    def check(value: Any) -> Any:
        if value is not None and not any(_same(value, harmless) for harmless in allowed):
            raise vol.Invalid(why)
        return value

    return check


def _same(value: Any, harmless: Any) -> bool:
    """Equal as JSON values are (``false`` is not ``0``)."""
    return isinstance(value, bool) == isinstance(harmless, bool) and value == harmless


FORMAT: Final = vol.Any(None, vol.In(OUTPUT_FORMATS, msg="must be png, jpeg or webp"))
NATIVE_SCHEMA: Final = vol.Schema(
    {
        vol.Required("prompt"): _prompt,
        vol.Optional("count", default=1): _count,
        vol.Optional("size"): _size,
        vol.Optional("quality"): _quality,
        vol.Optional("format"): FORMAT,
        vol.Optional("provider"): _name,
        vol.Optional("model"): _name,
        vol.Optional("tag"): TAG,
        vol.Optional("strategy"): vol.Any(None, vol.In(STRATEGIES)),
        vol.Optional("cache"): bool,
    }
)
OPENAI_SCHEMA: Final = vol.Schema(
    {
        vol.Required("prompt"): _prompt,
        vol.Optional("model"): vol.Any(None, str),
        vol.Optional("n", default=1): vol.Any(None, _count),
        vol.Optional("size"): _size,
        vol.Optional("quality"): _quality,
        vol.Optional("output_format"): FORMAT,
        vol.Optional("response_format"): _only(
            ("b64_json",),
            "only b64_json: the hub answers pictures inline and serves no image URLs",
        ),
        vol.Optional("background"): _only(("auto", "opaque"), "transparent is not supported"),
        vol.Optional("moderation"): _only(("auto",), "only auto is supported by the hub"),
        vol.Optional("style"): _only((), "styles are not supported: describe it in the prompt"),
        vol.Optional("output_compression"): _only((100,), "only 100 is supported by the hub"),
        vol.Optional("partial_images"): _only((0,), "partial images are not supported"),
        vol.Optional("stream"): _only((False,), "streaming is not supported by the hub"),
        vol.Optional("user"): vol.Any(None, vol.All(str, vol.Length(max=256))),
    }
)


def image_request(
    data: Mapping[str, Any],
    *,
    count: int,
    model: str,
    fmt: str | None,
    provider: ProviderSettings | None,
    field_names: Mapping[str, str] | None = None,
) -> ImageRequest:
    """The manager's request, held to the limits of the model it pins (directly or not)."""
    request = ImageRequest(
        prompt=data["prompt"],
        model=model,
        count=count,
        size=data.get("size"),
        quality=data.get("quality"),
        format=fmt,
    )
    pinned = model or (provider.media_model("images") if provider is not None else "")
    if pinned:
        problem = rules_for(pinned).problem(
            request.prompt, request.count, request.size, request.quality
        )
        if problem is not None:
            field, why = problem
            field = (field_names or {}).get(field, field)
            raise InvalidRequestError(
                f"Invalid request: {field}: {pinned} takes {why}", param=field
            )
    return request
