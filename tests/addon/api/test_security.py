"""Request hardening: JSON depth limit, security headers on every response, no CORS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from addon.api.security import MAX_JSON_DEPTH, install, json_depth_exceeds, parse_json
from addon.errors import InvalidRequestError
from tests.conftest import AUTH, HubClientFactory


def nested(depth: int, leaf: Any = 1) -> Any:
    """A value nested ``depth`` levels deep, alternating arrays and objects."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize(
    ("value", "limit", "exceeds"),
    [
        (1, 0, False),
        ([], 0, True),
        ([], 1, False),
        ({"a": [1, {"b": 2}]}, 3, False),
        ({"a": [1, {"b": 2}]}, 2, True),
        ([[], [[]], []], 2, True),
        ([[], [[]], []], 3, False),
        (nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH, False),
        (nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH, True),
    ],
)
def test_depth_table(value: Any, limit: int, exceeds: bool) -> None:
    assert json_depth_exceeds(value, limit) is exceeds


def test_walk_does_not_recurse_on_deep_values() -> None:
    deep: list[Any] = []
    for _ in range(200_000):
        deep = [deep]
    assert json_depth_exceeds(deep, 300_000) is False
    assert json_depth_exceeds(deep, 10) is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[" * 33 + "]" * 33, "nested too deep"),
        ("[" * 2_000_000 + "]" * 2_000_000, "nested too deep"),
        ("[" * 2_000_000, "nested too deep"),
    ],
)
def test_parse_json_refuses(text: str, message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_json(text)
    assert message in caught.value.message


def test_parse_json_accepts_the_limit() -> None:
    text = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert json_depth_exceeds(parse_json(text), MAX_JSON_DEPTH - 1)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/chat"),
        ("POST", "/api/v1/vision"),
        ("POST", "/api/v1/batch"),
        ("PUT", "/api/v1/providers/openai/credentials"),
        ("POST", "/api/v1/providers/openai/test"),
    ],
)
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
async def test_deep_bodies_answer_400(
    hub_client: HubClientFactory, method: str, path: str, depth: int
) -> None:
    client = await hub_client()
    body = '{"prompt": ' + "[" * depth + "]" * depth + "}"
    response = await client.request(
        method, path, data=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    payload = await response.json()
    assert response.status == 400, payload
    assert payload["error"]["key"] == "invalid_request"
    assert "nested too deep" in payload["error"]["message"]


async def test_openai_route_answers_deep_bodies_in_openai_shape(
    hub_client: HubClientFactory,
) -> None:
    client = await hub_client()
    body = json.dumps({"model": "auto", "messages": nested(60, "hi")})
    response = await client.post(
        "/v1/chat/completions", data=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    payload = await response.json()
    assert response.status == 400
    assert "nested too deep" in payload["error"]["message"]


async def test_a_body_at_the_limit_is_not_refused_for_depth(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    structure = nested(MAX_JSON_DEPTH - 2, {"type": "string"})
    response = await client.post(
        "/api/v1/chat", json={"prompt": "Hi", "structure": structure}, headers=AUTH
    )
    payload = await response.json()
    assert "nested too deep" not in json.dumps(payload)


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/health", {}, 200),
        ("GET", "/api/v1/providers", AUTH, 200),
        ("GET", "/api/v1/providers", {}, 401),
        ("GET", "/api/v1/nope", AUTH, 404),
        ("POST", "/api/v1/chat", AUTH, 400),
        ("GET", "/v1/models", AUTH, 200),
    ],
)
async def test_json_responses_carry_security_headers(
    hub_client: HubClientFactory, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    client = await hub_client()
    response = await client.request(method, path, headers=headers)
    assert response.status == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" not in response.headers
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]


async def test_streamed_responses_carry_security_headers(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    response = await client.post(
        "/api/v1/chat", json={"prompt": "Hi", "stream": True}, headers=AUTH
    )
    assert response.status == 200
    assert response.content_type == "text/event-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    await response.read()


@pytest.mark.parametrize("headers", [{}, AUTH])
async def test_cors_preflight_gets_no_cors_headers(
    hub_client: HubClientFactory, headers: dict[str, str]
) -> None:
    client = await hub_client()
    response = await client.options(
        "/api/v1/chat",
        headers={
            **headers,
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status >= 400
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]


async def test_html_gets_csp_and_frame_options_and_cors_is_stripped(
    aiohttp_client: Any,
) -> None:
    async def page(_request: web.Request) -> web.Response:
        return web.Response(
            text="<h1>hi</h1>",
            content_type="text/html",
            headers={"Access-Control-Allow-Origin": "*"},
        )

    app = web.Application()
    app.router.add_get("/", page)
    install(app)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    response = await client.get("/")
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'self'" in csp
    assert "object-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Access-Control-Allow-Origin" not in response.headers
