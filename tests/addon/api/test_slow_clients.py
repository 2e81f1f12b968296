"""Slow clients cannot hold the hub: request headers and bodies must arrive within the read
timeout (408 or a closed connection after it), while responses, SSE streams included, may
take as long as they need. Raw sockets on 127.0.0.1, every wait bounded by a guard."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from addon.app import build_app
from addon.settings import Secret, parse_options
from addon.startup import open_credentials
from tests.conftest import AUTH, TOKEN, Fakes, provider_options
from tests.fakes.base import Fault

READ_TIMEOUT = 1.0
GUARD_S = 30.0  # failure guard only: far longer than the read timeout plus aiohttp's lingering

Hub = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def hub(fakes: Fakes, aiohttp_client: Any, tmp_path: Path) -> Hub:
    """The real hub with a one-second read timeout (provider options may be overridden)."""

    async def factory(**overrides: Any) -> TestClient[Any, Any]:
        options = {"providers": provider_options(fakes), "api_token": TOKEN, **overrides}
        credentials = open_credentials(parse_options(options), tmp_path)
        app = build_app(
            credentials.settings,
            credentials=credentials,
            data_dir=tmp_path,
            api_token=Secret(TOKEN),
            check_health_on_start=False,
            read_timeout=READ_TIMEOUT,
        )
        client: TestClient[Any, Any] = await aiohttp_client(app)
        return client

    return factory


async def connect(
    client: TestClient[Any, Any],
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    port = client.server.port
    assert port is not None
    return await asyncio.open_connection(client.server.host, port)


async def read_all(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection."""
    return await asyncio.wait_for(reader.read(), GUARD_S)


def head(method: str, path: str, content_type: str, extra: str) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: {content_type}\r\n{extra}\r\n"
    ).encode()


async def test_headers_that_never_finish_are_cut_off(hub: Hub) -> None:
    client = await hub()
    reader, writer = await connect(client)
    writer.write(b"POST /api/v1/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    await writer.drain()
    try:
        assert await read_all(reader) == b""  # closed without a request ever being made
    finally:
        writer.close()


SHORT_BODIES = [
    pytest.param("POST", "/api/v1/chat", "application/json", "request_timeout", id="chat"),
    pytest.param("POST", "/v1/chat/completions", "application/json", "request_timeout", id="v1"),
    pytest.param(
        "PUT",
        "/api/v1/providers/openai/credentials",
        "application/json",
        "request_timeout",
        id="credentials",
    ),
    pytest.param(
        "POST",
        "/api/v1/vision",
        "multipart/form-data; boundary=xx",
        "request_timeout",
        id="vision-multipart",
    ),
]


@pytest.mark.parametrize(("method", "path", "content_type", "key"), SHORT_BODIES)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_body_that_stops_coming_is_408_and_closed(
    hub: Hub, fakes: Fakes, method: str, path: str, content_type: str, key: str, framing: str
) -> None:
    client = await hub()
    reader, writer = await connect(client)
    if framing == "content-length":
        request = head(method, path, content_type, "Content-Length: 100000\r\n") + b'{"prompt"'
    else:
        request = head(method, path, content_type, "Transfer-Encoding: chunked\r\n")
        request += b"4\r\n--xx\r\n"  # one chunk, then nothing
    writer.write(request)
    await writer.drain()
    try:
        answer = await read_all(reader)
    finally:
        writer.close()
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 408 "), answer[:200]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    error = body["error"]
    assert (error.get("code") if path.startswith("/v1/") else error.get("key")) == key
    assert not any(fake.requests for fake in fakes.all.values())


async def test_slow_clients_do_not_hold_up_others(hub: Hub) -> None:
    client = await hub()
    held = [await connect(client) for _ in range(20)]
    for _, writer in held:
        writer.write(head("POST", "/api/v1/chat", "application/json", "Content-Length: 50\r\n"))
        await writer.drain()
    try:
        health = await client.get("/health")
        assert health.status == 200
    finally:
        for _, writer in held:
            writer.close()


async def test_a_stream_may_outlast_the_read_timeout(hub: Hub, fakes: Fakes) -> None:
    # The provider stalls after its first chunk for three read timeouts: the stream stays
    # open, and ends with the provider's timeout as an SSE error event.
    providers = [{**p, "timeout": 3 * READ_TIMEOUT} for p in provider_options(fakes)]
    client = await hub(providers=providers, strategy="priority")
    fakes.openai.fail_next(Fault.STALL_STREAM)
    response = await client.post(
        "/api/v1/chat", json={"prompt": "Hi", "stream": True}, headers=AUTH
    )
    assert response.status == 200
    text = await asyncio.wait_for(response.text(), GUARD_S)
    events = [block.split("\n")[0] for block in text.split("\n\n") if block]
    assert events[0] == "event: delta"
    assert events[-1] == "event: error"
    assert '"provider_timeout"' in text


async def test_a_keep_alive_connection_serves_requests_until_idle(hub: Hub) -> None:
    client = await hub()
    reader, writer = await connect(client)
    try:
        for _ in range(3):
            writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), GUARD_S)
            assert status.startswith(b"HTTP/1.1 200 ")
            length = 0
            while (line := await asyncio.wait_for(reader.readline(), GUARD_S)) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
        assert await read_all(reader) == b""  # idle past the read timeout: closed
    finally:
        writer.close()


@pytest.mark.parametrize(
    "message",
    [
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Probe: a\x00b\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon here\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n",
    ],
    ids=["nul-in-header", "header-without-colon", "bad-content-length"],
)
async def test_a_malformed_message_is_400_without_an_error_in_the_log(
    hub: Hub, caplog: pytest.LogCaptureFixture, message: bytes
) -> None:
    """A client's broken HTTP is its own problem: a 400, and no traceback at ERROR per request
    (a client could otherwise fill the add-on's log)."""
    client = await hub()
    reader, writer = await connect(client)
    writer.write(message)
    await writer.drain()
    answer = await read_all(reader)
    writer.close()
    assert answer.split(b"\r\n", 1)[0].endswith(b" 400 Bad Request"), answer[:80]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
