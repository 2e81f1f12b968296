"""The Supervisor client against a loopback fake Supervisor speaking the documented API."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from addon import redact
from addon.supervisor import SupervisorClient, SupervisorError

TOKEN = "supervisor-canary-token-0123456789abcdef"
API_TOKEN = "hub-api-canary-token-abcdef0123456789"
OPENAI_KEY = "sk-proj-SupervisorCanaryKey0123456789abcdef"
GEMINI_KEY = "AIzaSySupervisorCanaryGemini0123456789ab"

OPTIONS: dict[str, Any] = {
    "providers": [
        {"name": "openai", "type": "openai", "api_key": OPENAI_KEY, "priority": 10},
        {"name": "local", "type": "ollama", "base_url": "http://nas:11434", "api_key": ""},
        {"name": "gemini", "type": "gemini", "api_key": GEMINI_KEY, "enabled": False},
    ],
    "api_token": "",
    "request_timeout": 120,
    "log_level": "info",
}


@dataclass
class Recorded:
    method: str
    path: str
    authorization: str | None
    body: Any


@dataclass
class FakeSupervisor:
    """The Supervisor's envelope, auth middleware and the three endpoints the add-on uses."""

    requests: list[Recorded] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(OPTIONS))
    discoveries: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_reply: web.Response | None = None
    hang: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/discovery", self._discovery)
        app.router.add_get("/addons/self/info", self._info)
        app.router.add_post("/addons/self/options", self._options)
        return app

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        auth = request.headers.get("Authorization")
        self.requests.append(Recorded(request.method, request.path, auth, body))
        if auth != f"Bearer {TOKEN}":
            raise web.HTTPUnauthorized  # the Supervisor's security middleware: bare 401
        if self.hang:
            await self.release.wait()
        if self.next_reply is not None:
            reply, self.next_reply = self.next_reply, None
            return reply
        return await handler(request)

    @staticmethod
    def ok(data: Any) -> web.Response:
        return web.json_response({"result": "ok", "data": data})

    @staticmethod
    def error(status: int, message: str) -> web.Response:
        return web.json_response({"result": "error", "message": message}, status=status)

    async def _discovery(self, request: web.Request) -> web.Response:
        body = await request.json()
        if set(body) != {"service", "config"} or not isinstance(body["config"], dict):
            return self.error(400, "does not match the discovery schema")
        new_uuid = uuid.uuid4().hex
        self.discoveries[new_uuid] = body
        return self.ok({"uuid": new_uuid})

    async def _info(self, _request: web.Request) -> web.Response:
        return self.ok(
            {
                "name": "AI Provider Hub",
                "slug": "local_ai_provider_hub",
                "hostname": "local-ai-provider-hub",
                "ip_address": "172.30.33.7",
                "ingress_port": 8099,
                "options": self.options,
                "state": "started",
            }
        )

    async def _options(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not isinstance(body.get("options"), dict):
            return self.error(400, "expected a dictionary for dictionary value @ data['options']")
        self.options = body["options"]
        return self.ok({})


@pytest.fixture
async def supervisor() -> AsyncIterator[tuple[FakeSupervisor, str]]:
    fake = FakeSupervisor()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    fake.release.set()  # let a hung handler finish so the server closes promptly
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(
    supervisor: tuple[FakeSupervisor, str], session: aiohttp.ClientSession
) -> SupervisorClient:
    return SupervisorClient(session, TOKEN, base_url=supervisor[1], timeout=5)


async def test_announce_discovery_posts_the_service_and_returns_the_uuid(
    supervisor: tuple[FakeSupervisor, str], client: SupervisorClient
) -> None:
    fake, _ = supervisor
    found = await client.announce_discovery("local-ai-provider-hub", 8099, API_TOKEN)
    (request,) = fake.requests
    assert (request.method, request.path) == ("POST", "/discovery")
    assert request.authorization == f"Bearer {TOKEN}"
    assert request.body == {
        "service": "ai_provider_hub",
        "config": {"host": "local-ai-provider-hub", "port": 8099, "api_token": API_TOKEN},
    }
    assert found is not None
    assert found in fake.discoveries


async def test_addon_info_returns_the_data_part(
    supervisor: tuple[FakeSupervisor, str], client: SupervisorClient
) -> None:
    info = await client.addon_info()
    assert info["hostname"] == "local-ai-provider-hub"
    assert info["ip_address"] == "172.30.33.7"
    assert "result" not in info
    assert supervisor[0].requests[0].path == "/addons/self/info"


async def test_update_options_sends_the_options_envelope(
    supervisor: tuple[FakeSupervisor, str], client: SupervisorClient
) -> None:
    fake, _ = supervisor
    await client.update_options({"providers": [], "log_level": "debug"})
    assert fake.requests[0].body == {"options": {"providers": [], "log_level": "debug"}}
    assert fake.options == {"providers": [], "log_level": "debug"}


async def test_blank_option_keys_writes_back_everything_but_the_keys(
    supervisor: tuple[FakeSupervisor, str],
    client: SupervisorClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake, _ = supervisor
    original = copy.deepcopy(OPTIONS)
    caplog.set_level(logging.DEBUG)
    assert await client.blank_option_keys(OPTIONS) == ["openai", "gemini"]
    assert original == OPTIONS  # the caller's mapping is not modified
    expected = copy.deepcopy(OPTIONS)
    for provider in expected["providers"]:
        provider["api_key"] = ""
    assert fake.options == expected
    assert "openai, gemini" in caplog.text
    for secret in (OPENAI_KEY, GEMINI_KEY, TOKEN):
        assert secret not in caplog.text
        assert secret not in json.dumps([r.__dict__ for r in fake.requests[1:]])


async def test_blank_option_keys_without_keys_makes_no_call(
    supervisor: tuple[FakeSupervisor, str], client: SupervisorClient
) -> None:
    fake, _ = supervisor
    options = {"providers": [{"name": "local", "type": "ollama", "api_key": ""}]}
    assert await client.blank_option_keys(options) == []
    assert await client.blank_option_keys({}) == []
    assert fake.requests == []


def _reply(status: int, body: str, content_type: str = "application/json") -> web.Response:
    return web.Response(status=status, text=body, content_type=content_type)


ERRORS = [
    (
        "options rejected",
        _reply(400, json.dumps({"result": "error", "message": "Invalid option 'x'"})),
        "(400): Invalid option 'x'",
    ),
    ("server error text", _reply(500, "500 Internal Server Error", "text/plain"), "(500)"),
    ("bad gateway html", _reply(502, "<html>bad gateway</html>", "text/html"), "(502)"),
    (
        "error envelope with 200",
        _reply(200, json.dumps({"result": "error", "message": "busy"})),
        "(200): busy",
    ),
    ("not json", _reply(200, "ok", "text/plain"), "(200)"),
    ("no envelope", _reply(200, json.dumps([1, 2])), "(200)"),
]


@pytest.mark.parametrize(("reply", "expected"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
async def test_error_answers_raise_supervisor_error(
    supervisor: tuple[FakeSupervisor, str],
    client: SupervisorClient,
    reply: web.Response,
    expected: str,
) -> None:
    supervisor[0].next_reply = reply
    with pytest.raises(SupervisorError) as caught:
        await client.addon_info()
    assert expected in caught.value.message
    assert caught.value.key == "supervisor_error"


async def test_wrong_token_is_refused(
    supervisor: tuple[FakeSupervisor, str], session: aiohttp.ClientSession
) -> None:
    wrong = SupervisorClient(session, "not-the-token-000000", base_url=supervisor[1])
    with pytest.raises(SupervisorError, match=r"\(401\)") as caught:
        await wrong.update_options({})
    assert caught.value.details == {"supervisor_status": 401}
    assert "not-the-token-000000" not in str(caught.value)


async def test_an_echoed_key_in_an_error_message_is_redacted(
    supervisor: tuple[FakeSupervisor, str], client: SupervisorClient
) -> None:
    message = f"expected int for dictionary value @ data['providers'][0]. Got '{OPENAI_KEY}'"
    supervisor[0].next_reply = FakeSupervisor.error(400, message)
    with pytest.raises(SupervisorError) as caught:
        await client.blank_option_keys(OPTIONS)
    assert OPENAI_KEY not in caught.value.message
    assert "sk-…cdef" in caught.value.message


async def test_a_hung_supervisor_hits_the_deadline(
    supervisor: tuple[FakeSupervisor, str], session: aiohttp.ClientSession
) -> None:
    fake, url = supervisor
    fake.hang = True
    quick = SupervisorClient(session, TOKEN, base_url=url, timeout=0.2)
    with pytest.raises(SupervisorError, match=r"did not answer POST /discovery within 0\.2 s"):
        await quick.announce_discovery("hub", 8099, API_TOKEN)
    assert len(fake.requests) == 1


async def test_an_unreachable_supervisor_raises_supervisor_error(
    session: aiohttp.ClientSession,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = SupervisorClient(session, TOKEN, base_url=f"http://127.0.0.1:{port}", timeout=5)
    with pytest.raises(SupervisorError, match="Cannot reach the Supervisor for GET"):
        await client.addon_info()


async def test_the_token_is_registered_for_log_redaction(session: aiohttp.ClientSession) -> None:
    SupervisorClient(session, "registered-supervisor-token-42")
    assert "registered-supervisor-token-42" not in redact.redact(
        "token registered-supervisor-token-42 in a line"
    )
