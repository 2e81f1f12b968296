"""Failover time with a hanging first provider, against the real hub.

Not a test. Run ``.venv/bin/python bench/failover.py`` from the repository root. It starts the
simulated OpenAI and Anthropic (``tests.fakes.serve``) and the real hub (``python -m addon``)
on loopback with OpenAI first (both with the default 60 s provider ``timeout``), makes OpenAI
hold every request past any deadline, and times chat and streamed requests until Anthropic's
answer, for each ``--request-timeout``. Before the per-attempt deadline (issue "Hardening",
item 7) the hanging attempt could take min(60 s, request_timeout): 60 s at the default 120 s,
and the whole deadline (a 504) at 20 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.processes import start_fakes, start_hub, stop, wait_up  # noqa: E402

TOKEN = "bench-token"


async def one(session: aiohttp.ClientSession, url: str, stream: bool) -> tuple[int, str, float]:
    """One request: status, who answered (or the error key), seconds."""
    started = time.monotonic()
    body: dict[str, Any] = {"prompt": "Hi", "stream": stream, "cache": False}
    async with session.post(f"{url}/api/v1/chat", json=body) as response:
        text = await response.text()
    seconds = time.monotonic() - started
    if response.content_type == "text/event-stream":
        done = [b for b in text.split("\n\n") if b.startswith("event: done")]
        payload = json.loads(done[0].split("data: ", 1)[1]) if done else {}
        return response.status, payload.get("provider", "error event"), seconds
    payload = json.loads(text)
    return response.status, payload.get("provider") or payload["error"]["key"], seconds


async def run(url: str, fake: str, stream: bool, request_timeout: float) -> tuple[int, str, float]:
    """Make OpenAI hang, then time one request on a fresh hub (nothing known about OpenAI)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    client_timeout = aiohttp.ClientTimeout(total=request_timeout + 30)
    async with aiohttp.ClientSession(headers=headers, timeout=client_timeout) as session:
        await wait_up(session, url)
        await session.post(f"{fake}/_fake/fault", json={"fault": "timeout", "always": True})
        return await one(session, url, stream)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--request-timeout", type=float, nargs="+", default=[20.0, 120.0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp:
        work = Path(tmp)
        fakes, urls = start_fakes(work, "openai", "anthropic")
        try:
            for request_timeout in args.request_timeout:
                for stream in (False, True):
                    results = [
                        measure(work, urls, request_timeout, stream) for _ in range(args.repeats)
                    ]
                    report(request_timeout, stream, results)
        finally:
            stop(fakes)
    return 0


def report(request_timeout: float, stream: bool, results: list[tuple[int, str, float]]) -> None:
    """One line per setting: median and worst failover time, and who answered."""
    times = [seconds for _, _, seconds in results]
    answered = {f"{status} {who}" for status, who, _ in results}
    print(
        f"request_timeout {request_timeout:5g} s  {'stream' if stream else 'json  '}"
        f"  failover median {statistics.median(times):6.2f} s  max {max(times):6.2f} s"
        f"  answers: {', '.join(sorted(answered))}",
        flush=True,
    )


def measure(
    work: Path, urls: dict[str, str], request_timeout: float, stream: bool
) -> tuple[int, str, float]:
    """Start a fresh hub with ``request_timeout`` and time one failover."""
    options = {
        "providers": [
            {
                "name": "openai",
                "type": "openai",
                "api_key": "sk-bench-openai-000000",
                "base_url": f"{urls['openai']}/v1",
                "priority": 10,
            },
            {
                "name": "anthropic",
                "type": "anthropic",
                "api_key": "sk-ant-bench-000000",
                "base_url": urls["anthropic"],
                "priority": 20,
            },
        ],
        "api_token": TOKEN,
        "request_timeout": request_timeout,
        "strategy": "priority",
        "log_level": "warning",
    }
    hub, url = start_hub(work, options)
    try:
        return asyncio.run(run(url, urls["openai"], stream, request_timeout))
    finally:
        stop(hub)


if __name__ == "__main__":
    sys.exit(main())
