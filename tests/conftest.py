"""Fixtures shared by the add-on tests: simulated providers and the real hub application."""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpcore2
import pytest
from aiohttp.test_utils import TestClient

from addon.app import build_app
from addon.settings import Secret, parse_options
from addon.startup import open_credentials
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.base import FakeServer
from tests.fakes.gemini import FakeGemini
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI

TOKEN = "test-token-0123456789"


@pytest.fixture(scope="session", autouse=True)
def _tls_contexts_built_once() -> Iterator[None]:
    """Build each kind of TLS context once per test process instead of once per SDK client.

    Every SDK client loads the CA bundle into a new ``SSLContext`` (~0.1 s of CPU: half of what
    a hub test that builds four providers costs), yet every test speaks plain HTTP to loopback
    fakes and never shakes hands. Production code is untouched: the hub builds its providers once.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ssl, "create_default_context", functools.cache(ssl.create_default_context))
        patch.setattr(
            httpcore2, "default_ssl_context", functools.cache(httpcore2.default_ssl_context)
        )
        yield


class Fakes:
    """The four simulated vendors, started on loopback."""

    def __init__(self) -> None:
        self.openai = FakeOpenAI()
        self.anthropic = FakeAnthropic()
        self.gemini = FakeGemini()
        self.ollama = FakeOllama()

    @property
    def all(self) -> dict[str, FakeServer]:
        """Vendor name -> fake."""
        return {
            "openai": self.openai,
            "anthropic": self.anthropic,
            "gemini": self.gemini,
            "ollama": self.ollama,
        }


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    """All four simulated vendors, listening."""
    servers = Fakes()
    for fake in servers.all.values():
        await fake.start()
    yield servers
    for fake in servers.all.values():
        await fake.stop()


def provider_options(fakes: Fakes) -> list[dict[str, Any]]:
    """One provider per vendor, priorities in the order openai, anthropic, gemini, ollama."""
    return [
        {
            "name": "openai",
            "type": "openai",
            "api_key": "sk-test-openai-key-123456",
            "base_url": f"{fakes.openai.url}/v1",
            "model": "gpt-4.1-mini",
            "priority": 10,
            "timeout": 5,
        },
        {
            "name": "anthropic",
            "type": "anthropic",
            "api_key": "sk-ant-test-key-123456",
            "base_url": fakes.anthropic.url,
            "model": "claude-haiku-4-5",
            "priority": 20,
            "timeout": 5,
        },
        {
            "name": "gemini",
            "type": "gemini",
            "api_key": "gemini-test-key-123456",
            "base_url": fakes.gemini.url,
            "model": "gemini-2.5-flash",
            "priority": 30,
            "timeout": 5,
        },
        {
            "name": "ollama",
            "type": "ollama",
            "base_url": fakes.ollama.url,
            "model": "gemma3:4b",
            "priority": 40,
            "timeout": 5,
        },
    ]


HubClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def hub_client(fakes: Fakes, aiohttp_client: Any, tmp_path: Path) -> HubClientFactory:
    """Build the real hub app over the fakes; keyword arguments override options."""

    async def factory(
        max_body_bytes: int = 48 * 1024 * 1024, **overrides: Any
    ) -> TestClient[Any, Any]:
        options: dict[str, Any] = {
            "providers": provider_options(fakes),
            "api_token": TOKEN,
            "request_timeout": 20,
            # Failover tests assert the order; adaptive has its own tests.
            "strategy": "priority",
        }
        options.update(overrides)
        credentials = open_credentials(parse_options(options), tmp_path)
        settings = credentials.settings
        app = build_app(
            settings,
            credentials=credentials,
            data_dir=tmp_path,
            api_token=Secret(TOKEN),
            check_health_on_start=False,
            max_body_bytes=max_body_bytes,
            door_host="127.0.0.1",  # the Ollama door, when a test enables it: loopback only
        )
        client: TestClient[Any, Any] = await aiohttp_client(app)
        return client

    return factory


AUTH = {"Authorization": f"Bearer {TOKEN}"}
