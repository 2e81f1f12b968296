"""Every route of the API, registered in one place."""

from __future__ import annotations

from aiohttp import web

from addon.api import (
    activity,
    batch,
    chat,
    credentials,
    dashboard,
    embeddings,
    images_gen,
    metrics,
    openai_compat,
    openapi,
    speech,
    status,
    transcriptions,
    usage,
)


def register_routes(app: web.Application) -> None:
    """Add every route to ``app``."""
    app.router.add_get("/", dashboard.page)
    app.router.add_get("/static/{file}", dashboard.asset)
    app.router.add_get("/health", status.health)
    app.router.add_post("/api/v1/chat", chat.chat)
    app.router.add_post("/api/v1/vision", chat.vision)
    app.router.add_post("/api/v1/batch", batch.batch)
    app.router.add_post("/api/v1/embeddings", embeddings.embeddings)
    app.router.add_post("/api/v1/images", images_gen.images)
    app.router.add_post("/api/v1/transcriptions", transcriptions.transcriptions)
    app.router.add_post("/api/v1/speech", speech.speech)
    app.router.add_get("/api/v1/providers", status.providers)
    app.router.add_get("/api/v1/models", status.models)
    app.router.add_get("/api/v1/usage", usage.usage)
    app.router.add_get("/api/v1/requests", activity.recent_requests)
    app.router.add_get("/api/v1/routing", activity.routing)
    app.router.add_get("/metrics", metrics.metrics)
    app.router.add_get("/api/v1/openapi.json", openapi.openapi)
    app.router.add_post("/v1/chat/completions", openai_compat.chat_completions)
    app.router.add_get("/v1/models", openai_compat.models)
    app.router.add_post("/v1/embeddings", embeddings.openai_embeddings)
    app.router.add_post("/v1/images/generations", images_gen.openai_images)
    app.router.add_post("/v1/audio/transcriptions", transcriptions.openai_transcriptions)
    app.router.add_post("/v1/audio/speech", speech.openai_speech)
    app.router.add_put("/api/v1/providers/{name}/credentials", credentials.put_credentials)
    app.router.add_delete("/api/v1/providers/{name}/credentials", credentials.delete_credentials)
    app.router.add_post("/api/v1/providers/{name}/test", credentials.test_credentials)
    app.router.add_post("/api/v1/credentials/rotate", credentials.rotate_credentials_key)
    app.router.add_post("/api/v1/token/rotate", credentials.rotate_token)
