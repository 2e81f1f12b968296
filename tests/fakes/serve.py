"""Run simulated provider servers on loopback until interrupted.

``python -m tests.fakes.serve openai anthropic gemini ollama --ready-file PATH`` starts the named
fakes, writes ``{vendor: base_url}`` as JSON to ``PATH`` once they listen, and serves until
SIGINT/SIGTERM. Steer them over HTTP with ``/_fake/fault``, ``/_fake/reply``, ``/_fake/reset``
and read what they received with ``/_fake/requests``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import signal
from pathlib import Path
from typing import Final

from tests.fakes.base import FakeServer

FAKES: Final = {
    "openai": ("tests.fakes.openai", "FakeOpenAI"),
    "anthropic": ("tests.fakes.anthropic", "FakeAnthropic"),
    "gemini": ("tests.fakes.gemini", "FakeGemini"),
    "ollama": ("tests.fakes.ollama", "FakeOllama"),
}


def make_fake(vendor: str) -> FakeServer:
    """A fake server for ``vendor`` (no API key check: the demo and e2e tests use any key)."""
    module_name, class_name = FAKES[vendor]
    fake: FakeServer = getattr(importlib.import_module(module_name), class_name)()
    return fake


async def serve(vendors: list[str], ready_file: Path | None) -> None:
    """Start the fakes, announce their URLs, and wait for a signal."""
    fakes = {vendor: make_fake(vendor) for vendor in vendors}
    for fake in fakes.values():
        await fake.start()
    urls = {vendor: fake.url for vendor, fake in fakes.items()}
    if ready_file is not None:
        temporary = ready_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(urls), encoding="utf-8")
        temporary.replace(ready_file)
    print(json.dumps(urls), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    for fake in fakes.values():
        await fake.stop()


def main() -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("vendors", nargs="*", help=f"any of {', '.join(sorted(FAKES))}")
    parser.add_argument("--ready-file", type=Path)
    args = parser.parse_args()
    unknown = sorted(set(args.vendors) - set(FAKES))
    if unknown:
        parser.error(f"unknown vendor(s): {', '.join(unknown)}")
    asyncio.run(serve(args.vendors or sorted(FAKES), args.ready_file))


if __name__ == "__main__":
    main()
