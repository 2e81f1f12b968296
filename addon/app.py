"""Assemble the running hub: providers, manager, API application and its lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import aiohttp
from aiohttp import web

from addon.api.auth import auth_middleware
from addon.api.context import HUB_CONTEXT, HubContext, SupervisorLink
from addon.api.envelope import error_middleware
from addon.api.openai_compat import openai_error_middleware
from addon.api.routes import register_routes
from addon.api.security import install as install_security
from addon.images import ImageLimits, ImageOptions, default_max_side, prepare_images
from addon.manager import ImagePreparer, ProviderManager
from addon.models import RawImage
from addon.providers import create_provider
from addon.providers.base import ImageInput, Provider
from addon.routing.health import HealthBoard
from addon.routing.strategy import PriorityStrategy
from addon.settings import Secret, Settings
from addon.startup import Credentials, supervisor_chores

_LOGGER = logging.getLogger(__name__)

MAX_BODY_BYTES = 48 * 1024 * 1024  # ten large base64 photos plus the prompt
STARTUP_HEALTH_TIMEOUT = 10.0
DEFAULT_TRUSTED_INGRESS = ("172.30.32.2",)


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
    credentials: Credentials | None = None,
    supervisor: SupervisorLink | None = None,
) -> web.Application:
    """The aiohttp application of the hub."""
    app = web.Application(
        client_max_size=max_body_bytes,
        middlewares=[error_middleware, openai_error_middleware, auth_middleware],
    )
    app[HUB_CONTEXT] = HubContext(
        settings=settings,
        manager=manager or build_manager(settings),
        api_token=api_token,
        data_dir=data_dir,
        trusted_ingress=trusted_ingress,
        credentials=credentials,
        supervisor=supervisor,
    )
    register_routes(app)
    install_security(app)
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
        chores = None
        if context.supervisor is not None:
            chores = asyncio.create_task(_supervisor_chores(context))
        yield
        if chores is not None:
            chores.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await chores
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await context.manager.close()

    return lifecycle


async def _supervisor_chores(context: HubContext) -> None:
    link = context.supervisor
    assert link is not None
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await supervisor_chores(
            session,
            link.token,
            base_url=link.url,
            imported=context.credentials.imported if context.credentials else [],
            port=link.port,
            api_token=context.api_token,
        )
