"""The aiohttp application of the hub and its lifecycle (ledger, health monitor, Supervisor)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from addon.api.auth import auth_middleware
from addon.api.context import HUB_CONTEXT, HubContext, SupervisorLink
from addon.api.envelope import error_middleware
from addon.api.openai_compat import openai_error_middleware
from addon.api.routes import register_routes
from addon.api.security import install as install_security
from addon.api.transport import (
    BODY_DEADLINE,
    READ_TIMEOUT,
    quiet_malformed_requests,
    server_args,
    transport_middleware,
)
from addon.hub import build_manager
from addon.manager import ProviderManager
from addon.providers.probe import Prober
from addon.settings import Secret, Settings
from addon.startup import Credentials, supervisor_chores

_LOGGER = logging.getLogger(__name__)

MAX_BODY_BYTES = 48 * 1024 * 1024  # ten large base64 photos plus the prompt
DEFAULT_TRUSTED_INGRESS = ("172.30.32.2",)


def build_app(
    settings: Settings,
    *,
    data_dir: Path,
    api_token: Secret,
    manager: ProviderManager | None = None,
    trusted_ingress: tuple[str, ...] = DEFAULT_TRUSTED_INGRESS,
    check_health_on_start: bool = True,
    max_body_bytes: int = MAX_BODY_BYTES,
    read_timeout: float = READ_TIMEOUT,
    credentials: Credentials | None = None,
    supervisor: SupervisorLink | None = None,
    door_host: str = "0.0.0.0",
) -> web.Application:
    """The aiohttp application of the hub (with the Ollama door on ``door_host`` when enabled)."""
    app = web.Application(
        client_max_size=max_body_bytes,
        middlewares=[
            error_middleware,
            openai_error_middleware,
            auth_middleware,
            transport_middleware,
        ],
        handler_args=server_args(read_timeout),
    )
    app[BODY_DEADLINE] = read_timeout
    quiet_malformed_requests()
    prober = Prober()  # the providers' health probes before their SDKs load
    app[HUB_CONTEXT] = HubContext(
        settings=settings,
        manager=manager or build_manager(settings, data_dir=data_dir, prober=prober),
        api_token=api_token,
        data_dir=data_dir,
        trusted_ingress=trusted_ingress,
        credentials=credentials,
        supervisor=supervisor,
    )
    register_routes(app)
    install_security(app)
    app.cleanup_ctx.append(_lifecycle(check_health_on_start, prober))
    if settings.ollama_api.enabled:  # the door's modules load only when it opens
        from addon.api.ollama.app import install_door

        install_door(app, door_host, max_body_bytes=max_body_bytes, read_timeout=read_timeout)
    return app


def _lifecycle(
    check_health: bool, prober: Prober
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        context = app[HUB_CONTEXT]
        await context.manager.open(monitor=check_health)
        chores = None
        if context.supervisor is not None:
            chores = asyncio.create_task(_supervisor_chores(context))
        yield
        if chores is not None:
            chores.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await chores
        await context.manager.close()
        await prober.close()

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
