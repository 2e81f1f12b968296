"""The dashboard's views: money with enough digits, a line for every strategy."""

from __future__ import annotations

import pytest

from addon.overview import STRATEGY_LINES
from addon.pricing import usd
from addon.settings import STRATEGIES


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.0, "$0.00"),
        (0.001, "$0.00100"),
        (0.000456, "$0.000456"),
        (0.0123, "$0.0123"),
        (0.012756, "$0.0128"),
        (0.5, "$0.500"),
        (1.0, "$1.00"),
        (12.345, "$12.35"),
        (1234.5, "$1,234.50"),
        (0.00000001, "$0.00000001"),
    ],
)
def test_money_has_enough_digits_to_be_true(value: float, shown: str) -> None:
    assert usd(value) == shown


def test_every_strategy_has_its_line() -> None:
    assert set(STRATEGY_LINES) == set(STRATEGIES)
