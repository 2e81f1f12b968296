"""Keys no HTTP header can carry are a 400 on every route that takes a key, before any storing."""

from __future__ import annotations

from pathlib import Path

import pytest

from addon.credentials import STORE_FILE
from tests.addon.test_checks import BAD_KEYS
from tests.conftest import AUTH, Fakes, HubClientFactory

VENDORS = ("openai", "anthropic", "gemini", "ollama")
ROUTES = ("PUT /api/v1/providers/{}/credentials", "POST /api/v1/providers/{}/test")


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_bad_key_is_refused_on_every_route_and_vendor(
    hub_client: HubClientFactory, fakes: Fakes, tmp_path: Path, key: str
) -> None:
    client = await hub_client()
    store_before = (tmp_path / STORE_FILE).read_bytes()
    for vendor in VENDORS:
        for route in ROUTES:
            method, path = route.format(vendor).split(" ")
            response = await client.request(method, path, json={"api_key": key}, headers=AUTH)
            body = await response.json()
            assert response.status == 400, (vendor, route, body)
            assert body["error"]["key"] == "invalid_request"
            assert "api_key" in body["error"]["message"]
            assert key.strip() == "" or key not in str(body)
    assert (tmp_path / STORE_FILE).read_bytes() == store_before  # nothing stored
    assert not any(fake.requests for fake in fakes.all.values())  # nothing sent upstream
    chat = await client.post("/api/v1/chat", json={"prompt": "Hi"}, headers=AUTH)
    assert chat.status == 200  # the providers kept their keys
    assert fakes.openai.requests[-1].headers["Authorization"] == "Bearer sk-test-openai-key-123456"


async def test_surrounding_whitespace_is_dropped_before_storing(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    body = {"api_key": "  ollama-key-123456\n"}
    response = await client.put("/api/v1/providers/ollama/credentials", json=body, headers=AUTH)
    assert response.status == 200
    await client.post("/api/v1/chat", json={"prompt": "Hi", "provider": "ollama"}, headers=AUTH)
    assert fakes.ollama.requests[-1].headers["Authorization"] == "Bearer ollama-key-123456"
