"""fetch_image_url against a loopback aiohttp server (loopback counts as a private address)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from addon.errors import HubError, InvalidRequestError, PayloadTooLargeError
from addon.images import fetch as fetch_module
from addon.images import fetch_image_url
from tests.addon.images import corpus

IMAGE = corpus.jpeg(64, 48)
CAP = 100_000


class ImageHost:
    """The loopback server and what it saw."""

    def __init__(self) -> None:
        self.hosts: list[str] = []
        self.server: TestServer | None = None

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        assert self.server is not None
        return f"http://{host}:{self.server.port}{path}"

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/image.jpg", self._image)
        app.router.add_get("/big", self._big)
        app.router.add_get("/chunked", self._chunked)
        app.router.add_get("/hang", self._hang)
        app.router.add_get("/missing", self._missing)
        app.router.add_get("/redirect", self._redirect)
        return app

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.hosts.append(request.headers.get("Host", ""))
        return await handler(request)

    async def _image(self, _request: web.Request) -> web.Response:
        return web.Response(body=IMAGE, content_type="image/jpeg")

    async def _big(self, _request: web.Request) -> web.Response:
        return web.Response(body=b"\xff" * (CAP + 1), content_type="image/jpeg")

    async def _chunked(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(4):  # 4 x 32 kB without a Content-Length: only the stream shows it
            await response.write(b"\x00" * 32_768)
        await response.write_eof()
        return response

    async def _hang(self, _request: web.Request) -> web.Response:
        await asyncio.Event().wait()  # never answers; the client's deadline ends it
        raise AssertionError("unreachable")

    async def _missing(self, _request: web.Request) -> web.Response:
        return web.json_response({"error": "not found"}, status=404)

    async def _redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])


@pytest.fixture
async def host(aiohttp_server: AiohttpServer) -> ImageHost:
    image_host = ImageHost()
    image_host.server = await aiohttp_server(image_host.app())
    return image_host


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def fetch(
    session: aiohttp.ClientSession, url: str, *, allow_private: bool = True, timeout: float = 10
) -> bytes:
    return await fetch_image_url(
        session, url, max_bytes=CAP, timeout=timeout, allow_private=allow_private
    )


async def test_fetches_the_content(host: ImageHost, session: aiohttp.ClientSession) -> None:
    assert await fetch(session, host.url("/image.jpg")) == IMAGE


async def test_host_name_is_kept_while_the_address_is_pinned(
    host: ImageHost, session: aiohttp.ClientSession
) -> None:
    assert await fetch(session, host.url("/image.jpg", host="localhost")) == IMAGE
    assert host.hosts[-1] == f"localhost:{host.server.port if host.server else 0}"


async def test_follows_redirects(host: ImageHost, session: aiohttp.ClientSession) -> None:
    url = host.url("/redirect?to=/image.jpg")
    assert await fetch(session, url) == IMAGE
    assert len(host.hosts) == 2


@pytest.mark.parametrize("path", ["/big", "/chunked"], ids=["content-length", "streamed"])
async def test_size_cap(host: ImageHost, session: aiohttp.ClientSession, path: str) -> None:
    with pytest.raises(PayloadTooLargeError, match="limit is 100,000 bytes") as info:
        await fetch(session, host.url(path))
    assert info.value.status == 413


async def test_deadline(host: ImageHost, session: aiohttp.ClientSession) -> None:
    with pytest.raises(InvalidRequestError, match=r"took longer than 0\.2 s"):
        await fetch(session, host.url("/hang"), timeout=0.2)


async def test_http_errors(host: ImageHost, session: aiohttp.ClientSession) -> None:
    with pytest.raises(InvalidRequestError, match="answered HTTP 404") as info:
        await fetch(session, host.url("/missing"))
    assert info.value.details["upstream_status"] == 404


async def test_connection_refused(session: aiohttp.ClientSession) -> None:
    with pytest.raises(InvalidRequestError, match="Could not fetch the image"):
        await fetch(session, "http://127.0.0.1:9/image.jpg")


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
async def test_private_addresses_refused_by_default(
    host: ImageHost, session: aiohttp.ClientSession, name: str
) -> None:
    with pytest.raises(InvalidRequestError, match="private or local address"):
        await fetch(session, host.url("/image.jpg", host=name), allow_private=False)
    assert host.hosts == []  # refused before connecting


async def test_redirect_targets_are_vetted_again(
    host: ImageHost, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Let 127.0.0.1 count as public, so the first hop is allowed and the second is not.
    monkeypatch.setattr(fetch_module, "is_public_address", lambda a: str(a) == "127.0.0.1")
    assert host.server is not None
    target = f"http://127.0.0.2:{host.server.port}/image.jpg"
    with pytest.raises(InvalidRequestError, match=r"private or local address \(127.0.0.2\)"):
        await fetch(session, host.url(f"/redirect?to={target}"), allow_private=False)
    assert len(host.hosts) == 1


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("file:///etc/passwd", InvalidRequestError),
        ("ftp://example.com/a.jpg", InvalidRequestError),
        ("http://", InvalidRequestError),
        ("/relative/image.jpg", InvalidRequestError),
        ("http://[::1", InvalidRequestError),
    ],
)
async def test_bad_urls(session: aiohttp.ClientSession, url: str, error: type[HubError]) -> None:
    with pytest.raises(error):
        await fetch(session, url)


async def test_redirect_to_another_scheme_is_refused(
    host: ImageHost, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(InvalidRequestError, match="http:// or https://"):
        await fetch(session, host.url("/redirect?to=file:///etc/passwd"))


async def test_redirect_loops_end(host: ImageHost, session: aiohttp.ClientSession) -> None:
    url = host.url("/redirect?to=/redirect%3Fto%3D/redirect%253Fto%253D/image.jpg")
    assert await fetch(session, url) == IMAGE  # three hops are fine
    loop = "/redirect?to=" + host.url("/redirect?to=/redirect%3Fto%3D/redirect%253Fto%253D/x")
    with pytest.raises(InvalidRequestError, match="redirects more than 3 times"):
        await fetch(session, host.url(loop))


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.10", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.251", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::7f00:1", False),
    ],
)
def test_address_policy(address: str, public: bool) -> None:
    assert fetch_module.is_public_address(ipaddress.ip_address(address)) is public
