"""The real add-on and its simulated providers, for the end-to-end tests (a pytest plugin).

The add-on runs as a subprocess from its own environment (``$HUB_PYTHON -m addon``), backed by
``$HUB_PYTHON -m tests.fakes.serve`` (wire-faithful OpenAI and Ollama fakes) on loopback.
Fixtures: ``fakes`` (one set per session), ``hub`` (a fresh add-on per test, options from
``extra_options``), ``hub_entry`` (the integration set up against it).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientError, ClientSession
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_provider_hub.config_flow import hub_unique_id
from custom_components.ai_provider_hub.const import CONF_TOKEN, DOMAIN

from .helpers import subentries

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "addon" / "samples" / "front_door.jpg"
TOKEN = "e2e-token-0123456789abcdef"
STARTUP_SECONDS = 60
PORT_RETRIES = 3


def hub_python() -> str:
    """The add-on's interpreter: ``$HUB_PYTHON``, else the repo's ``.venv``."""
    python = os.environ.get("HUB_PYTHON") or str(ROOT / ".venv" / "bin" / "python")
    if not Path(python).exists():
        message = f"the add-on's Python ({python}) is missing: set HUB_PYTHON"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The simulated OpenAI and Ollama servers, one set for the whole session."""
    work = tmp_path_factory.mktemp("fakes")
    log = (work / "fakes.log").open("wb")
    process = subprocess.Popen(
        [
            hub_python(),
            "-m",
            "tests.fakes.serve",
            "openai",
            "ollama",
            "--ready-file",
            str(work / "ready.json"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # printed once every fake listens
    if not line:
        stop(process)
        pytest.fail(f"the fakes did not start: {(work / 'fakes.log').read_text()}")
    yield json.loads(line)
    stop(process)
    log.close()


@dataclass
class Hub:
    """The running add-on and its fakes."""

    url: str
    fakes: dict[str, str]
    session: ClientSession
    work: Path
    port: int
    process: subprocess.Popen[bytes]

    async def fault(self, vendor: str, fault: str | None, *, always: bool = True) -> None:
        """Make the vendor's fake fail (``always``, or once); ``None`` ends a lasting fault."""
        body = {"fault": fault, "always": always, "times": 1}
        async with self.session.post(f"{self.fakes[vendor]}/_fake/fault", json=body) as resp:
            resp.raise_for_status()

    async def script_tools(self, vendor: str, *calls: dict[str, Any]) -> None:
        """The tool calls the vendor's model makes when offered tools (``{name, arguments}``)."""
        body = {"calls": list(calls)}
        async with self.session.post(f"{self.fakes[vendor]}/_fake/tools", json=body) as resp:
            resp.raise_for_status()

    async def received(self, vendor: str) -> list[dict[str, Any]]:
        """The requests the vendor's fake received since the test started."""
        async with self.session.get(f"{self.fakes[vendor]}/_fake/requests") as resp:
            rows: list[dict[str, Any]] = (await resp.json())["requests"]
        return [r for r in rows if not r["path"].startswith("/_fake")]

    async def usage(self) -> dict[str, Any]:
        """``GET /api/v1/usage`` (this UTC month), as the ledger records it."""
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with self.session.get(f"{self.url}/api/v1/usage", headers=headers) as resp:
            resp.raise_for_status()
            body: dict[str, Any] = await resp.json()
        return body

    async def restart(self, extra: dict[str, Any]) -> None:
        """Start the add-on again with new options on the same port and data (as the
        Supervisor does when its options change)."""
        stop(self.process)
        self.process = start_addon(self.work, self.fakes, self.port, extra)
        await wait_healthy(self.session, self.url, self.process)


def hub_options(fakes: dict[str, str], extra: dict[str, Any]) -> dict[str, Any]:
    """Options for OpenAI and Ollama (plus ``extra_providers``) and any other ``extra``."""
    extra = dict(extra)
    more = extra.pop("extra_providers", [])
    return {
        **extra,
        "providers": [
            {
                "name": "openai",
                "type": "openai",
                "api_key": "sk-test-not-a-real-key",
                "base_url": f"{fakes['openai']}/v1",
                "model": "gpt-4.1-mini",
                "priority": 10,
            },
            {
                "name": "ollama",
                "type": "ollama",
                "base_url": fakes["ollama"],
                "model": "gemma3:4b",
                "priority": 100,
            },
            *({**p, "base_url": p["base_url"].format(**fakes)} for p in more),
        ],
        "api_token": TOKEN,
        "request_timeout": 30,
        "strategy": "priority",
        "log_level": "warning",
    }


async def wait_healthy(session: ClientSession, url: str, process: subprocess.Popen[bytes]) -> None:
    """Poll ``/health`` until the add-on answers (it has to import the SDKs first)."""
    async with asyncio.timeout(STARTUP_SECONDS):
        while process.poll() is None:
            try:
                async with session.get(f"{url}/health") as resp:
                    if resp.status == 200:
                        return
            except ClientError:
                pass
            await asyncio.sleep(0.2)
    pytest.fail(f"the add-on exited with {process.returncode}")


async def started(
    session: ClientSession, url: str, process: subprocess.Popen[bytes], work: Path
) -> bool:
    """Wait until the add-on is healthy; ``False`` when it lost its port to another process."""
    try:
        await wait_healthy(session, url, process)
    except pytest.fail.Exception:
        if "address already in use" in (work / "addon.log").read_text(errors="replace"):
            return False
        raise
    return True


def start_addon(
    work: Path, fakes: dict[str, str], port: int, extra: dict[str, Any]
) -> subprocess.Popen[bytes]:
    """Run ``$HUB_PYTHON -m addon`` with options for the fakes; output goes to a log file."""
    options = work / "options.json"
    options.write_text(json.dumps(hub_options(fakes, extra)), encoding="utf-8")
    data_dir = work / "data"
    data_dir.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "HUB_API_TOKEN"}
    args = ["--options", str(options), "--data-dir", str(data_dir)]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    with (work / "addon.log").open("ab") as log:
        return subprocess.Popen(
            [hub_python(), "-m", "addon", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def extra_options() -> dict[str, Any]:
    """Add-on options a test adds (override with parametrize)."""
    return {}


@pytest.fixture
async def hub(
    fakes: dict[str, str],
    tmp_path: Path,
    extra_options: dict[str, Any],
    socket_enabled: None,  # noqa: ARG001 - requested for its effect
) -> AsyncIterator[Hub]:
    """A fresh add-on (own data dir, so no state leaks between tests) on a free port."""
    port = free_port()
    process = start_addon(tmp_path, fakes, port, extra_options)
    url = f"http://127.0.0.1:{port}"
    hub: Hub | None = None
    try:
        async with ClientSession() as session:
            for vendor_url in fakes.values():
                async with session.post(f"{vendor_url}/_fake/reset") as resp:
                    resp.raise_for_status()
            for _retry in range(PORT_RETRIES):
                if await started(session, url, process, tmp_path):
                    break
                # Another process took the free port before the add-on bound it: a new one.
                port = free_port()
                process = start_addon(tmp_path, fakes, port, extra_options)
                url = f"http://127.0.0.1:{port}"
            else:
                await wait_healthy(session, url, process)
            hub = Hub(url, fakes, session, tmp_path, port, process)
            yield hub
    finally:
        process = hub.process if hub else process
        stop(process)
        if process.returncode not in (0, -15):
            print((tmp_path / "addon.log").read_text())


@pytest.fixture
async def hub_entry(
    hass: HomeAssistant,
    hub: Hub,
    entry_options: dict[str, Any],
    conversation_data: dict[str, Any],
    ai_task_data: dict[str, Any],
    stt_data: dict[str, Any] | None,
    tts_data: dict[str, Any] | None,
) -> MockConfigEntry:
    """The integration set up against the running add-on (one agent, one AI Task entity, and
    the speech entities a test asks for)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="AI Provider Hub",
        unique_id=hub_unique_id(hub.url),
        data={CONF_URL: hub.url, CONF_TOKEN: TOKEN},
        options=entry_options,
        version=2,
        subentries_data=subentries(conversation_data, ai_task_data, stt_data, tts_data),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def refresh(hass: HomeAssistant) -> None:
    """Poll the add-on now (instead of waiting for the coordinator's interval)."""
    [entry] = hass.config_entries.async_entries(DOMAIN)
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


async def act(hass: HomeAssistant, action: str, **data: Any) -> dict[str, Any]:
    """Call one of the integration's actions and return its response data."""
    result = await hass.services.async_call(
        DOMAIN, action, data, blocking=True, return_response=True
    )
    assert result is not None
    return dict(result)
