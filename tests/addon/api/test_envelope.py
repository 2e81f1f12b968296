"""The error envelope's ``Retry-After`` header."""

from __future__ import annotations

import pytest

from addon.api.envelope import retry_after_header
from addon.errors import RateLimitedError


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        (10.4, {"Retry-After": "11"}),  # rounded up: never invite a client back too early
        (7, {"Retry-After": "7"}),
        (0.2, {"Retry-After": "1"}),
        (0, {"Retry-After": "1"}),
        (None, {}),
        ("soon", {}),
    ],
)
def test_retry_after_header(retry_after: object, expected: dict[str, str]) -> None:
    details = {} if retry_after is None else {"retry_after": retry_after}
    assert retry_after_header(RateLimitedError("wait", **details)) == expected
