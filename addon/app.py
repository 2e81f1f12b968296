"""Assemble the running hub: providers, manager, API application and its lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path

from aiohttp import web

from addon.api.auth import auth_middleware
from addon.api.context import HUB_CONTEXT, HubContext
from addon.api.envelope import error_middleware
from addon.api.routes import register_routes
from addon.images import ImageLimits, ImageOptions, default_max_side, prepare_images
from addon.manager import ImagePreparer, ProviderManager
from addon.models import RawImage
from addon.providers import create_provider
from addon.providers.base import ImageInput, Provider
from addon.routing.health import HealthBoard
from addon.routing.strategy import PriorityStrategy
from addon.settings import Secret, Settings

_LOGGER = logging.getLogger(__name__)

TOKEN_FILE = "api_token"  # noqa: S105 - a file name, not a secret
MAX_BODY_BYTES = 48 * 1024 * 1024  # ten large base64 photos plus the prompt
STARTUP_HEALTH_TIMEOUT = 10.0
DEFAULT_TRUSTED_INGRESS = ("172.30.32.2",)


def resolve_api_token(settings: Settings, data_dir: Path, env: Mapping[str, str]) -> Secret:
    """The API token: from the options, else ``HUB_API_TOKEN``, else generated and kept in /data.

    A generated token is written once with mode 0600 and reused on later starts.
    """
    if settings.api_token:
        return settings.api_token
    if env.get("HUB_API_TOKEN"):
        return Secret(env["HUB_API_TOKEN"])
    path = data_dir / TOKEN_FILE
    if path.exists():
        return Secret(path.read_text(encoding="utf-8").strip())
    token = secrets.token_urlsafe(32)
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _LOGGER.info("Generated an API token and stored it in %s", path)
    return Secret(token)


def image_preparer(limits: ImageLimits | None = None) -> ImagePreparer:
    """The manager's image step: the Pillow pipeline, sized for each provider type."""
    image_limits = limits or ImageLimits()

    async def prepare(
        images: Sequence[RawImage], provider_type: str, detail: str | None
    ) -> tuple[ImageInput, ...]:
        options = ImageOptions(max_side=default_max_side(provider_type, detail))
        prepared = await prepare_images(
            [image.data for image in images],
            provider_type=provider_type,
            options=options,
            limits=image_limits,
        )
        return tuple(ImageInput(p.data, p.mime_type) for p in prepared)

    return prepare


def build_manager(
    settings: Settings,
    providers: Sequence[Provider] | None = None,
    prepare_images: ImagePreparer | None = None,
) -> ProviderManager:
    """The manager over ``providers`` (built from ``settings`` unless given)."""
    built = list(providers) if providers is not None else _create_providers(settings)
    health = HealthBoard(built)
    return ProviderManager(
        built,
        strategy=PriorityStrategy(health),
        health=health,
        request_timeout=settings.request_timeout,
        prepare_images=prepare_images or image_preparer(),
    )


def _create_providers(settings: Settings) -> list[Provider]:
    return [create_provider(p) for p in settings.providers]


def build_app(
    settings: Settings,
    *,
    data_dir: Path,
    api_token: Secret,
    manager: ProviderManager | None = None,
    trusted_ingress: tuple[str, ...] = DEFAULT_TRUSTED_INGRESS,
    check_health_on_start: bool = True,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> web.Application:
    """The aiohttp application of the hub."""
    app = web.Application(
        client_max_size=max_body_bytes, middlewares=[error_middleware, auth_middleware]
    )
    app[HUB_CONTEXT] = HubContext(
        settings=settings,
        manager=manager or build_manager(settings),
        api_token=api_token,
        data_dir=data_dir,
        trusted_ingress=trusted_ingress,
    )
    register_routes(app)
    app.cleanup_ctx.append(_lifecycle(check_health_on_start))
    return app


def _lifecycle(check_health: bool) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        context = app[HUB_CONTEXT]
        providers = list(context.manager.providers.values())
        task = None
        if check_health and providers:
            task = asyncio.create_task(
                context.manager.health.check_all(providers, STARTUP_HEALTH_TIMEOUT)
            )
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await context.manager.close()

    return lifecycle
