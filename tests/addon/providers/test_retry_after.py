"""The one Retry-After parser every provider uses (``providers.base.retry_after``)."""

from __future__ import annotations

import pytest

from addon.providers.base import retry_after

NOW = 1_445_412_480.0  # Wed, 21 Oct 2015 07:28:00 GMT


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"retry-after": "9"}, 9.0, id="seconds"),
        pytest.param({"retry-after": "2.5"}, 2.5, id="fractional seconds"),
        pytest.param({"Retry-After": "4"}, 4.0, id="any header case"),
        pytest.param({"retry-after": "-3"}, 0.0, id="negative seconds clamp to 0"),
        pytest.param({"retry-after-ms": "1500", "retry-after": "9"}, 1.5, id="ms wins"),
        pytest.param({"retry-after-ms": "-20"}, 0.0, id="negative ms clamp to 0"),
        pytest.param({"retry-after-ms": "soon", "retry-after": "9"}, 9.0, id="bad ms ignored"),
        pytest.param({"retry-after": "Wed, 21 Oct 2015 07:28:30 GMT"}, 30.0, id="HTTP date"),
        pytest.param({"retry-after": "Wed, 21 Oct 2015 07:27:00 GMT"}, 0.0, id="past date is 0"),
        pytest.param({"retry-after": "soon"}, None, id="unreadable"),
        pytest.param({"retry-after": "nan"}, None, id="not a number"),
        pytest.param({"retry-after": "inf"}, None, id="infinite"),
        pytest.param({}, None, id="absent"),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers, now=lambda: NOW) == expected
