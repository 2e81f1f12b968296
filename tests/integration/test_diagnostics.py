"""Diagnostics never contain the token or any URL."""

from __future__ import annotations

import json

import pytest
from homeassistant.components.diagnostics import REDACTED
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_provider_hub.diagnostics import (
    async_get_config_entry_diagnostics,
    scrub_urls,
)

from .fake_hub import FakeHub


@pytest.fixture
def fake_hub_with_messages(fake_hub: FakeHub) -> FakeHub:
    """Provider messages that quote the URLs that failed, as SDK errors do."""
    rows = fake_hub.bodies["/api/v1/providers"]["providers"]
    rows[1]["message"] = "Cannot connect to host http://10.0.0.5:11434/api/tags ('refused')"
    rows[0]["message"] = "Error at https://api.example.com/v1/chat/completions?key=zzz"
    return fake_hub


@pytest.mark.usefixtures("fake_hub_with_messages")
async def test_diagnostics_redacted(
    hass: HomeAssistant, fake_hub: FakeHub, loaded_entry: MockConfigEntry
) -> None:
    result = await async_get_config_entry_diagnostics(hass, loaded_entry)
    text = json.dumps(result)
    for leak in ("10.0.0.5", "api.example.com", "key=zzz", "127.0.0.1", "localhost"):
        assert leak not in text
    assert result["entry"]["unique_id"] == REDACTED
    assert result["data"]["providers"][1]["message"] == (
        f"Cannot connect to host {REDACTED} ('refused')"
    )
    assert fake_hub.token not in text
    assert fake_hub.url not in text
    assert "http://127.0.0.1" not in text
    assert "sk-…abcd" not in text
    assert result["entry"]["data"] == {"url": REDACTED, "token": REDACTED}
    assert result["data"]["providers"][0]["api_key"] == REDACTED
    assert result["data"]["health"]["status"] == "degraded"
    assert result["data"]["usage"]["today"]["requests"] == 7


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("see http://hub:8099/x", f"see {REDACTED}"),
        (["a", {"b": "HTTPS://Host/p?q=1 end"}], ["a", {"b": f"{REDACTED} end"}]),
        (("ws://h", 3), [REDACTED, 3]),
        ("no url here: 10 ms", "no url here: 10 ms"),
        (None, None),
    ],
)
def test_scrub_urls(raw: object, expected: object) -> None:
    assert scrub_urls(raw) == expected
