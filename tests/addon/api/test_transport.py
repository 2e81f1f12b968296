"""Malformed transport on every POST/PUT route: a 400/415 with an error key, never a 5xx.

The routes come from the application's router, so a new route is covered without a change
here. Each malformation is a raw request (headers and bytes as a hostile client sends them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH, HubClientFactory

JSON_BODY = (
    b'{"prompt": "hi", "api_key": "sk-some-key-123456",'
    b' "messages": [{"role": "user", "content": "hi"}]}'
)
B = "XyZzY"


def part(headers: bytes, body: bytes) -> bytes:
    return b"--" + B.encode() + b"\r\n" + headers + b"\r\n\r\n" + body + b"\r\n"


END = b"--" + B.encode() + b"--\r\n"
MULTIPART = f"multipart/form-data; boundary={B}"


@dataclass(frozen=True)
class Malformed:
    """One hostile request shape."""

    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


CORPUS: dict[str, Malformed] = {
    "json-charset-klingon": Malformed("application/json; charset=klingon", JSON_BODY),
    "json-charset-utf16-body-utf8": Malformed("application/json; charset=utf-16", JSON_BODY),
    "json-not-utf8": Malformed("application/json", b'{"prompt": "h\xe9\xff"}'),
    "gzip-not-gzip": Malformed("application/json", JSON_BODY, {"Content-Encoding": "gzip"}),
    "deflate-not-deflate": Malformed(
        "application/json", JSON_BODY, {"Content-Encoding": "deflate"}
    ),
    "br-not-br": Malformed("application/json", JSON_BODY, {"Content-Encoding": "br"}),
    "unknown-encoding": Malformed("application/json", JSON_BODY, {"Content-Encoding": "klingon"}),
    "stacked-unknown-encoding": Malformed(
        "application/json", JSON_BODY, {"Content-Encoding": "gzip, klingon"}
    ),
    "multipart-no-boundary": Malformed(
        "multipart/form-data", part(b'Content-Disposition: form-data; name="prompt"', b"hi") + END
    ),
    "multipart-garbage": Malformed(MULTIPART, b"\x00\x01 this is not multipart at all \xff" * 20),
    "multipart-unterminated": Malformed(
        MULTIPART, part(b'Content-Disposition: form-data; name="prompt"', b"hi")[:-2]
    ),
    "multipart-non-utf8-name": Malformed(
        MULTIPART, part(b'Content-Disposition: form-data; name="\xff\xfe"', b"hi") + END
    ),
    "multipart-part-without-name": Malformed(
        MULTIPART, part(b"Content-Disposition: form-data", b"hi") + END
    ),
    "multipart-part-without-disposition": Malformed(
        MULTIPART, part(b"Content-Type: text/plain", b"hi") + END
    ),
    "multipart-field-charset-klingon": Malformed(
        MULTIPART,
        part(
            b'Content-Disposition: form-data; name="prompt"\r\n'
            b"Content-Type: text/plain; charset=klingon",
            b"hi",
        )
        + END,
    ),
    "multipart-field-not-utf8": Malformed(
        MULTIPART, part(b'Content-Disposition: form-data; name="prompt"', b"h\xe9\xff") + END
    ),
    "multipart-bad-part-encoding": Malformed(
        MULTIPART,
        part(
            b'Content-Disposition: form-data; name="prompt"\r\nContent-Transfer-Encoding: klingon',
            b"hi",
        )
        + END,
    ),
    "multipart-field-nested-too-deep": Malformed(
        MULTIPART,
        part(b'Content-Disposition: form-data; name="messages"', b"[" * 100_000) + END,
    ),
    "multipart-part-transfer-base64": Malformed(
        MULTIPART,
        part(
            b'Content-Disposition: form-data; name="prompt"\r\nContent-Transfer-Encoding: base64',
            b"aGk=",
        )
        + END,
    ),
    "multipart-nested-multipart": Malformed(
        MULTIPART,
        part(
            b'Content-Disposition: form-data; name="prompt"\r\n'
            b"Content-Type: multipart/mixed; boundary=inner",
            b"--inner--",
        )
        + END,
    ),
    "multipart-header-line-too-long": Malformed(
        MULTIPART, part(b"X-Long: " + b"a" * 100_000, b"hi") + END
    ),
    "multipart-thousands-of-parts": Malformed(
        MULTIPART,
        b"".join(part(b'Content-Disposition: form-data; name="f"', b"x") for _ in range(3000))
        + END,
    ),
}


def body_routes(client: TestClient[Any, Any]) -> list[tuple[str, str]]:
    """Every POST/PUT route the application serves, with its path made concrete."""
    routes = []
    for route in client.app.router.routes():
        if route.method in ("POST", "PUT") and route.resource is not None:
            path = route.resource.canonical.replace("{name}", "openai")
            routes.append((route.method, path))
    return sorted(routes)


def error_key(path: str, body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    return error.get("code") if path.startswith("/v1/") else error.get("key")


@pytest.mark.parametrize("name", sorted(CORPUS))
async def test_malformed_transport_is_a_clear_4xx_on_every_body_route(
    hub_client: HubClientFactory, name: str
) -> None:
    malformed = CORPUS[name]
    client = await hub_client()
    headers = {**AUTH, "Content-Type": malformed.content_type, **malformed.headers}
    wrong: list[str] = []
    for method, path in body_routes(client):
        response = await client.request(method, path, data=malformed.body, headers=headers)
        try:
            body = await response.json(content_type=None)
        except ValueError:
            body = None
        key = error_key(path, body)
        if response.status not in (400, 413, 415) or not key:
            wrong.append(f"{method} {path}: {response.status} {key}")
    assert not wrong, "\n".join(wrong)
