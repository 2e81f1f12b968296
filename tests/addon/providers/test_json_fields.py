"""Checked reads of decoded vendor JSON: the value, empty for None, the given error otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from addon.errors import ProviderResponseError
from addon.providers.json_fields import as_count, as_mapping, as_text

BAD = ProviderResponseError("odd answer")


@pytest.mark.parametrize(
    ("read", "value", "expected"),
    [
        (as_text, "hi", "hi"),
        (as_text, None, ""),
        (as_count, 7, 7),
        (as_count, None, 0),
        (as_count, 0, 0),
        (as_mapping, {"a": 1}, {"a": 1}),
    ],
)
def test_a_documented_value_is_read(read: Callable[..., Any], value: Any, expected: Any) -> None:
    assert read(value, BAD) == expected


@pytest.mark.parametrize(
    ("read", "value"),
    [
        (as_text, 5),
        (as_text, ["hi"]),
        (as_count, -1),
        (as_count, True),
        (as_count, 1.5),
        (as_count, "3"),
        (as_mapping, None),
        (as_mapping, ["a"]),
    ],
)
def test_any_other_shape_raises_the_given_error(read: Callable[..., Any], value: Any) -> None:
    with pytest.raises(ProviderResponseError) as raised:
        read(value, BAD)
    assert raised.value is BAD
