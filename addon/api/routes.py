"""Every route of the API, registered in one place."""

from __future__ import annotations

from aiohttp import web

from addon.api import chat, openapi, status


def register_routes(app: web.Application) -> None:
    """Add every route to ``app``."""
    app.router.add_get("/health", status.health)
    app.router.add_post("/api/v1/chat", chat.chat)
    app.router.add_post("/api/v1/vision", chat.vision)
    app.router.add_get("/api/v1/providers", status.providers)
    app.router.add_get("/api/v1/models", status.models)
    app.router.add_get("/api/v1/openapi.json", openapi.openapi)
