"""The command line's process set-up: the SDKs' HTTP clients are quiet, uvloop when there."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator

import pytest

from addon.__main__ import HTTP_CLIENT_LOGGERS, configure_logging, event_loop


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in HTTP_CLIENT_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize(
    ("level", "quiet"),
    [("info", logging.WARNING), ("warning", logging.WARNING), ("debug", logging.DEBUG)],
)
def test_the_http_clients_log_no_line_per_request_unless_debugging(level: str, quiet: int) -> None:
    configure_logging(level)
    for name in HTTP_CLIENT_LOGGERS:
        logger = logging.getLogger(name)
        assert logger.getEffectiveLevel() == quiet
        assert logger.isEnabledFor(logging.INFO) is (quiet == logging.DEBUG)
    assert logging.getLogger("addon").isEnabledFor(logging.getLevelName(level.upper()))


def test_the_event_loop_is_uvloops_when_installed() -> None:
    uvloop = pytest.importorskip("uvloop")
    loop = event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_without_uvloop_the_event_loop_is_asyncios(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    loop = event_loop()
    try:
        assert type(loop).__module__.startswith("asyncio")
        assert loop.run_until_complete(asyncio.sleep(0, "ran")) == "ran"
    finally:
        loop.close()
