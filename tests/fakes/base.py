"""Shared machinery of the fake provider servers: recording, replies and fault injection.

Each vendor module builds an ``aiohttp`` application on top of ``FakeServer``: the routes speak
the vendor's documented wire format (bodies, headers, SSE/NDJSON streams, error bodies); this
base records every request and lets a test queue faults that the next requests suffer.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aiohttp import web

from tests.fakes.tools import ToolPlan


def free_port() -> int:
    """A loopback port that was free a moment ago (for a server started next)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def retry_headers(params: dict[str, Any]) -> dict[str, str]:
    """The wait headers of a 429 as a test asks for them.

    ``retry_after`` (default 1) is sent verbatim as ``Retry-After`` (seconds, a negative number
    or an HTTP date: whatever the test wants the client to cope with); ``omit_header=True``
    leaves it out. ``retry_after_ms`` adds the ``retry-after-ms`` header OpenAI and Anthropic
    send beside it.
    """
    headers: dict[str, str] = {}
    if not params.get("omit_header"):
        headers["Retry-After"] = str(params.get("retry_after", 1))
    if "retry_after_ms" in params:
        headers["retry-after-ms"] = str(params["retry_after_ms"])
    return headers


class Fault(StrEnum):
    """Faults a fake can inject into the next request(s)."""

    DISCONNECT = "disconnect"  # close the connection without an answer
    TIMEOUT = "timeout"  # hold the request far past any deadline
    RATE_LIMIT = "rate_limit"  # 429 with the vendor's body and ``retry_headers(params)``
    SERVER_ERROR = "server_error"  # 500 with the vendor's body
    OVERLOADED = "overloaded"  # 503 (Anthropic: 529 overloaded_error)
    AUTH = "auth"  # 401 with the vendor's body
    BAD_REQUEST = "bad_request"  # 400 with the vendor's body
    MALFORMED = "malformed"  # 200 with a body that is not the documented JSON
    STALL_STREAM = "stall_stream"  # start a stream, send one chunk, then stall


@dataclass
class RecordedRequest:
    """One request as the fake received it."""

    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    body: Any

    @property
    def json(self) -> Any:
        """The decoded JSON body (None when there was none)."""
        return self.body


@dataclass
class Reply:
    """What the fake answers to a successful generation request."""

    text: str = "Hello from the fake."
    input_tokens: int = 12
    output_tokens: int = 5
    thinking_tokens: int = 0
    chunks: int = 3  # number of text pieces in a stream


@dataclass
class FakeState:
    """Mutable state a test steers: queued faults, reply, recorded requests."""

    faults: deque[tuple[Fault, dict[str, Any]]] = field(default_factory=deque)
    sticky_fault: tuple[Fault, dict[str, Any]] | None = None
    reply: Reply = field(default_factory=Reply)
    requests: list[RecordedRequest] = field(default_factory=list)
    api_key: str | None = None  # when set, requests must carry it
    models: list[str] = field(default_factory=list)
    tool_script: list[ToolPlan] = field(default_factory=list)  # see tests/fakes/tools.py


class FakeServer:
    """Base of the vendor fakes. Subclasses add routes in ``setup_routes`` and render errors."""

    vendor = "fake"
    #: Largest body the fake reads (above every vendor's own limit, so its handler can refuse).
    client_max_size = 64 * 1024 * 1024

    def __init__(self, *, api_key: str | None = None, models: list[str] | None = None) -> None:
        self.state = FakeState(api_key=api_key, models=list(models or []))
        self.app = web.Application(
            middlewares=[self._record_middleware], client_max_size=self.client_max_size
        )
        self._add_control_routes(self.app)
        self.setup_routes(self.app)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.host = "127.0.0.1"

    # --- steering -----------------------------------------------------------------------
    def fail_next(self, fault: Fault, times: int = 1, **params: Any) -> None:
        """Make the next ``times`` generation requests suffer ``fault``."""
        for _ in range(times):
            self.state.faults.append((fault, params))

    def fail_always(self, fault: Fault | None, **params: Any) -> None:
        """Make every request suffer ``fault`` until called again with ``None``."""
        self.state.sticky_fault = (fault, params) if fault else None

    def reset(self) -> None:
        """Forget faults, recorded requests and scripted tool calls; restore the default reply."""
        self.state.faults.clear()
        self.state.sticky_fault = None
        self.state.requests.clear()
        self.state.reply = Reply()
        self.state.tool_script.clear()

    def script_tools(self, *calls: ToolPlan) -> None:
        """The tool calls the model makes when the request lets it (replaces earlier ones)."""
        self.state.tool_script = list(calls)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far."""
        return self.state.requests

    @property
    def url(self) -> str:
        """Base URL (``http://127.0.0.1:PORT``)."""
        return f"http://{self.host}:{self.port}"

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self, port: int = 0) -> FakeServer:
        """Listen on loopback (``port`` 0 picks a free one)."""
        self._runner = web.AppRunner(self.app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- for subclasses -----------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        """Register the vendor's routes."""
        raise NotImplementedError

    def error_response(self, status: int, message: str, *, kind: str) -> web.Response:
        """The vendor's error body for ``status`` (``kind`` is a hint such as ``rate_limit``)."""
        raise NotImplementedError

    def next_fault(self) -> tuple[Fault, dict[str, Any]] | None:
        """Pop the fault this request suffers, if any."""
        if self.state.faults:
            return self.state.faults.popleft()
        return self.state.sticky_fault

    async def apply_fault(
        self, request: web.Request, fault: Fault, params: dict[str, Any]
    ) -> web.StreamResponse | None:
        """Act out a fault that is not stream-specific; returns the response to send, if any.

        ``None`` means the fault is for the stream handler to act out (``STALL_STREAM``).
        """
        if fault is Fault.DISCONNECT:
            transport = request.transport
            if transport is not None:
                transport.close()
            raise asyncio.CancelledError
        if fault is Fault.TIMEOUT:
            await asyncio.sleep(params.get("seconds", 3600))
            return self.error_response(500, "late", kind="server_error")
        if fault is Fault.RATE_LIMIT:
            response = self.error_response(429, "Rate limit reached", kind="rate_limit")
            response.headers.update(retry_headers(params))
            return response
        if fault is Fault.SERVER_ERROR:
            return self.error_response(500, "The server had an error", kind="server_error")
        if fault is Fault.OVERLOADED:
            return self.error_response(503, "Overloaded", kind="overloaded")
        if fault is Fault.AUTH:
            return self.error_response(401, "Invalid API key", kind="auth")
        if fault is Fault.BAD_REQUEST:
            return self.error_response(
                400, params.get("message", "Invalid request"), kind="bad_request"
            )
        if fault is Fault.MALFORMED:
            return web.Response(
                text='{"this is": "not the documented shape"', content_type="application/json"
            )
        return None

    # --- remote control (for the demo and for tests that run the fakes in a subprocess) -----
    def _add_control_routes(self, app: web.Application) -> None:
        """``/_fake/*``: steer the fake over HTTP (queue faults, reset, read recorded requests)."""
        app.router.add_post("/_fake/fault", self._control_fault)
        app.router.add_post("/_fake/reset", self._control_reset)
        app.router.add_post("/_fake/reply", self._control_reply)
        app.router.add_get("/_fake/requests", self._control_requests)
        app.router.add_post("/_fake/tools", self._control_tools)

    async def _control_fault(self, request: web.Request) -> web.Response:
        body = await request.json()
        fault = Fault(body["fault"]) if body.get("fault") else None
        params = dict(body.get("params", {}))
        if body.get("always"):
            self.fail_always(fault, **params)
        elif fault is not None:
            self.fail_next(fault, times=int(body.get("times", 1)), **params)
        return web.json_response({"queued": len(self.state.faults)})

    async def _control_reset(self, _request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"reset": True})

    async def _control_reply(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.state.reply = Reply(**body)
        return web.json_response({"reply": body})

    async def _control_tools(self, request: web.Request) -> web.Response:
        """``{"calls": [{"name", "arguments"?, "id"?}]}``: ``script_tools`` over HTTP."""
        body = await request.json()
        calls = [
            ToolPlan(c["name"], dict(c.get("arguments") or {}), c.get("id"))
            for c in body.get("calls", [])
        ]
        self.script_tools(*calls)
        return web.json_response({"scripted": len(calls)})

    async def _control_requests(self, _request: web.Request) -> web.Response:
        rows = [
            {
                "method": r.method,
                "path": r.path,
                "body": r.body if not isinstance(r.body, bytes) else None,
            }
            for r in self.state.requests
        ]
        return web.json_response({"requests": rows})

    @web.middleware
    async def _record_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw
        self.state.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                headers=dict(request.headers),
                query=dict(request.query),
                body=body,
            )
        )
        response: web.StreamResponse = await handler(request)
        return response
