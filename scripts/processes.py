"""Child processes on loopback for the demo and the benchmarks: the simulated providers, the hub.

Each child runs in its own process group with its output in a log file, so stopping it stops
everything it started, and a child that dies early is reported with its log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
START_DEADLINE = 60.0


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``python args...`` in its own process group, output to ``log``."""
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a child and everything it started."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for_file(path: Path, process: subprocess.Popen[bytes], log: Path) -> str:
    """Wait until a child writes ``path``; fail with its log if it dies."""
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if path.exists():
            return path.read_text(encoding="utf-8")
        if process.poll() is not None:
            raise SystemExit(f"A child process exited early:\n{log.read_text()}")
        time.sleep(0.1)
    raise SystemExit(f"Timed out waiting for {path.name}")


def start_fakes(work: Path, *vendors: str) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """Start the simulated providers (all, or ``vendors``); return the process and their URLs."""
    ready, log = work / "fakes.json", work / "fakes.log"
    fakes = start(["-m", "tests.fakes.serve", *vendors, "--ready-file", str(ready)], log)
    try:
        urls: dict[str, str] = json.loads(wait_for_file(ready, fakes, log))
    except BaseException:
        stop(fakes)
        raise
    return fakes, urls


def start_hub(
    work: Path, options: dict[str, Any], port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``python -m addon`` with ``options``, its data under ``work``; return it and its URL.

    Its output goes to ``work/hub.log``.
    """
    (work / "options.json").write_text(json.dumps(options), encoding="utf-8")
    port = port or free_port()
    argv = ["-m", "addon", "--options", str(work / "options.json")]
    argv += ["--data-dir", str(work / "data"), "--host", "127.0.0.1", "--port", str(port)]
    return start(argv, work / "hub.log"), f"http://127.0.0.1:{port}"


async def wait_up(session: aiohttp.ClientSession, url: str) -> None:
    """Poll ``url``'s ``/health`` until it answers 200."""
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"{url}/health") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.2)
    raise SystemExit("the hub did not start")
