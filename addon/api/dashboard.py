"""The ingress dashboard: a static page (``addon/web/``) that reads the hub's own API.

``GET /`` is the page and ``GET /static/{file}`` its scripts and stylesheet; neither holds any
data, so both are public. The page then calls the JSON API with relative URLs (correct under
Home Assistant's ingress prefix): through ingress without a token, from anywhere else with the
bearer token the page asks for once and keeps for the browser tab (``sessionStorage``).
Files are read once at start-up (and gzipped once); only names in the web folder are served,
with an ETag.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Final

from aiohttp import web

from addon.errors import NotFoundError

WEB: Final = resources.files("addon") / "web"
INDEX: Final = "index.html"
SERVED_TYPES: Final = {
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
    ".txt": "text/plain",
}


@dataclass(frozen=True, slots=True)
class Asset:
    """One file of the page, held in memory."""

    body: bytes
    gzipped: bytes
    content_type: str
    etag: str


def load_assets() -> dict[str, Asset]:
    """Every servable file of ``addon/web`` by name (no sub-folders, known types only)."""
    assets: dict[str, Asset] = {}
    for entry in WEB.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if not entry.is_file() or suffix not in SERVED_TYPES:
            continue
        body = entry.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        assets[entry.name] = Asset(body, packed, SERVED_TYPES[suffix], etag)
    return assets


ASSETS: Final = load_assets()


async def page(request: web.Request) -> web.Response:
    """``GET /``: the dashboard page."""
    return _serve(request, INDEX)


async def asset(request: web.Request) -> web.Response:
    """``GET /static/{file}``: a script, stylesheet or licence of the page."""
    name = request.match_info["file"]
    if name == INDEX or name not in ASSETS:
        raise NotFoundError(f"No dashboard file named {name!r}")
    return _serve(request, name)


def _serve(request: web.Request, name: str) -> web.Response:
    item = ASSETS[name]
    # Revalidate every time: an add-on update must show at once, unchanged files cost a 304.
    headers = {"ETag": item.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if request.headers.get("If-None-Match") == item.etag:
        return web.Response(status=304, headers=headers)
    body = item.body
    if "gzip" in request.headers.get("Accept-Encoding", "").lower():
        body = item.gzipped
        headers["Content-Encoding"] = "gzip"
    charset = None if item.content_type.startswith("image/") else "utf-8"
    return web.Response(body=body, content_type=item.content_type, charset=charset, headers=headers)
