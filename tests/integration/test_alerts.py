"""Repairs and alerts: raised when a condition holds (long enough), cleared when it ends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.ai_provider_hub.const import DOMAIN, EVENT_ALERT

from .fake_hub import FakeHub

TEST_PATH = "/api/v1/providers/openai/test"
KEY_PATH = "/api/v1/providers/openai/credentials"


def issues(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    registry = ir.async_get(hass)
    return {
        issue_id: issue for (domain, issue_id), issue in registry.issues.items() if domain == DOMAIN
    }


def kinds(hass: HomeAssistant) -> set[str]:
    return {str(issue.translation_key) for issue in issues(hass).values()}


def summary(events: list[Event]) -> list[tuple[str, bool, str | None]]:
    return [(e.data["alert"], e.data["active"], e.data.get("provider")) for e in events]


def set_provider(fake_hub: FakeHub, name: str, **fields: Any) -> None:
    for path in ("/health", "/api/v1/providers"):
        for row in fake_hub.bodies[path]["providers"]:
            if row["name"] == name:
                row.update(fields)


async def poll(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


async def start_fix(hass: HomeAssistant, issue_id: str) -> Any:
    """Open the issue's fix flow as the Repairs dashboard does."""
    assert await async_setup_component(hass, "repairs", {})
    await hass.async_block_till_done()  # platforms load as integrations do (lazily since 2026.x)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    return await manager.async_init(DOMAIN, data={"issue_id": issue_id})


async def later(hass: HomeAssistant, minutes: float) -> None:
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=minutes))
    await hass.async_block_till_done()


# The fake hub's ollama starts with its circuit open; openai is healthy.


async def test_provider_down_for_a_while(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    events = async_capture_events(hass, EVENT_ALERT)
    await poll(hass, loaded_entry)  # still down, but not for long: nothing yet
    await later(hass, 4)
    assert issues(hass) == {}
    await later(hass, 5.5)
    [issue] = issues(hass).values()
    assert issue.translation_key == "provider_down"
    assert issue.translation_placeholders == {
        "provider": "ollama",
        "state": "circuit_open",
        "minutes": "5",
    }
    assert issue.severity is ir.IssueSeverity.WARNING
    assert summary(events) == [("provider_down", True, "ollama")]

    await poll(hass, loaded_entry)  # another poll while down changes nothing
    assert len(events) == 1
    set_provider(fake_hub, "ollama", state="healthy", error_key=None)
    await poll(hass, loaded_entry)
    assert issues(hass) == {}
    assert summary(events)[-1] == ("provider_down", False, "ollama")


async def test_provider_back_before_the_delay(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    events = async_capture_events(hass, EVENT_ALERT)
    set_provider(fake_hub, "ollama", state="healthy", error_key=None)
    await poll(hass, loaded_entry)
    await later(hass, 10)
    assert issues(hass) == {}
    assert events == []


@pytest.mark.usefixtures("loaded_entry")
@pytest.mark.parametrize("entry_options", [{"down_minutes": 30}])
async def test_down_delay_is_an_option(hass: HomeAssistant) -> None:
    await later(hass, 10)
    assert issues(hass) == {}
    await later(hass, 31)
    assert kinds(hass) == {"provider_down"}


async def test_rejected_key_is_fixed_with_a_new_one(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    events = async_capture_events(hass, EVENT_ALERT)
    set_provider(fake_hub, "openai", state="circuit_open", error_key="provider_auth")
    await poll(hass, loaded_entry)
    await later(hass, 10)
    found = {i.translation_key: (issue_id, i) for issue_id, i in issues(hass).items()}
    # A rejected key is its own, fixable issue (not also "down"); ollama's outage is separate.
    assert set(found) == {"key_rejected", "provider_down"}
    issue_id, issue = found["key_rejected"]
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.ERROR
    assert ("key_rejected", True, "openai") in summary(events)

    flow = await start_fix(hass, issue_id)
    assert flow["type"] is FlowResultType.FORM
    assert flow["description_placeholders"] == {"provider": "openai"}
    manager = repairs_flow_manager(hass)
    assert manager is not None
    for result, error in [("invalid", "invalid_key"), ("unreachable", "provider_unreachable")]:
        fake_hub.bodies[TEST_PATH] = {"name": "openai", "result": result, "message": "no"}
        flow = await manager.async_configure(flow["flow_id"], {"api_key": " sk-bad "})
        assert flow["errors"] == {"base": error}
    assert [r.body for r in fake_hub.requests if r.path == TEST_PATH] == [{"api_key": "sk-bad"}] * 2
    assert not [r for r in fake_hub.requests if r.path == KEY_PATH]  # nothing stored yet

    fake_hub.bodies[TEST_PATH] = {"name": "openai", "result": "valid", "message": "ok"}
    set_provider(fake_hub, "openai", state="healthy", error_key=None)  # the hub uses it now
    flow = await manager.async_configure(flow["flow_id"], {"api_key": "sk-good"})
    assert flow["type"] is FlowResultType.CREATE_ENTRY
    [stored] = [r for r in fake_hub.requests if r.path == KEY_PATH]
    assert (stored.method, stored.body) == ("PUT", {"api_key": "sk-good"})
    await hass.async_block_till_done()
    assert "key_rejected" not in kinds(hass)
    assert ("key_rejected", False, "openai") in summary(events)


async def test_fixed_issue_comes_back_while_the_key_is_still_rejected(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    set_provider(fake_hub, "openai", error_key="provider_auth")
    await poll(hass, loaded_entry)
    [issue_id] = [i for i, issue in issues(hass).items() if issue.translation_key == "key_rejected"]
    flow = await start_fix(hass, issue_id)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    fake_hub.bodies[TEST_PATH] = {"name": "openai", "result": "rate_limited", "message": "busy"}
    flow = await manager.async_configure(flow["flow_id"], {"api_key": "sk-new"})
    assert flow["type"] is FlowResultType.CREATE_ENTRY  # stored: a rate limit says nothing
    await hass.async_block_till_done()
    await poll(hass, loaded_entry)
    assert "key_rejected" in kinds(hass)  # the hub still reports the key as rejected


@pytest.mark.parametrize(
    ("spent", "expected"),
    [(0.5, set()), (0.85, {"budget_warning"}), (1.0, {"budget_exhausted"})],
)
async def test_budget_thresholds(
    hass: HomeAssistant,
    fake_hub: FakeHub,
    loaded_entry: MockConfigEntry,
    spent: float,
    expected: set[str],
) -> None:
    set_provider(fake_hub, "ollama", state="healthy", error_key=None)
    fake_hub.bodies["/api/v1/usage"]["budget"]["daily"] = {"limit_usd": 1.0, "spent_usd": spent}
    await poll(hass, loaded_entry)
    assert kinds(hass) == expected
    for issue in issues(hass).values():
        assert issue.translation_placeholders is not None
        assert issue.translation_placeholders["scope"] == "hub"
        assert issue.translation_placeholders["window"] == "daily"


async def test_budget_issue_moves_and_clears(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    events = async_capture_events(hass, EVENT_ALERT)
    budget = fake_hub.bodies["/api/v1/usage"]["budget"]
    budget["providers"] = {"openai": {"monthly": {"limit_usd": 10.0, "spent_usd": 8.5}}}
    await poll(hass, loaded_entry)
    assert kinds(hass) == {"budget_warning"}
    budget["providers"]["openai"]["monthly"]["spent_usd"] = 10.0
    await poll(hass, loaded_entry)
    assert kinds(hass) == {"budget_exhausted"}
    budget["providers"]["openai"]["monthly"]["spent_usd"] = 0.0  # a new month
    await poll(hass, loaded_entry)
    assert kinds(hass) == set()
    assert [(e.data["alert"], e.data["active"], e.data["scope"]) for e in events] == [
        ("budget_warning", True, "openai"),
        ("budget_warning", False, "openai"),
        ("budget_exhausted", True, "openai"),
        ("budget_exhausted", False, "openai"),
    ]


@pytest.mark.parametrize("entry_options", [{"budget_warning_percent": 90}])
async def test_budget_warning_threshold_is_an_option(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    fake_hub.bodies["/api/v1/usage"]["budget"]["daily"] = {"limit_usd": 1.0, "spent_usd": 0.85}
    await poll(hass, loaded_entry)
    assert "budget_warning" not in kinds(hass)
    fake_hub.bodies["/api/v1/usage"]["budget"]["daily"]["spent_usd"] = 0.9
    await poll(hass, loaded_entry)
    assert "budget_warning" in kinds(hass)


async def test_zero_budget_is_not_an_alert(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    """A zero budget is a deliberate "never pay": nothing to repair."""
    fake_hub.bodies["/api/v1/usage"]["budget"]["daily"] = {"limit_usd": 0.0, "spent_usd": 0.0}
    await poll(hass, loaded_entry)
    assert not kinds(hass) & {"budget_warning", "budget_exhausted"}


@pytest.mark.usefixtures("fake_hub")
async def test_unload_drops_the_issues(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    await later(hass, 10)
    assert issues(hass)
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert issues(hass) == {}
    await later(hass, 10)  # no timer left behind
    assert issues(hass) == {}
