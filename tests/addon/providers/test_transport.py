"""The aiohttp transport's connection failures are found behind the timeouts it reports."""

from __future__ import annotations

import itertools

import aiohttp
import httpx2
import pytest

from addon.providers.transport import connection_failure


def chain(*errors: BaseException) -> BaseException:
    """``errors[0]`` raised from ``errors[1]`` raised from ... (as the SDK wraps them)."""
    for outer, inner in itertools.pairwise(errors):
        outer.__cause__ = inner
    return errors[0]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (chain(httpx2.ConnectTimeout("x"), aiohttp.ServerDisconnectedError()),
         "ServerDisconnectedError"),
        (chain(RuntimeError("sdk"), httpx2.ConnectTimeout("x"),
               aiohttp.ClientOSError(111, "refused")), "ClientOSError"),
        (chain(httpx2.ConnectTimeout("x"), aiohttp.ConnectionTimeoutError()), None),
        (chain(httpx2.ReadTimeout("x"), aiohttp.SocketTimeoutError()), None),
        (chain(httpx2.ReadTimeout("x"), TimeoutError()), None),
        (TimeoutError(), None),
        (chain(ValueError("a"), ValueError("b"), ValueError("c"), ValueError("d"),
               aiohttp.ServerDisconnectedError()), None),  # deeper than any SDK wraps
    ],
)  # fmt: skip
def test_a_connection_failure_is_named_and_a_timeout_is_not(
    error: BaseException, expected: str | None
) -> None:
    assert connection_failure(error) == expected
