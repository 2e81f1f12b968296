"""Config flow: user, Supervisor discovery + confirm, reauth, reconfigure, options."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_HASSIO, SOURCE_USER
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_provider_hub.api import (
    HubAuthError,
    HubConnectionError,
    HubResponseError,
    HubTimeoutError,
)
from custom_components.ai_provider_hub.config_flow import hub_unique_id
from custom_components.ai_provider_hub.const import CONF_TOKEN, DOMAIN

from .fake_hub import FakeHub

VALIDATE = "custom_components.ai_provider_hub.config_flow.HubClient.validate"

VALIDATION_ERRORS = [
    (HubAuthError("no"), {"base": "invalid_auth"}),
    (HubConnectionError("refused"), {"base": "cannot_connect"}),
    (HubTimeoutError("slow"), {"base": "cannot_connect"}),
    (HubResponseError("html"), {"base": "invalid_response"}),
    (RuntimeError("boom"), {"base": "unknown"}),
]


def discovery(fake_hub: FakeHub, **config: Any) -> HassioServiceInfo:
    host, port = fake_hub.url.removeprefix("http://").split(":")
    return HassioServiceInfo(
        config={"host": host, "port": int(port), "api_token": fake_hub.token, **config},
        name="AI Provider Hub",
        slug="ai_provider_hub",
        uuid="0123456789abcdef",
    )


async def start_user_flow(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return str(result["flow_id"])


async def test_user_flow_creates_entry(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    flow_id = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: f"{fake_hub.url}/", CONF_TOKEN: fake_hub.token}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_URL: fake_hub.url, CONF_TOKEN: fake_hub.token}
    assert result["result"].unique_id == hub_unique_id(fake_hub.url)
    # One agent (with Assist), AI Task, speech-to-text and text-to-speech entity come with
    # every new hub.
    subentries = {s.subentry_type: s for s in result["result"].subentries.values()}
    assert set(subentries) == {"conversation", "ai_task_data", "stt", "tts"}
    assert subentries["conversation"].data["llm_hass_api"] == ["assist"]
    # The token was checked against an authenticated endpoint.
    assert any(r.path == "/api/v1/providers" for r in fake_hub.requests)


@pytest.mark.parametrize(("error", "expected"), VALIDATION_ERRORS)
async def test_user_flow_errors_recover(
    hass: HomeAssistant, fake_hub: FakeHub, error: Exception, expected: dict[str, str]
) -> None:
    flow_id = await start_user_flow(hass)
    with patch(VALIDATE, side_effect=error):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_URL: fake_hub.url, CONF_TOKEN: fake_hub.token}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == expected
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: fake_hub.url, CONF_TOKEN: fake_hub.token}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_live_errors(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    flow_id = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: "ftp://hub", CONF_TOKEN: fake_hub.token}
    )
    assert result["errors"] == {CONF_URL: "invalid_url"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: fake_hub.url, CONF_TOKEN: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: "http://127.0.0.1:9", CONF_TOKEN: fake_hub.token}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: fake_hub.url, CONF_TOKEN: fake_hub.token}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_rejects_duplicate(
    hass: HomeAssistant, fake_hub: FakeHub, config_entry: MockConfigEntry
) -> None:
    config_entry.add_to_hass(hass)
    flow_id = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: fake_hub.url, CONF_TOKEN: fake_hub.token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_hassio_discovery_confirm(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=discovery(fake_hub)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hassio_confirm"
    assert result["description_placeholders"] == {"addon": "AI Provider Hub"}
    assert fake_hub.requests == []  # nothing happens before the user confirms
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_URL: fake_hub.url, CONF_TOKEN: fake_hub.token}
    assert result["result"].unique_id == hub_unique_id(fake_hub.url)
    assert len(result["result"].subentries) == 4


async def test_hassio_confirm_error_recovers(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=discovery(fake_hub)
    )
    with patch(VALIDATE, side_effect=HubConnectionError("starting")):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_hassio_discovery_updates_existing_entry(
    hass: HomeAssistant, fake_hub: FakeHub, config_entry: MockConfigEntry
) -> None:
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_HASSIO},
        data=discovery(fake_hub, api_token="new-token"),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert config_entry.data[CONF_TOKEN] == "new-token"


@pytest.mark.parametrize("missing", ["host", "port", "api_token"])
async def test_hassio_discovery_incomplete(
    hass: HomeAssistant, fake_hub: FakeHub, missing: str
) -> None:
    info = discovery(fake_hub)
    del info.config[missing]
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=info
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"


async def test_reauth(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    fake_hub.token = "rotated-token"
    result = await loaded_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "rotated-token"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert loaded_entry.data[CONF_TOKEN] == "rotated-token"


@pytest.fixture
async def other_hub(socket_enabled: None) -> AsyncIterator[FakeHub]:  # noqa: ARG001 - requested for its effect
    """A second hub on another port."""
    hub = FakeHub()
    await hub.start()
    yield hub
    await hub.stop()


async def test_reconfigure(
    hass: HomeAssistant, fake_hub: FakeHub, other_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    result = await loaded_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: "http://127.0.0.1:9", CONF_TOKEN: fake_hub.token}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    new_url = other_hub.url
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: new_url, CONF_TOKEN: fake_hub.token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert loaded_entry.data[CONF_URL] == new_url
    assert loaded_entry.unique_id == hub_unique_id(new_url)


async def test_reconfigure_rejects_other_hub(
    hass: HomeAssistant, fake_hub: FakeHub, other_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    other_url = other_hub.url
    MockConfigEntry(
        domain=DOMAIN,
        unique_id=hub_unique_id(other_url),
        data={CONF_URL: other_url, CONF_TOKEN: fake_hub.token},
    ).add_to_hass(hass)
    result = await loaded_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: other_url, CONF_TOKEN: fake_hub.token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert loaded_entry.data[CONF_URL] == fake_hub.url


async def test_options_flow(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["data_schema"] is not None
    suggested = {
        str(key): key.description["suggested_value"] for key in result["data_schema"].schema
    }
    assert suggested == {"down_minutes": 5, "budget_warning_percent": 80}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"down_minutes": 15.0, "budget_warning_percent": 90.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_entry.options == {"down_minutes": 15, "budget_warning_percent": 90}
