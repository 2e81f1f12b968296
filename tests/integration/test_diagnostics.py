"""Diagnostics never contain the token or any URL."""

from __future__ import annotations

import json

from homeassistant.components.diagnostics import REDACTED
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_provider_hub.diagnostics import async_get_config_entry_diagnostics

from .fake_hub import FakeHub


async def test_diagnostics_redacted(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    result = await async_get_config_entry_diagnostics(hass, loaded_entry)
    text = json.dumps(result)
    assert fake_hub.token not in text
    assert fake_hub.url not in text
    assert "http://127.0.0.1" not in text
    assert "sk-…abcd" not in text
    assert result["entry"]["data"] == {"url": REDACTED, "token": REDACTED}
    assert result["data"]["providers"][0]["api_key"] == REDACTED
    assert result["data"]["health"]["status"] == "degraded"
    assert result["data"]["usage"]["today"]["requests"] == 7
