"""Start-up never dies because of one provider: bad stored keys and bad settings leave that
provider keyless or out (named on ``/health``), and every other provider serves.

Run against the real process (``python -m addon``) and the in-process application.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.fernet import Fernet

from addon.api.context import HUB_CONTEXT
from addon.app import build_app
from addon.credentials import KEY_FILE, STORE_FILE
from addon.hub import build_manager
from addon.settings import ProviderSettings, Secret, parse_options
from addon.startup import open_credentials
from tests.addon.test_hub_process import HubProcess
from tests.conftest import AUTH, TOKEN, Fakes, provider_options

BAD_STORED_KEY = "sk-stored-by-an-older-hub-\u2026-abc"
BAD_OPTION_KEY = "k\u2026ey"
BROKEN_ENTRIES: list[Any] = [
    {"name": "brackets", "type": "ollama", "base_url": "http://[::1"},
    {"name": "typo", "type": "openai", "priority": "high"},
    {"name": "bigport", "type": "anthropic", "base_url": "http://127.0.0.1:99999"},
    "not-an-object",
]


def write_store(data_dir: Path, items: dict[str, str]) -> None:
    """A credential store in its documented on-disk format, as an older hub could leave it."""
    key = Fernet.generate_key()
    (data_dir / KEY_FILE).write_bytes(key + b"\n")
    token = Fernet(key).encrypt(json.dumps(items).encode()).decode("ascii")
    (data_dir / STORE_FILE).write_text(json.dumps({"version": 1, "items": token}))


def hostile_options(fakes: Fakes) -> dict[str, Any]:
    """The usual four providers, openai keyless (its key is in the store), ollama with a key
    no header can carry, plus entries that cannot be used at all."""
    providers = provider_options(fakes)
    providers[0] = {k: v for k, v in providers[0].items() if k != "api_key"}
    providers[3] = {**providers[3], "api_key": BAD_OPTION_KEY}
    return {
        "providers": [*providers, *BROKEN_ENTRIES],
        "api_token": TOKEN,
        "strategy": "priority",
    }


async def check_the_rest_serve(session: aiohttp.ClientSession, url: str) -> None:
    async with session.get(f"{url}/health") as response:
        assert response.status == 200
        health = await response.json()
    names = [p["name"] for p in health["providers"]]
    assert names == ["openai", "anthropic", "gemini", "ollama"]
    notices = " | ".join(health["notices"])
    for name in ("openai", "ollama", "brackets", "typo", "bigport", "providers.7"):
        assert name in notices, name
    assert BAD_STORED_KEY not in notices
    assert BAD_OPTION_KEY not in notices
    for provider in ("anthropic", "gemini", "ollama"):
        body = {"prompt": "Hi", "provider": provider}
        async with session.post(f"{url}/api/v1/chat", json=body, headers=AUTH) as response:
            assert response.status == 200, await response.text()
    body = {"prompt": "Hi", "provider": "openai"}
    async with session.post(f"{url}/api/v1/chat", json=body, headers=AUTH) as response:
        assert response.status == 502
        assert (await response.json())["error"]["key"] == "provider_auth"


async def start(hub: HubProcess, session: aiohttp.ClientSession) -> None:
    """Start ``hub``, allowing a loaded machine a minute to import the SDKs."""
    try:
        await hub.start(session)
    except AssertionError as err:
        if "did not start listening" not in str(err):
            raise
    else:
        return
    for _ in range(450):
        assert hub.process is not None
        assert hub.process.returncode is None, "the hub exited during start-up"
        try:
            async with session.get(f"{hub.url}/health") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the hub did not start listening within a minute")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as client:
        yield client


async def test_the_real_process_starts_and_serves(
    fakes: Fakes, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    write_store(tmp_path, {"openai": BAD_STORED_KEY})
    options = tmp_path / "options.json"
    options.write_text(json.dumps(hostile_options(fakes)))
    hub = HubProcess(options, tmp_path)
    await start(hub, session)
    try:
        await check_the_rest_serve(session, hub.url)
    finally:
        await hub.kill()


async def test_the_application_starts_and_serves(
    fakes: Fakes, aiohttp_client: Any, tmp_path: Path
) -> None:
    write_store(tmp_path, {"openai": BAD_STORED_KEY})
    credentials = open_credentials(parse_options(hostile_options(fakes)), tmp_path)
    app = build_app(
        credentials.settings,
        credentials=credentials,
        data_dir=tmp_path,
        api_token=Secret(TOKEN),
        check_health_on_start=False,
    )
    client = await aiohttp_client(app)
    await check_the_rest_serve(client.session, str(client.make_url("")).rstrip("/"))


async def test_a_provider_its_sdk_refuses_is_left_out(fakes: Fakes, tmp_path: Path) -> None:
    # Settings built directly, past the validators: the last line of defence is the builder.
    good = ProviderSettings(name="good", type="ollama", model="m", base_url=fakes.ollama.url)
    refused = replace(good, name="refused", base_url="http://[::1")
    settings = replace(parse_options({}), providers=(good, refused))
    manager = build_manager(settings)
    assert list(manager.providers) == ["good"]
    app = build_app(settings, data_dir=tmp_path, api_token=Secret(TOKEN), manager=manager)
    notices = app[HUB_CONTEXT].notices
    assert any("refused" in notice and "not running" in notice for notice in notices)
    await manager.close()
