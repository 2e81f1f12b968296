"""``GET /api/v1/openapi.json``: the API's OpenAPI document (kept true by a test)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from addon import __version__
from addon.api.envelope import endpoint
from addon.yaml_files import safe_load

OPENAPI_FILE = Path(__file__).with_name("openapi.yaml")


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document with the running version."""
    document: dict[str, Any] = safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))
    document["info"]["version"] = __version__
    return document


@endpoint
async def openapi(_request: web.Request) -> Mapping[str, Any]:
    """Serve the OpenAPI document."""
    return openapi_document()
