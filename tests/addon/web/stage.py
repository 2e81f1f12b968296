"""The stage of the dashboard's browser tests: simulated vendors, a seeded ledger, the real hub
on a loopback port and Home Assistant's ingress proxy in front of it.

``python -m tests.addon.web.stage`` serves the same stage until Ctrl-C, to look at the page.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from addon.app import build_app
from addon.ledger import Ledger, LedgerRow
from addon.settings import Secret, parse_options
from addon.startup import open_credentials
from tests.conftest import TOKEN, Fakes, provider_options
from tests.fakes.ingress import FakeIngress

DAY: Final = 86_400.0
# (days ago, provider, model, tag, cost in USD): spread over the chart's 30 days.
SEED: Final = [
    (29, "anthropic", "claude-haiku-4-5", "doorbell", 0.30),
    (21, "openai", "gpt-4.1-mini", "kitchen", 0.0042),
    (12, "openai", "gpt-4.1-mini", "doorbell", 1.20),
    (12, "gemini", "gemini-2.5-flash", "doorbell", 0.15),
    (5, "gemini", "gemini-2.5-flash", None, 0.05),
    (1, "openai", "gpt-4.1-mini", "kitchen", 0.25),
    (1, "anthropic", "claude-haiku-4-5", "doorbell", 0.10),
    (1, "ollama", "gemma3:4b", "kitchen", 0.0),
    (0, "openai", "gpt-4.1-mini", "doorbell", 0.0123),
    (0, "anthropic", "claude-haiku-4-5", "kitchen", 0.000456),
]


def seed_rows(now: float) -> list[LedgerRow]:
    """Ledger rows for ``SEED`` (today's at the start of the UTC day, so they stay today)."""
    today = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=1, microsecond=0)
    rows = []
    for index, (ago, provider, model, tag, cost) in enumerate(SEED):
        ts = min(now - 1, today.timestamp() - ago * DAY + 3600 * (index % 5))
        rows.append(
            LedgerRow(
                ts=ts,
                request_id=f"seed-{index}",
                tag=tag,
                provider=provider,
                model=model,
                input_tokens=1000 + index,
                output_tokens=200 + index,
                cost_usd=cost,
                latency_ms=400.0 + 10 * index,
                outcome="ok",
            )
        )
    return rows


def options(fakes: Fakes) -> dict[str, Any]:
    """The hub's options: the four simulated vendors, budgets, limits and a route."""
    providers = provider_options(fakes)
    providers[0].update(budget_daily_usd=0.5)
    providers[1].update(rpm=60, tpm=100_000, max_concurrency=4)
    return {
        "providers": providers,
        "api_token": TOKEN,
        "request_timeout": 20,
        "strategy": "priority",
        "budget_daily_usd": 1.0,
        "budget_monthly_usd": 20.0,
        "routes": [{"match": "doorbell", "providers": ["gemini", "openai"]}],
    }


@dataclass
class Stage:
    """What a browser test talks to."""

    fakes: Fakes
    hub_url: str
    ingress: FakeIngress
    token: str = TOKEN


@contextlib.asynccontextmanager
async def stage(data_dir: Path) -> AsyncIterator[Stage]:
    """Start everything on loopback; stop it all on exit."""
    fakes = Fakes()
    for fake in fakes.all.values():
        await fake.start()
    data_dir.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(data_dir)
    await ledger.open()
    await ledger.record(seed_rows(time.time()))
    await ledger.close()
    credentials = open_credentials(parse_options(options(fakes)), data_dir)
    app = build_app(
        credentials.settings,
        credentials=credentials,
        data_dir=data_dir,
        api_token=Secret(TOKEN),
        trusted_ingress=("127.0.0.1",),
    )
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    ingress = await FakeIngress(f"http://127.0.0.1:{port}").start()
    try:
        yield Stage(fakes, f"http://127.0.0.1:{port}/", ingress)
    finally:
        await ingress.stop()
        await runner.cleanup()
        for fake in fakes.all.values():
            await fake.stop()


async def _serve() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as data_dir:
        async with stage(Path(data_dir)) as ready:
            print(f"Through ingress: {ready.ingress.url}")
            print(f"Direct (token {ready.token}): {ready.hub_url}")
            await asyncio.Event().wait()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve())
