"""Bearer-token auth: every route x token states, and the ingress exception."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from addon.app import build_app
from addon.settings import Secret, parse_options
from tests.conftest import TOKEN, HubClientFactory

ROUTES = [
    ("GET", "/api/v1/providers"),
    ("GET", "/api/v1/models"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/chat"),
    ("POST", "/api/v1/vision"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Missing bearer token"),
        ({"Authorization": "Bearer wrong-token"}, "Invalid bearer token"),
        ({"Authorization": f"Basic {TOKEN}"}, "Missing bearer token"),
        ({"Authorization": "Bearer "}, "Missing bearer token"),
        ({"X-Ingress-Path": "/api/hassio_ingress/abc"}, "Missing bearer token"),
    ],
)
async def test_routes_refuse_without_the_token(
    hub_client: HubClientFactory, method: str, path: str, headers: dict[str, str], message: str
) -> None:
    client = await hub_client()
    response = await client.request(method, path, headers=headers, json={"prompt": "x"})
    body = await response.json()
    assert response.status == 401
    assert body["error"]["key"] == "unauthorized"
    assert body["error"]["message"].startswith(message)


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r[0] == "GET"])
async def test_right_token_passes(hub_client: HubClientFactory, method: str, path: str) -> None:
    client = await hub_client()
    response = await client.request(method, path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200


async def test_ingress_from_the_trusted_address_passes(aiohttp_client: Any, tmp_path: Any) -> None:
    settings = parse_options({"providers": [], "api_token": TOKEN})
    app = build_app(
        settings,
        data_dir=tmp_path,
        api_token=Secret(TOKEN),
        trusted_ingress=("127.0.0.1",),
        check_health_on_start=False,
    )
    client: TestClient[Any, Any] = await aiohttp_client(app)
    ok = await client.get("/api/v1/providers", headers={"X-Ingress-Path": "/api/hassio_ingress/x"})
    assert ok.status == 200
    without_header = await client.get("/api/v1/providers")
    assert without_header.status == 401
