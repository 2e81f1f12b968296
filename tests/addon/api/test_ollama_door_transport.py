"""The Ollama door's transport: the main listener's checks, in Ollama's error shape.

Malformed bodies on every POST route of the door are a 4xx with ``{"error": "<key>: ..."}``
(never a 5xx), undeclared methods are 405 with ``Allow``, and slow clients are cut off after
the read timeout (headers that never finish: closed; a body that stops coming: 408, closed).
Raw requests and sockets on 127.0.0.1, every wait bounded by a guard.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from addon.api.context import HUB_CONTEXT
from addon.api.ollama.app import OLLAMA_DOOR, build_ollama_app
from addon.app import build_app
from addon.settings import Secret, parse_options
from addon.startup import open_credentials
from tests.addon.api.test_transport import CORPUS
from tests.conftest import TOKEN, Fakes, provider_options
from tests.fakes.base import free_port

READ_TIMEOUT = 1.0
GUARD_S = 30.0  # failure guard only: far longer than the read timeout plus aiohttp's lingering

Door = Callable[..., Awaitable[tuple[TestClient[Any, Any], str, int]]]


@pytest.fixture
def door(fakes: Fakes, aiohttp_client: Any, tmp_path: Path) -> Door:
    """The real hub with its Ollama door on loopback; returns (hub client, door URL, port)."""

    async def start(read_timeout: float = 60.0) -> tuple[TestClient[Any, Any], str, int]:
        options = {
            "providers": provider_options(fakes),
            "api_token": TOKEN,
            "ollama_api": {"enabled": True, "port": free_port()},
        }
        credentials = open_credentials(parse_options(options), tmp_path)
        app = build_app(
            credentials.settings,
            credentials=credentials,
            data_dir=tmp_path,
            api_token=Secret(TOKEN),
            check_health_on_start=False,
            read_timeout=read_timeout,
            door_host="127.0.0.1",
        )
        client: TestClient[Any, Any] = await aiohttp_client(app)
        port = app[OLLAMA_DOOR].port
        return client, f"http://127.0.0.1:{port}", port

    return start


def door_post_routes(client: TestClient[Any, Any]) -> list[str]:
    """Every POST path of the door, from its own router (a new route is covered as it lands)."""
    assert client.app is not None
    app = build_ollama_app(client.app[HUB_CONTEXT], max_body_bytes=1024)
    return sorted(
        route.resource.canonical
        for route in app.router.routes()
        if route.method == "POST" and route.resource is not None
    )


@pytest.mark.parametrize("name", sorted(CORPUS))
async def test_malformed_bodies_are_a_4xx_in_ollamas_shape(door: Door, name: str) -> None:
    malformed = CORPUS[name]
    client, url, _ = await door()
    headers = {"Content-Type": malformed.content_type, **malformed.headers}
    wrong: list[str] = []
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        for path in door_post_routes(client):
            async with session.post(url + path, data=malformed.body, headers=headers) as answer:
                body = await answer.json(content_type=None)
                error = body.get("error") if isinstance(body, dict) else None
                if answer.status not in (400, 413, 415) or not isinstance(error, str):
                    wrong.append(f"POST {path}: {answer.status} {body}")
                elif not error.startswith(("invalid_request: ", "unsupported_media: ")):
                    wrong.append(f"POST {path}: {error[:80]}")
    assert not wrong, "\n".join(wrong)


async def test_compressed_bodies_are_415_and_never_inflated(door: Door) -> None:
    _, url, _ = await door()
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/api/chat", data=b"not gzip at all", headers=headers) as answer,
    ):
        assert answer.status == 415
        assert (await answer.json())["error"].startswith("unsupported_media: ")


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/api/chat"), ("PUT", "/api/tags")])
async def test_undeclared_methods_are_405_with_allow(door: Door, method: str, path: str) -> None:
    _, url, _ = await door()
    async with aiohttp.ClientSession() as session, session.request(method, url + path) as answer:
        assert answer.status == 405
        assert (await answer.json())["error"].startswith("method_not_allowed: ")
        assert answer.headers["Allow"] in ("POST", "GET, HEAD")


async def read_all(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection."""
    return await asyncio.wait_for(reader.read(), GUARD_S)


async def test_headers_that_never_finish_are_cut_off(door: Door) -> None:
    _, _, port = await door(read_timeout=READ_TIMEOUT)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    await writer.drain()
    try:
        assert await read_all(reader) == b""  # closed without a request ever being made
    finally:
        writer.close()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_body_that_stops_coming_is_408_and_closed(
    door: Door, fakes: Fakes, framing: str
) -> None:
    _, _, port = await door(read_timeout=READ_TIMEOUT)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = "POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    if framing == "content-length":
        request = f"{head}Content-Length: 100000\r\n\r\n".encode() + b'{"model"'
    else:
        request = f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + b'4\r\n{"mo\r\n'
    writer.write(request)
    await writer.drain()
    try:
        answer = await read_all(reader)
    finally:
        writer.close()
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 408 "), answer[:200]
    error = json.loads(rest.partition(b"\r\n\r\n")[2])["error"]
    assert error.startswith("request_timeout: ")
    assert not any(fake.requests for fake in fakes.all.values())
