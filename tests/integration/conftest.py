"""Fixtures of the integration's tests: Home Assistant, the fake hub, a config entry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components import tts
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_provider_hub.config_flow import hub_unique_id
from custom_components.ai_provider_hub.const import CONF_TOKEN, DOMAIN

from .fake_hub import FakeHub
from .helpers import subentries

# The end-to-end fixtures (the real add-on as a subprocess) live in their own module.
pytest_plugins = ["tests.integration.addon_process"]


@pytest.fixture(autouse=True)
async def setup_core(hass: HomeAssistant, enable_custom_integrations: None) -> None:  # noqa: ARG001 - requested for its effect
    """Load the core integration (conversation needs it) and allow custom integrations."""
    assert await async_setup_component(hass, "homeassistant", {})


@pytest.fixture(autouse=True)
def media_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A media folder of the test's own (generated images land there, not in the venv)."""
    folder = tmp_path / "media"
    folder.mkdir()
    hass.config.media_dirs = {"local": str(folder)}
    return folder


@pytest.fixture(autouse=True)
def tts_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A speech cache of the test's own (Home Assistant's default is in the shared test config
    folder, where one test's audio would answer another's)."""
    folder = tmp_path / "tts"
    monkeypatch.setattr(tts, "DEFAULT_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def no_deprecated_calls(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test in which this integration used a Home Assistant API deprecated for removal.

    Home Assistant only logs that for custom integrations ("Detected that custom integration
    ... This will stop working in ..."), so a deprecation would otherwise pass unnoticed.
    """
    yield
    reports = [
        record.getMessage()
        for when in ("setup", "call")
        for record in caplog.get_records(when)
        if record.name == "homeassistant.helpers.frame"
        and f"integration '{DOMAIN}'" in record.getMessage()
    ]
    assert reports == []


@pytest.fixture
async def fake_hub(socket_enabled: None) -> AsyncIterator[FakeHub]:  # noqa: ARG001 - requested for its effect
    """A loopback server impersonating the add-on."""
    hub = FakeHub()
    await hub.start()
    yield hub
    await hub.stop()


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """Options of the test entry (override to change them)."""
    return {}


@pytest.fixture
def conversation_data() -> dict[str, Any]:
    """The agent subentry's data (override to change it; no LLM API unless a test asks)."""
    return {}


@pytest.fixture
def ai_task_data() -> dict[str, Any]:
    """The AI Task subentry's data (override to change it)."""
    return {}


@pytest.fixture
def stt_data() -> dict[str, Any] | None:
    """A speech-to-text subentry's data (None: the entry has none; override to add one)."""
    return None


@pytest.fixture
def tts_data() -> dict[str, Any] | None:
    """A text-to-speech subentry's data (None: the entry has none; override to add one)."""
    return None


@pytest.fixture
def config_entry(
    fake_hub: FakeHub,
    entry_options: dict[str, Any],
    conversation_data: dict[str, Any],
    ai_task_data: dict[str, Any],
    stt_data: dict[str, Any] | None,
    tts_data: dict[str, Any] | None,
) -> MockConfigEntry:
    """An entry (current version) pointing at the fake hub, not yet added."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="AI Provider Hub",
        unique_id=hub_unique_id(fake_hub.url),
        data={CONF_URL: fake_hub.url, CONF_TOKEN: fake_hub.token},
        options=entry_options,
        version=2,
        minor_version=1,
        subentries_data=subentries(conversation_data, ai_task_data, stt_data, tts_data),
    )


@pytest.fixture
async def loaded_entry(hass: HomeAssistant, config_entry: MockConfigEntry) -> MockConfigEntry:
    """The entry, set up."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry
