"""Helpers shared by every voluptuous validation: options, pricing file and API bodies."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, Final

import voluptuous as vol


def humanize(err: vol.Invalid, prefix: str = "") -> str:
    """A voluptuous error as one readable sentence naming the offending path.

    ``prefix`` is where the validated value sits in a larger document (``providers.2``).
    """
    errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    parts = []
    for error in errors:
        path = ".".join(str(p) for p in [*([prefix] if prefix else []), *error.path])
        parts.append(f"{path or 'options'}: {error.error_message}")
    return "; ".join(parts)


def whole(minimum: int | None = None, maximum: int | None = None) -> Callable[[Any], int]:
    """A JSON integer within the bounds, as JSON Schema counts them: 3 and 3.0, never ``true``."""
    bounds = _bounds(minimum, maximum)

    def check(value: Any) -> int:
        integral = isinstance(value, float) and math.isfinite(value) and value.is_integer()
        if isinstance(value, bool) or not (isinstance(value, int) or integral):
            raise vol.Invalid(f"must be a whole number{bounds}")
        number = int(value)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise vol.Invalid(f"must be a whole number{bounds}")
        return number

    return check


def number(minimum: float, maximum: float) -> Callable[[Any], float]:
    """A JSON number (not a string, not ``true``) from ``minimum`` to ``maximum``."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise vol.Invalid(f"must be a number from {minimum:g} to {maximum:g}")
        if not minimum <= value <= maximum:
            raise vol.Invalid(f"must be a number from {minimum:g} to {maximum:g}")
        return float(value)

    return check


def _bounds(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" of at least {minimum}"
    return f" of at most {maximum}" if maximum is not None else ""


TAG_PATTERN: Final = re.compile(r"[A-Za-z0-9_.:/-]{1,64}")


def caller_tag(value: Any) -> str:
    """A caller's label for cost attribution: 1 to 64 ASCII letters, digits and ``_.:/-``."""
    if not isinstance(value, str) or not TAG_PATTERN.fullmatch(value):
        raise vol.Invalid("must be 1 to 64 ASCII letters, digits and _ . : / -")
    return value
