"""The pricing file's structure (``pricing.yaml``), validated before the table is built."""

from __future__ import annotations

from datetime import date
from typing import Any, Final

import voluptuous as vol

from addon.errors import ConfigError
from addon.settings import PROVIDER_TYPES
from addon.validation import humanize

CHAT_SECTION: Final = "models"
"""Chat and vision prices (per million tokens)."""
MEDIA_SECTIONS: Final = ("embeddings", "transcription", "speech", "images")
"""One section per capability beyond chat, named as ``addon.models.Capability``'s values."""
UNITS: Final = ("input", "output", "audio_minute", "characters", "image")

_USD = vol.All(vol.Any(int, float), vol.Coerce(float), vol.Range(min=0))
_PATTERNS = vol.Any(
    vol.All(str, vol.Length(min=1)), vol.All([vol.All(str, vol.Length(min=1))], vol.Length(min=1))
)
_CHAT_RULE = vol.Schema({vol.Required("match"): _PATTERNS, vol.Required("input"): _USD,
                         vol.Required("output"): _USD})  # fmt: skip
_IMAGE = vol.Any(_USD, vol.Schema({vol.All(str, vol.Length(min=1)): _USD}))


def _some_unit(entry: dict[str, Any]) -> dict[str, Any]:
    if not any(unit in entry for unit in UNITS):
        raise vol.Invalid(f"lists no price (one of {', '.join(UNITS)})")
    return entry


_MEDIA_RULE = vol.All(
    vol.Schema(
        {
            vol.Required("match"): _PATTERNS,
            vol.Optional("input"): _USD,
            vol.Optional("output"): _USD,
            vol.Optional("audio_minute"): _USD,
            vol.Optional("characters"): _USD,
            vol.Optional("image"): _IMAGE,
        }
    ),
    _some_unit,
)
_PRICE = vol.Schema({vol.Required("input"): _USD, vol.Required("output"): _USD})
_TYPE = vol.In(PROVIDER_TYPES)
_SECTIONS: dict[Any, Any] = {
    vol.Required("version"): 1,
    vol.Optional("checked"): vol.Any(str, date),
    vol.Required(CHAT_SECTION): {_TYPE: vol.Any(None, [_CHAT_RULE])},
    vol.Optional("unknown", default=dict): {_TYPE: _PRICE},
}
_SECTIONS.update(
    {vol.Optional(section): {_TYPE: vol.Any(None, [_MEDIA_RULE])} for section in MEDIA_SECTIONS}
)
FILE_SCHEMA: Final = vol.Schema(_SECTIONS)


def validate(raw: Any, source: str) -> dict[str, Any]:
    """The pricing data checked against ``FILE_SCHEMA``; ``ConfigError`` naming what is wrong."""
    if not isinstance(raw, dict):
        raise ConfigError(f"Invalid pricing file {source}: expected a mapping")
    try:
        data: dict[str, Any] = FILE_SCHEMA(raw)
    except vol.Invalid as err:
        raise ConfigError(f"Invalid pricing file {source}: {humanize(err)}") from err
    return data
