"""Home Assistant's ingress proxy on loopback, as the add-on sees it.

A browser opens ``http://127.0.0.1:PORT/api/hassio_ingress/<token>/``; the proxy strips that
prefix, forwards the request to the add-on with ``X-Ingress-Path: /api/hassio_ingress/<token>``
and the Home Assistant user's headers (as the Supervisor does), and relays the answer. Every
path the browser asked for is recorded, so a test can prove that nothing left the prefix.
"""

from __future__ import annotations

from typing import Final

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
USER_HEADERS: Final = {
    "X-Remote-User-Id": "0b0e1f2a3c4d5e6f708192a3b4c5d6e7",
    "X-Remote-User-Name": "homeowner",
    "X-Remote-User-Display-Name": "Home Owner",
}


class FakeIngress:
    """A reverse proxy mounting ``upstream`` under ``/api/hassio_ingress/<token>``."""

    def __init__(self, upstream: str, token: str = "e2eIngressToken0123") -> None:
        self.upstream = upstream.rstrip("/")
        self.prefix = f"/api/hassio_ingress/{token}"
        self.seen: list[str] = []
        self.strays: list[str] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The page's address through the proxy (with the trailing slash ingress uses)."""
        return f"http://127.0.0.1:{self.port}{self.prefix}/"

    async def start(self) -> FakeIngress:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._proxy)
        self._session = aiohttp.ClientSession(auto_decompress=False)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Stop listening and close the upstream session."""
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _proxy(self, request: web.Request) -> web.StreamResponse:
        path = request.rel_url.path
        self.seen.append(request.rel_url.path_qs)
        if not path.startswith(self.prefix + "/"):
            self.strays.append(request.rel_url.path_qs)
            return web.Response(status=404, text="outside the ingress prefix")
        target = self.upstream + request.rel_url.path_qs[len(self.prefix) :]
        headers = CIMultiDict(
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in HOP_BY_HOP
        )
        headers.update({"X-Ingress-Path": self.prefix, **USER_HEADERS})
        assert self._session is not None
        async with self._session.request(
            request.method,
            target,
            headers=headers,
            data=await request.read() if request.can_read_body else None,
            allow_redirects=False,
        ) as upstream:
            body = await upstream.read()
            relayed = CIMultiDict(
                (name, value)
                for name, value in upstream.headers.items()
                if name.lower() not in HOP_BY_HOP
            )
            return web.Response(status=upstream.status, body=body, headers=relayed)
