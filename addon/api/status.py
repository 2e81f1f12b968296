"""``GET /health``, ``GET /api/v1/providers`` and ``GET /api/v1/models``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from addon import __version__
from addon.api.context import hub
from addon.api.envelope import endpoint


@endpoint
async def health(request: web.Request) -> Mapping[str, Any]:
    """Liveness and per-provider state; no auth, never a secret."""
    context = hub(request)
    status = context.manager.status()
    return {
        "status": status.status,
        "version": __version__,
        "providers": [row.summary() for row in status.providers],
        "notices": context.notices,
    }


@endpoint
async def providers(request: web.Request) -> Mapping[str, Any]:
    """Every configured provider: state and why, capabilities, load, headroom, spend."""
    context = hub(request)
    details = await context.manager.provider_details()
    stored = set(context.credentials.store.names()) if context.credentials else set()
    return {
        "providers": [
            {**row.to_dict(), "key_stored": row.name in stored, **details[row.name]}
            for row in context.manager.status().providers
        ]
    }


@endpoint
async def models(request: web.Request) -> Mapping[str, Any]:
    """Models every enabled provider offers (asked concurrently; failures listed apart)."""
    return (await hub(request).manager.models()).to_dict()
