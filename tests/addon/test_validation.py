"""The shared validators: JSON numbers as JSON Schema counts them, and callers' tags."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol

from addon.validation import caller_tag, number, whole


@pytest.mark.parametrize(
    ("value", "expected"), [(1, 1), (64, 64), (64.0, 64), (1e3, 1000), (1000, 1000)]
)
def test_whole_takes_integers_however_json_writes_them(value: Any, expected: int) -> None:
    result = whole(1, 1000)(value)
    assert (result, type(result)) == (expected, int)


@pytest.mark.parametrize(
    "value", [True, False, 2.5, "3", None, float("nan"), float("inf"), 0, 1001, [1]]
)
def test_whole_refuses_what_is_no_integer_in_range(value: Any) -> None:
    with pytest.raises(vol.Invalid, match="whole number from 1 to 1000"):
        whole(1, 1000)(value)


@pytest.mark.parametrize("value", [-(2**70), 0, 2**70])
def test_whole_without_bounds_takes_any_integer(value: int) -> None:
    assert whole()(value) == value
    with pytest.raises(vol.Invalid, match=r"^must be a whole number$"):
        whole()(True)


@pytest.mark.parametrize(("value", "expected"), [(0, 0.0), (1, 1.0), (0.7, 0.7), (2, 2.0)])
def test_number_takes_json_numbers(value: Any, expected: float) -> None:
    assert number(0, 2)(value) == expected


@pytest.mark.parametrize("value", [True, "1", "0.7", None, -0.1, 2.01, {}])
def test_number_refuses_strings_booleans_and_out_of_range(value: Any) -> None:
    with pytest.raises(vol.Invalid, match="number from 0 to 2"):
        number(0, 2)(value)


@pytest.mark.parametrize(
    "value", ["doorbell", "automation.kitchen_lights", "a/b:c-d.e_f", "x" * 64]
)
def test_caller_tag_takes_ascii_labels(value: str) -> None:
    assert caller_tag(value) == value


@pytest.mark.parametrize("value", ["", "x" * 65, "has spaces", "küche", "kitchen\n", None, 7])
def test_caller_tag_refuses_other_text(value: Any) -> None:
    with pytest.raises(vol.Invalid, match="1 to 64 ASCII letters"):
        caller_tag(value)
