"""The real hub process: every acknowledged response's ledger row survives a SIGKILL.

The hub runs as ``python -m addon`` (as in the add-on container) over the simulated vendors.
Requests go in concurrently; the process is killed while others are still in flight, at a
different moment each round. Every response a client received must have its ``ok`` row, with
the reported cost and tokens, in the reopened ledger.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import aiohttp
import ollama
import pytest

from addon.ledger.store import LEDGER_FILE
from tests.conftest import AUTH, TOKEN, Fakes, provider_options
from tests.fakes.base import free_port

ROUNDS = 3
REQUESTS_PER_ROUND = 24
START_DEADLINE = 60.0  # seconds for ``python -m addon`` to answer /health
ROOT = Path(__file__).resolve().parents[2]


class HubProcess:
    """One ``python -m addon`` subprocess on loopback."""

    def __init__(self, options: Path, data_dir: Path) -> None:
        self.options, self.data_dir = options, data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, session: aiohttp.ClientSession) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "addon", "--options", str(self.options), "--data-dir", str(self.data_dir)),
            *("--host", "127.0.0.1", "--port", str(self.port)),
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        # Polling, not timing: a loaded machine may need long to import the SDKs.
        give_up = asyncio.get_running_loop().time() + START_DEADLINE
        while asyncio.get_running_loop().time() < give_up:
            try:
                async with session.get(f"{self.url}/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            assert self.process.returncode is None, "the hub exited during start-up"
            await asyncio.sleep(0.05)
        raise AssertionError("the hub did not start listening")

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as client:
        yield client


def write_options(path: Path, fakes: Fakes) -> Path:
    options = {"providers": provider_options(fakes), "api_token": TOKEN, "strategy": "priority"}
    path.write_text(json.dumps(options))
    return path


async def chat(session: aiohttp.ClientSession, url: str, n: int) -> dict[str, Any] | None:
    """One chat; its answer, or None when the hub died before answering."""
    body = {"prompt": f"Question {n}", "tag": "kill", "provider": "openai" if n % 2 else None}
    body = {k: v for k, v in body.items() if v is not None}
    try:
        async with session.post(f"{url}/api/v1/chat", json=body, headers=AUTH) as response:
            if response.status != 200:
                return None
            answer: dict[str, Any] = await response.json()
            return answer
    except (TimeoutError, aiohttp.ClientError):
        return None


def ledger_rows(data_dir: Path) -> dict[str, tuple[float, int, int]]:
    """request id -> (cost, input tokens, output tokens) of its ``ok`` row."""
    with closing(sqlite3.connect(data_dir / LEDGER_FILE)) as conn, conn:
        rows = conn.execute(
            "SELECT request_id, cost_usd, input_tokens, output_tokens FROM attempts"
            " WHERE outcome = 'ok'"
        ).fetchall()
    return {request_id: (cost, tin, tout) for request_id, cost, tin, tout in rows}


@pytest.mark.timeout(300)  # three hub start-ups and kills
async def test_acknowledged_rows_survive_sigkill(
    fakes: Fakes, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    options = write_options(tmp_path / "options.json", fakes)
    rng = random.Random(7)
    acknowledged: list[dict[str, Any]] = []
    for _ in range(ROUNDS):
        hub = HubProcess(options, tmp_path)
        await hub.start(session)
        try:
            tasks = [
                asyncio.ensure_future(chat(session, hub.url, n)) for n in range(REQUESTS_PER_ROUND)
            ]
            kill_after = rng.randrange(1, REQUESTS_PER_ROUND // 2)
            done = 0
            for finished in asyncio.as_completed(tasks):
                if await finished is not None:
                    done += 1
                if done >= kill_after:
                    break
            await hub.kill()
            answers = await asyncio.gather(*tasks)
        finally:
            await hub.kill()
        acknowledged += [a for a in answers if a is not None]

    rows = ledger_rows(tmp_path)
    assert len(acknowledged) >= ROUNDS
    for answer in acknowledged:
        cost, tokens_in, tokens_out = rows[answer["request_id"]]
        assert cost == pytest.approx(answer["cost_usd"])
        assert (tokens_in, tokens_out) == (
            answer["usage"]["input_tokens"],
            answer["usage"]["output_tokens"],
        )


async def test_the_ollama_door_listens_beside_the_api(
    fakes: Fakes, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """``python -m addon`` opens the Ollama door on ``--host`` when the options enable it."""
    door_port = free_port()
    options = {
        "providers": provider_options(fakes),
        "api_token": TOKEN,
        "strategy": "priority",
        "ollama_api": {"enabled": True, "port": door_port},
    }
    (tmp_path / "options.json").write_text(json.dumps(options))
    hub = HubProcess(tmp_path / "options.json", tmp_path)
    await hub.start(session)
    client = ollama.AsyncClient(host=f"http://127.0.0.1:{door_port}")
    try:
        listing = await client.list()
        chunks = [
            c.message.content or ""
            async for c in await client.chat(
                model="auto:latest", messages=[{"role": "user", "content": "Hi"}], stream=True
            )
        ]
    finally:
        await client.close()  # type: ignore[no-untyped-call]
        await hub.kill()
    assert "auto:latest" in [m.model for m in listing.models]
    assert "".join(chunks) == fakes.openai.state.reply.text
