"""The Ollama door's own application and listener, and who may come in.

Ollama clients send no token by default (Home Assistant's Ollama integration had no token field
until recently), so the door cannot rely on the hub's API token. It listens on its own port,
only when ``ollama_api.enabled`` is set, and serves only clients whose address is in
``allowed_networks`` (by default Home Assistant's internal network and loopback); everyone else
gets 403. When ``ollama_api.token`` is set, a matching ``Authorization: Bearer`` is required as
well (401 without it). Errors are Ollama's ``{"error": "..."}``.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from addon import redact
from addon.api.auth import bearer_token, token_matches
from addon.api.context import HUB_CONTEXT, HubContext
from addon.api.envelope import REQUEST_ID_HEADER, method_not_allowed, request_id
from addon.api.ollama import handlers
from addon.api.security import install as install_security
from addon.api.transport import BODY_DEADLINE, READ_TIMEOUT, server_args, transport_middleware
from addon.errors import (
    ForbiddenError,
    HubError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    UnauthorizedError,
)
from addon.settings import OllamaApiSettings

_LOGGER = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class DoorListener:
    """Where the Ollama door listens; ``port`` is the bound one once started."""

    host: str
    port: int = 0

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"


OLLAMA_DOOR: web.AppKey[DoorListener] = web.AppKey("ollama_door", DoorListener)


def allowed(remote: str | None, options: OllamaApiSettings) -> bool:
    """True when ``remote`` is inside one of the allowed networks."""
    if remote is None:
        return False
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in options.allowed_networks)


@web.middleware
async def ollama_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error in Ollama's shape, with the request id header."""
    rid = request_id(request)
    try:
        response = await handler(request)
    except HubError as err:
        response = handlers.ollama_error(err)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = handlers.ollama_error(_from_http(request, exc))
    except Exception:
        _LOGGER.exception("Unexpected error handling %s %s", request.method, request.path)
        response = handlers.ollama_error(HubError("Internal error; see the add-on log"))
    if not response.prepared:
        response.headers.setdefault(REQUEST_ID_HEADER, rid)
    return response


def _from_http(request: web.Request, exc: web.HTTPException) -> HubError:
    if exc.status == 404:
        return NotFoundError(f"No such endpoint: {request.path}")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return method_not_allowed(exc)
    if exc.status == 413:
        return PayloadTooLargeError(f"Request body too large: {exc.text or exc.reason}")
    return InvalidRequestError(exc.text or exc.reason)


@web.middleware
async def door_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Allowed networks first, then the optional bearer token."""
    options = request.app[HUB_CONTEXT].settings.ollama_api
    if not allowed(request.remote, options):
        raise ForbiddenError(
            f"{request.remote} is not in ollama_api.allowed_networks; add its network in the "
            "add-on's options to let it in"
        )
    expected = options.token.reveal()
    if expected:
        token = bearer_token(request)
        if token is None or not token_matches(token, expected):
            raise UnauthorizedError("unauthorized: send 'Authorization: Bearer <ollama_api token>'")
    return await handler(request)


def build_ollama_app(
    context: HubContext, *, max_body_bytes: int, read_timeout: float = READ_TIMEOUT
) -> web.Application:
    """The door's application, sharing the hub's context (and so its manager).

    Its bodies pass the hub's transport checks (encoding, charset, a read deadline) after the
    door's guard, and its server cuts off clients whose headers do not arrive in time, as the
    main listener does.
    """
    app = web.Application(
        client_max_size=max_body_bytes,
        middlewares=[ollama_errors, door_guard, transport_middleware],
        handler_args=server_args(read_timeout),
    )
    app[BODY_DEADLINE] = read_timeout
    app[HUB_CONTEXT] = context
    app.router.add_get("/", handlers.root)
    app.router.add_get("/api/version", handlers.version)
    app.router.add_get("/api/tags", handlers.tags)
    app.router.add_get("/api/ps", handlers.ps)
    app.router.add_post("/api/show", handlers.show)
    app.router.add_post("/api/pull", handlers.pull)
    app.router.add_post("/api/chat", handlers.chat)
    install_security(app)
    return app


def install_door(
    app: web.Application, host: str, *, max_body_bytes: int, read_timeout: float = READ_TIMEOUT
) -> None:
    """Let the door listen while the hub's ``app`` runs (when ``ollama_api.enabled``).

    Call after the hub's own lifecycle is registered: the manager is then open before the first
    Ollama request, and the door has stopped before the manager closes.
    """
    if not app[HUB_CONTEXT].settings.ollama_api.enabled:
        return
    app[OLLAMA_DOOR] = DoorListener(host)
    app.cleanup_ctx.append(_listener(max_body_bytes, read_timeout))


def _listener(
    max_body_bytes: int, read_timeout: float
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def listener(app: web.Application) -> AsyncIterator[None]:
        context = app[HUB_CONTEXT]
        options = context.settings.ollama_api
        redact.register(options.token.reveal())
        door_app = build_ollama_app(
            context, max_body_bytes=max_body_bytes, read_timeout=read_timeout
        )
        runner = web.AppRunner(door_app, access_log=None)
        await runner.setup()
        door = app[OLLAMA_DOOR]
        site = web.TCPSite(runner, door.host, options.port)
        await site.start()
        door.port = _bound_port(runner, options.port)
        _LOGGER.info(
            "Ollama-compatible API on port %d for %s%s",
            door.port,
            ", ".join(str(n) for n in options.allowed_networks) or "nobody",
            " (token required)" if options.token else "",
        )
        yield
        await runner.cleanup()

    return listener


def _bound_port(runner: web.AppRunner, configured: int) -> int:
    """The port the door listens on (the configured one, or the one the OS picked for 0)."""
    addresses = runner.addresses
    return int(addresses[0][1]) if addresses else configured
