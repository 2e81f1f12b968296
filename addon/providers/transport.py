"""The SDKs' aiohttp transport, and what it hides: a connection failure it calls a timeout.

The ``openai`` and ``anthropic`` SDKs ship an aiohttp transport for their httpx client
(``DefaultAioHttpClient``); the hub uses it because it costs a fraction of the CPU of httpx's
own per request. It maps every ``aiohttp.ClientConnectionError`` (a refused connection, a
server that hung up) to httpx's ``ConnectTimeout``, so the SDK raises a timeout; only
aiohttp's own timeouts are timeouts, and the providers map the rest as connection errors.
"""

from __future__ import annotations

from typing import Final

import aiohttp

CAUSE_DEPTH: Final = 4  # the SDK's error, httpx's, then aiohttp's


def connection_failure(err: BaseException) -> str | None:
    """The name of the aiohttp connection failure behind ``err``; None for anything else."""
    cause: BaseException | None = err
    for _ in range(CAUSE_DEPTH):
        if cause is None:
            return None
        if isinstance(cause, aiohttp.ClientConnectionError) and not isinstance(cause, TimeoutError):
            return type(cause).__name__
        cause = cause.__cause__
    return None
