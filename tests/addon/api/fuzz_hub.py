"""The real hub and the four simulated vendors, served from a thread for the OpenAPI fuzzing.

Schemathesis sends its requests synchronously (``requests``), so the hub cannot share the
test's event loop: it runs on its own loop in a background thread, listening on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from addon.app import build_app
from addon.settings import Secret, parse_options
from addon.startup import open_credentials
from tests.conftest import TOKEN, Fakes, provider_options

START_S: Final = 60.0  # failure guard for starting and stopping, far above what it takes
# Deadlines far above what the simulated vendors take even on a loaded machine: a timeout here
# would be a 504 that says nothing about the document.
PROVIDER_TIMEOUT_S: Final = 60
REQUEST_TIMEOUT_S: Final = 180


class LoopThread:
    """An event loop running in a daemon thread; coroutines are submitted and awaited."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzz-hub", daemon=True)
        self.thread.start()

    def run[T](self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the thread's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(START_S)

    def close(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(START_S)
        self.loop.close()


async def _start(fakes: Fakes, data_dir: Path) -> tuple[web.AppRunner, str]:
    for fake in fakes.all.values():
        await fake.start()
    providers = [{**option, "timeout": PROVIDER_TIMEOUT_S} for option in provider_options(fakes)]
    options = {
        "providers": providers,
        "api_token": TOKEN,
        "request_timeout": REQUEST_TIMEOUT_S,
        "strategy": "priority",
    }
    credentials = open_credentials(parse_options(options), data_dir)
    app = build_app(
        credentials.settings,
        credentials=credentials,
        data_dir=data_dir,
        api_token=Secret(TOKEN),
        check_health_on_start=False,
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def _stop(fakes: Fakes, runner: web.AppRunner) -> None:
    await runner.cleanup()
    for fake in fakes.all.values():
        await fake.stop()


@contextmanager
def served_hub(data_dir: Path) -> Iterator[str]:
    """The hub's base URL while it serves (over the fakes, on loopback)."""
    thread = LoopThread()
    try:
        fakes = thread.run(_make_fakes())
        runner, url = thread.run(_start(fakes, data_dir))
        try:
            yield url
        finally:
            thread.run(_stop(fakes, runner))
    finally:
        thread.close()


async def _make_fakes() -> Fakes:
    # The fakes bind their sockets on the loop that serves them.
    return Fakes()
