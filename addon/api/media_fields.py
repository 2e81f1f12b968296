"""Fields the audio endpoints share: validators that take JSON values and form strings alike.

A multipart form carries every field as text, so numbers and flags are read from either their
JSON type or their usual spelling (``16000``, ``true``). Errors name the field (``param``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import voluptuous as vol

from addon.validation import caller_tag

TAG: Final = vol.Any(caller_tag, None)
NAME: Final = vol.Any(None, vol.All(str, vol.Length(min=1, max=200)))
LANGUAGE: Final = vol.Any(
    None,
    vol.All(
        str,
        vol.Match(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$", msg="must be a code like en or en-US"),
    ),
)


def whole(low: int, high: int) -> Callable[[Any], int]:
    """A whole number from ``low`` to ``high``, given as a number or as its digits."""

    def check(value: Any) -> int:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise vol.Invalid(f"must be a whole number from {low} to {high}")
        return value

    return check


def number(low: float, high: float) -> Callable[[Any], float]:
    """A number from ``low`` to ``high``, given as a number or as text."""

    def check(value: Any) -> float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError as err:
                raise vol.Invalid(f"must be a number from {low:g} to {high:g}") from err
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise vol.Invalid(f"must be a number from {low:g} to {high:g}")
        if not low <= value <= high:
            raise vol.Invalid(f"must be a number from {low:g} to {high:g}")
        return float(value)

    return check


def flag(value: Any) -> bool:
    """``true``/``false`` as a JSON boolean or as form text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise vol.Invalid("must be true or false")
