"""Fields of a vendor's decoded JSON, checked as they are read (SDK-free).

Each reader takes the error to raise when the value is not the documented shape, so a
vendor's odd answer is its ``ProviderResponseError``, never an exception from the hub's code.
A missing value (None) reads as empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from addon.errors import ProviderResponseError


def as_mapping(value: Any, bad: ProviderResponseError) -> Mapping[str, Any]:
    """``value`` when it is a JSON object."""
    if not isinstance(value, Mapping):
        raise bad
    return value


def as_text(value: Any, bad: ProviderResponseError) -> str:
    """``value`` when it is a string; ``""`` for None."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad
    return value


def as_count(value: Any, bad: ProviderResponseError) -> int:
    """``value`` when it is a whole number, not negative; 0 for None."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise bad
    return value
