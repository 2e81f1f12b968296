"""End to end: Home Assistant -> this integration -> the real add-on -> simulated providers.

The add-on runs as a subprocess from its own environment (``$HUB_PYTHON -m addon``), backed by
``$HUB_PYTHON -m tests.fakes.serve`` (wire-faithful OpenAI and Ollama fakes) on loopback.
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
from homeassistant.components import conversation
from homeassistant.const import CONF_URL
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_provider_hub.config_flow import hub_unique_id
from custom_components.ai_provider_hub.const import CONF_TOKEN, DOMAIN

from .conftest import subentries
from .helpers import add_fake_camera, exception_message, state

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "addon" / "samples" / "front_door.jpg"
TOKEN = "e2e-token-0123456789abcdef"
STARTUP_SECONDS = 60


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

    async def fault(self, vendor: str, fault: str, *, always: bool = True) -> None:
        """Make the vendor's fake fail (``always``, or once)."""
        body = {"fault": fault, "always": always, "times": 1}
        async with self.session.post(f"{self.fakes[vendor]}/_fake/fault", json=body) as resp:
            resp.raise_for_status()

    async def received(self, vendor: str) -> list[dict[str, Any]]:
        """The requests the vendor's fake received since the test started."""
        async with self.session.get(f"{self.fakes[vendor]}/_fake/requests") as resp:
            rows: list[dict[str, Any]] = (await resp.json())["requests"]
        return [r for r in rows if not r["path"].startswith("/_fake")]


def hub_options(fakes: dict[str, str], extra: dict[str, Any]) -> dict[str, Any]:
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


def start_addon(
    work: Path, fakes: dict[str, str], port: int, extra: dict[str, Any]
) -> subprocess.Popen[bytes]:
    """Run ``$HUB_PYTHON -m addon`` with options for the fakes; output goes to a log file."""
    options = work / "options.json"
    options.write_text(json.dumps(hub_options(fakes, extra)), encoding="utf-8")
    data_dir = work / "data"
    data_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "HUB_API_TOKEN"}
    args = ["--options", str(options), "--data-dir", str(data_dir)]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    with (work / "addon.log").open("wb") as log:
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
    fakes: dict[str, str], tmp_path: Path, extra_options: dict[str, Any], socket_enabled: None
) -> AsyncIterator[Hub]:
    """A fresh add-on (own data dir, so no state leaks between tests) on a free port."""
    port = free_port()
    process = start_addon(tmp_path, fakes, port, extra_options)
    url = f"http://127.0.0.1:{port}"
    try:
        async with ClientSession() as session:
            for vendor_url in fakes.values():
                async with session.post(f"{vendor_url}/_fake/reset") as resp:
                    resp.raise_for_status()
            await wait_healthy(session, url, process)
            yield Hub(url=url, fakes=fakes, session=session)
    finally:
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
) -> MockConfigEntry:
    """The integration set up against the running add-on (one agent, one AI Task entity)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="AI Provider Hub",
        unique_id=hub_unique_id(hub.url),
        data={CONF_URL: hub.url, CONF_TOKEN: TOKEN},
        options=entry_options,
        version=2,
        subentries_data=subentries(conversation_data, ai_task_data),
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


@pytest.mark.usefixtures("hub_entry")
async def test_camera_snapshot_reaches_provider(hass: HomeAssistant, hub: Hub) -> None:
    camera = await add_fake_camera(hass, SAMPLE.read_bytes())
    result = await act(
        hass,
        "analyze_image",
        prompt="Who is at the door?",
        camera_entity_id="camera.front_door",
        tag="e2e",
    )
    assert camera.snapshots == 1
    assert result["provider"] == "openai"
    assert result["text"]
    assert result["usage"]["input_tokens"] > 0
    assert [a["outcome"] for a in result["attempts"]] == ["ok"]
    [request] = [r for r in await hub.received("openai") if r["path"].endswith("/completions")]
    parts = request["body"]["messages"][-1]["content"]
    images = [p for p in parts if p["type"] == "image_url"]
    assert len(images) == 1
    assert images[0]["image_url"]["url"].startswith("data:image/")
    assert any(p["type"] == "text" and p["text"] == "Who is at the door?" for p in parts)


@pytest.mark.usefixtures("hub_entry")
async def test_failover_shows_in_attempts(hass: HomeAssistant, hub: Hub) -> None:
    await hub.fault("openai", "server_error")
    result = await act(hass, "chat", prompt="Hello")
    assert result["provider"] == "ollama"
    attempts = result["attempts"]
    assert [a["provider"] for a in attempts] == ["openai", "ollama"]
    assert attempts[0]["outcome"] != "ok"
    assert attempts[1]["outcome"] == "ok"
    assert [r["path"] for r in await hub.received("ollama")].count("/api/chat") == 1


@pytest.mark.usefixtures("hub_entry")
async def test_provider_auth_error_is_translated(hass: HomeAssistant, hub: Hub) -> None:
    await hub.fault("openai", "auth")
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "chat", prompt="Hello")
    assert err.value.translation_key == "provider_auth"
    assert err.value.translation_placeholders is not None
    message = err.value.translation_placeholders["message"]
    assert str(err.value) == exception_message("provider_auth", message=message)
    # An auth failure is not retried elsewhere.
    assert "/api/chat" not in [r["path"] for r in await hub.received("ollama")]


@pytest.mark.usefixtures("hub_entry")
async def test_rejected_key_opens_the_circuit(hass: HomeAssistant, hub: Hub) -> None:
    """A rejected key benches the provider: its sensor says so, and requests skip it."""
    await hub.fault("openai", "auth")
    with pytest.raises(HomeAssistantError):
        await act(hass, "chat", prompt="Hello")
    await refresh(hass)
    assert state(hass, "sensor.openai_status") == "circuit_open"
    result = await act(hass, "chat", prompt="Hello again")
    assert result["provider"] == "ollama"
    attempts = result["attempts"]
    assert [a["provider"] for a in attempts if a["outcome"] == "ok"] == ["ollama"]
    # The skipped provider may be listed (as circuit_open) or left out, never tried.
    assert {a["outcome"] for a in attempts if a["provider"] == "openai"} <= {"circuit_open"}
    completions = [r for r in await hub.received("openai") if r["path"].endswith("/completions")]
    assert len(completions) == 1  # only the first request reached the provider


@pytest.mark.parametrize("extra_options", [{"budget_daily_usd": 0.0}])
@pytest.mark.usefixtures("hub_entry")
async def test_budget_error_is_translated(hass: HomeAssistant, hub: Hub) -> None:
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "chat", prompt="Hello", provider="openai", max_tokens=1000)
    error = err.value
    assert error.translation_key == "budget_exceeded"
    assert error.translation_placeholders is not None
    message = error.translation_placeholders["message"]
    assert str(error) == exception_message("budget_exceeded", message=message)
    assert "/v1/chat/completions" not in [r["path"] for r in await hub.received("openai")]
    # The sensors tell the same story: the paid provider is over budget, the local one is not.
    await refresh(hass)
    assert state(hass, "sensor.openai_status") == "over_budget"
    assert state(hass, "sensor.ollama_status") != "over_budget"
    assert float(state(hass, "sensor.ai_provider_hub_budget_left_today")) == 0


@pytest.mark.usefixtures("hub_entry")
async def test_conversation_agent_streams_through_hub(hass: HomeAssistant, hub: Hub) -> None:
    result = await conversation.async_converse(
        hass, "Hello", None, Context(), agent_id="conversation.ai_provider_hub_conversation"
    )
    assert result.response.speech["plain"]["speech"] == "Hello from the fake."
    [request] = [r for r in await hub.received("openai") if r["path"].endswith("/completions")]
    assert request["body"]["stream"] is True


async def test_sensors_reflect_usage(hass: HomeAssistant, hub_entry: MockConfigEntry) -> None:
    assert hass.states.get("sensor.openai_status") is not None
    result = await act(hass, "chat", prompt="Hello", tag="e2e")
    await refresh(hass)
    usage = result["usage"]
    tokens = usage["input_tokens"] + usage["output_tokens"]
    assert state(hass, "sensor.ai_provider_hub_requests_today") == "1"
    assert state(hass, "sensor.ai_provider_hub_tokens_today") == str(tokens)
    spend = float(state(hass, "sensor.ai_provider_hub_spend_today"))
    assert spend == pytest.approx(result["cost_usd"])
    assert spend > 0
    assert float(state(hass, "sensor.openai_average_latency")) == pytest.approx(
        result["attempts"][0]["latency_ms"], rel=0.05
    )
