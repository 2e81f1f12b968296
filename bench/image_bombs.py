"""Image bombs against the real hub: peak memory and answer times under concurrent decoding.

Not a test. Run ``.venv/bin/python bench/image_bombs.py`` from the repository root. It starts
the simulated OpenAI (``tests.fakes.serve``) and the real hub (``python -m addon``) on
loopback, then sends ``--requests`` vision requests at once, each with ten 39.7-megapixel
palette PNGs (about 50 KB each, 200 MB each once decoded and converted). It prints the hub's
idle RSS, its peak RSS during the burst (sampled, and the kernel's high-water mark), each
request's status and error key, and the latest answer against ``request_timeout``.
Goals (issue "Hardening", item 4): peak under idle + 400 MB, every answer within
``request_timeout`` + 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.processes import start_fakes, start_hub, stop, wait_up  # noqa: E402

TOKEN = "bench-token"
BOMB_SIDE = 6300
MIB = 1024 * 1024


def bomb() -> str:
    """One 39.7 MP palette PNG, base64."""
    out = io.BytesIO()
    Image.new("P", (BOMB_SIDE, BOMB_SIDE), 3).save(out, "PNG", compress_level=9)
    return base64.b64encode(out.getvalue()).decode()


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of a process from /proc (kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def sample_peak(pid: int, stop_event: asyncio.Event) -> int:
    """Highest VmRSS seen every 10 ms until ``stop_event``."""
    peak = 0
    while not stop_event.is_set():
        peak = max(peak, rss_kib(pid))
        await asyncio.sleep(0.01)
    return peak


async def one_request(
    session: aiohttp.ClientSession, url: str, images: list[dict[str, str]]
) -> tuple[int, str, float]:
    started = time.monotonic()
    body = {"prompt": "What is in these images?", "images": images}
    async with session.post(f"{url}/api/v1/vision", json=body) as response:
        payload: dict[str, Any] = await response.json()
        key = payload.get("error", {}).get("key", "ok")
        return response.status, key, time.monotonic() - started


async def run(url: str, pid: int, requests: int, timeout: float) -> None:
    images = [{"data": bomb(), "mime_type": "image/png"}] * 10
    print(f"each request: 10 x {BOMB_SIDE}x{BOMB_SIDE} palette PNG, {len(images[0]['data']):,} b64")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    client_timeout = aiohttp.ClientTimeout(total=timeout + 120)
    async with aiohttp.ClientSession(headers=headers, timeout=client_timeout) as session:
        await wait_up(session, url)
        await asyncio.sleep(1)
        idle = rss_kib(pid)
        stop_event = asyncio.Event()
        sampler = asyncio.create_task(sample_peak(pid, stop_event))
        results = await asyncio.gather(
            *(one_request(session, url, images) for _ in range(requests))
        )
        stop_event.set()
        sampled = await sampler
    high_water = rss_kib(pid, "VmHWM")
    peak = max(sampled, high_water)
    print(f"idle RSS          {idle / 1024:8.1f} MiB")
    print(
        f"peak RSS          {peak / 1024:8.1f} MiB  (+{(peak - idle) / 1024:.1f} MiB, goal < +400)"
    )
    for index, (status, key, seconds) in enumerate(results):
        print(f"request {index}: {status} {key:<24} {seconds:6.2f} s")
    latest = max(seconds for _, _, seconds in results)
    print(f"latest answer     {latest:8.2f} s  (request_timeout {timeout:g} s, goal <= +1 s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--request-timeout", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp:
        work = Path(tmp)
        fakes, urls = start_fakes(work, "openai")
        processes = [fakes]
        try:
            options = {
                "providers": [
                    {
                        "name": "openai",
                        "type": "openai",
                        "api_key": "sk-bench",
                        "base_url": f"{urls['openai']}/v1",
                        "model": "gpt-4.1-mini",
                    }
                ],
                "api_token": TOKEN,
                "request_timeout": args.request_timeout,
                "log_level": "warning",
            }
            hub, url = start_hub(work, options)
            processes.append(hub)
            asyncio.run(run(url, hub.pid, args.requests, args.request_timeout))
        finally:
            for process in reversed(processes):
                stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
