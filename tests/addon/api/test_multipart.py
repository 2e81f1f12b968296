"""Multipart vision bodies are bounded: parts, fields and field sizes are capped, and a flood of
parts is refused while it is still arriving, without holding up anyone else (``/health``)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from addon.api.multipart import FORM_FIELDS, MAX_FIELD_BYTES, MAX_PARTS
from addon.api.schemas import MAX_IMAGES
from tests.addon.api.test_vision import jpeg_bytes
from tests.conftest import AUTH, TOKEN, Fakes, HubClientFactory

B = b"bOuNdArY"
FLOOD = 20_000
GUARD_S = 60  # a failure guard only: the answer must come before the body is complete


def part(disposition: bytes, body: bytes = b"x", extra: bytes = b"") -> bytes:
    return (
        b"--"
        + B
        + b"\r\nContent-Disposition: "
        + disposition
        + extra
        + b"\r\n\r\n"
        + body
        + b"\r\n"
    )


BOMBS: dict[str, Callable[[int], bytes]] = {
    "unknown-fields": lambda i: part(b'form-data; name="f%d"' % i),
    "same-field-again": lambda _: part(b'form-data; name="prompt"'),
    "tiny-files": lambda i: part(
        b'form-data; name="image"; filename="%d.jpg"' % i,
        b"\xff\xd8",
        b"\r\nContent-Type: image/jpeg",
    ),
    "nameless-parts": lambda _: part(b"form-data"),
}


async def send_partly(
    host: str, port: int, body: bytes, share: int
) -> tuple[bytes, asyncio.StreamWriter]:
    """Send the head and the first ``1/share`` of ``body``; return the status line."""
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        "POST /api/v1/vision HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {TOKEN}\r\n"
        f"Content-Type: multipart/form-data; boundary={B.decode()}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    writer.write(head + body[: len(body) // share])
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), GUARD_S)
    return status, writer


@pytest.mark.parametrize("bomb", sorted(BOMBS))
async def test_a_flood_of_parts_is_refused_before_it_has_arrived(
    hub_client: HubClientFactory, fakes: Fakes, bomb: str
) -> None:
    client = await hub_client()
    body = b"".join(BOMBS[bomb](i) for i in range(FLOOD)) + b"--" + B + b"--\r\n"
    assert len(body) > 500_000
    port = client.server.port
    assert port is not None
    status, writer = await send_partly(client.server.host, port, body, share=10)
    try:
        assert status.startswith(b"HTTP/1.1 400 "), status
        # The flood's connection is still open with 90 % of its body unsent; others are served.
        health = await client.get("/health")
        assert health.status == 200
    finally:
        writer.close()
    assert not any(fake.requests for fake in fakes.all.values())


FIELD_VALUES = {
    "max_tokens": "5",
    "temperature": "0.5",
    "messages": "[]",
    "structure": "{}",
    "stop": "[]",
    "tools": "[]",
}


def full_form() -> FormData:
    form = FormData(default_to_multipart=True)
    for index in range(MAX_IMAGES):
        form.add_field("image", jpeg_bytes(), filename=f"{index}.jpg", content_type="image/jpeg")
    for name in sorted(FORM_FIELDS):
        form.add_field(name, FIELD_VALUES.get(name, "x"))
    return form


async def test_parts_beyond_the_cap_are_refused(hub_client: HubClientFactory) -> None:
    form = full_form()
    assert MAX_IMAGES + len(FORM_FIELDS) == MAX_PARTS
    form.add_field("image", jpeg_bytes(), filename="extra.jpg", content_type="image/jpeg")
    client = await hub_client()
    response = await client.post("/api/v1/vision", data=form, headers=AUTH)
    body = await response.json()
    assert response.status == 400
    assert f"at most {MAX_PARTS} parts" in body["error"]["message"]


def door_form(system: bytes) -> bytes:
    image = part(b'form-data; name="image"; filename="door.jpg"', jpeg_bytes())
    fields = part(b'form-data; name="system"', system) + part(b'form-data; name="prompt"', b"Hi?")
    return image + fields + b"--" + B + b"--\r\n"


async def post_form(client: TestClient[Any, Any], body: bytes) -> Any:
    content_type = f"multipart/form-data; boundary={B.decode()}"
    headers = {**AUTH, "Content-Type": content_type}
    return await client.post("/api/v1/vision", data=io.BytesIO(body), headers=headers)


@pytest.mark.parametrize("size", [MAX_FIELD_BYTES + 1, MAX_FIELD_BYTES * 8])
async def test_a_field_over_its_size_is_refused(
    hub_client: HubClientFactory, fakes: Fakes, size: int
) -> None:
    client = await hub_client()
    response = await post_form(client, door_form(b"s" * size))
    body = await response.json()
    assert response.status == 400
    assert "'system' is over" in body["error"]["message"]
    assert not fakes.openai.requests


async def test_a_field_at_its_size_passes_the_edge(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    response = await post_form(client, door_form(b"s" * MAX_FIELD_BYTES))
    body = await response.json()
    # The simulated OpenAI refuses bodies over 1 MiB itself: what matters is that the hub
    # took the field and went upstream with it.
    assert response.status == 200 or body["error"]["attempts"], body


async def test_a_field_given_twice_is_refused(hub_client: HubClientFactory) -> None:
    form = FormData(default_to_multipart=True)
    form.add_field("image", jpeg_bytes(), filename="door.jpg", content_type="image/jpeg")
    form.add_field("prompt", "one")
    form.add_field("prompt", "two")
    client = await hub_client()
    response = await client.post("/api/v1/vision", data=form, headers=AUTH)
    assert response.status == 400
    assert "given twice" in (await response.json())["error"]["message"]
