"""Shared ground of the routing tests that go through the real API.

A ``Hub`` is the real application (``build_app``) over the real manager (``build_manager``)
and the real SDKs, talking to the simulated vendors in ``tests/fakes``. Time is a
``FakeClock`` unless a test needs the real one (the deadline bound), and the randomness is
seeded, so every outcome below is deterministic.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import io
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from PIL import Image

from addon.api.context import HUB_CONTEXT, HubContext
from addon.app import build_app
from addon.hub import build_manager
from addon.manager import ProviderManager
from addon.models import ChatRequest, ChatResponse
from addon.settings import Secret, parse_options
from tests.addon.routing.routing_fakes import FakeClock
from tests.conftest import AUTH, TOKEN, Fakes, provider_options

VENDORS = ("openai", "anthropic", "gemini", "ollama")


class NoJitter(random.Random):
    """Seeded randomness whose backoff draw is always 0, so a retry never waits."""

    def uniform(self, a: float, b: float) -> float:
        """The lower bound: full jitter's shortest wait."""
        return min(a, b)


@dataclass(frozen=True)
class Answer:
    """One response of the hub: status, JSON body and headers."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str]

    @property
    def error(self) -> dict[str, Any]:
        """The error envelope's content (empty for a success)."""
        error: dict[str, Any] = self.body.get("error", {})
        return error

    @property
    def key(self) -> str | None:
        """The error key, or None for a success."""
        return self.error.get("key")

    @property
    def attempts(self) -> list[dict[str, Any]]:
        """The attempts of a success or of an error."""
        attempts: list[dict[str, Any]] = self.body.get("attempts", self.error.get("attempts", []))
        return attempts

    @property
    def outcomes(self) -> list[tuple[str, str]]:
        """``(provider, outcome)`` of every attempt, in order."""
        return [(a["provider"], a["outcome"]) for a in self.attempts]


@dataclass(frozen=True)
class StreamAnswer:
    """A ``stream: true`` answer: status and the Server-Sent Events (name, data)."""

    status: int
    events: list[tuple[str, dict[str, Any]]]
    body: dict[str, Any]  # the JSON error body when the hub refused before streaming

    @property
    def done(self) -> dict[str, Any] | None:
        """The final ``done`` event's response, if the stream completed."""
        return next((data for name, data in self.events if name == "done"), None)

    @property
    def error_key(self) -> str | None:
        """The key of an ``error`` event or of the JSON error, if any."""
        for name, data in self.events:
            if name == "error":
                key: str = data["error"]["key"]
                return key
        error: dict[str, Any] = self.body.get("error", {})
        return error.get("key")

    @property
    def text(self) -> str:
        """The text of every ``delta`` event, joined."""
        return "".join(data["text"] for name, data in self.events if name == "delta")


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """``event:``/``data:`` blocks as (name, decoded data)."""
    events: list[tuple[str, dict[str, Any]]] = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append((fields["event"], json.loads(fields.get("data", "{}"))))
    return events


def jpeg_b64(size: tuple[int, int] = (64, 48)) -> str:
    """A small real JPEG, base64 encoded, for vision requests."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, "JPEG")
    return base64.b64encode(buffer.getvalue()).decode()


class Hub:
    """The running hub under test plus the fakes behind it."""

    def __init__(self, client: TestClient[Any, Any], fakes: Fakes, clock: FakeClock | None) -> None:
        self.client = client
        self.fakes = fakes
        self._clock = clock

    @property
    def clock(self) -> FakeClock:
        """The injected clock (only for hubs built with one)."""
        assert self._clock is not None, "this hub runs on the real clock"
        return self._clock

    @property
    def context(self) -> HubContext:
        """The application's context."""
        app: web.Application = self.client.app
        return app[HUB_CONTEXT]

    @property
    def manager(self) -> ProviderManager:
        """The manager serving the requests."""
        return self.context.manager

    def calls(self, vendor: str) -> int:
        """Generation requests the ``vendor`` fake received (health and model listings aside)."""
        paths = ("/chat/completions", "/v1/messages", "generatecontent", "/api/chat")
        return sum(
            1 for r in self.fakes.all[vendor].requests if any(p in r.path.lower() for p in paths)
        )

    async def post(self, path: str, body: Mapping[str, Any]) -> Answer:
        """``POST path`` with the token; the JSON answer."""
        response = await self.client.post(path, json=dict(body), headers=AUTH)
        payload: dict[str, Any] = await response.json()
        return Answer(response.status, payload, dict(response.headers))

    async def chat(self, prompt: str = "Hi", **body: Any) -> Answer:
        """``POST /api/v1/chat``."""
        return await self.post("/api/v1/chat", {"prompt": prompt, **body})

    async def vision(self, prompt: str = "What is this?", **body: Any) -> Answer:
        """``POST /api/v1/vision`` with one small JPEG."""
        return await self.post(
            "/api/v1/vision", {"prompt": prompt, "images": [{"data": jpeg_b64()}], **body}
        )

    async def stream(self, prompt: str = "Hi", **body: Any) -> StreamAnswer:
        """``POST /api/v1/chat`` with ``stream: true``, read to the end."""
        response = await self.client.post(
            "/api/v1/chat", json={"prompt": prompt, "stream": True, **body}, headers=AUTH
        )
        text = await response.text()
        if response.content_type == "text/event-stream":
            return StreamAnswer(response.status, parse_sse(text), {})
        return StreamAnswer(response.status, [], json.loads(text))

    async def burst(self, count: int, **body: Any) -> list[Answer]:
        """``count`` chat requests at once."""
        return list(await asyncio.gather(*(self.chat(**body) for _ in range(count))))

    async def usage(self) -> dict[str, Any]:
        """``GET /api/v1/usage``."""
        response = await self.client.get("/api/v1/usage", headers=AUTH)
        payload: dict[str, Any] = await response.json()
        assert response.status == 200, payload
        return payload

    async def timed_chat(self, **body: Any) -> tuple[Answer | StreamAnswer, float]:
        """A chat (streamed with ``stream=True``) and how long it took on the real clock."""
        started = time.monotonic()
        if body.pop("stream", False):
            answer: Answer | StreamAnswer = await self.stream(**body)
        else:
            answer = await self.chat(**body)
        return answer, time.monotonic() - started


def spy_on_calls(
    manager: ProviderManager,
    names: str | Sequence[str],
    before: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Count calls to the providers ``names`` together (``max_in_flight`` too).

    ``before(name)`` runs at the start of each call (e.g. to move a ``FakeClock``).
    """
    counts = {"calls": 0, "in_flight": 0, "max_in_flight": 0}
    for name in [names] if isinstance(names, str) else names:
        _wrap(manager, name, counts, before)
    return counts


def _wrap(
    manager: ProviderManager,
    name: str,
    counts: dict[str, int],
    before: Callable[[str], None] | None,
) -> None:
    provider = manager.providers[name]
    real = provider.chat

    async def chat(request: ChatRequest, *, timeout: float) -> ChatResponse:
        counts["calls"] += 1
        counts["in_flight"] += 1
        counts["max_in_flight"] = max(counts["max_in_flight"], counts["in_flight"])
        try:
            if before is not None:
                before(name)
            return await real(request, timeout=timeout)
        finally:
            counts["in_flight"] -= 1

    provider.chat = chat  # type: ignore[method-assign]


def hub_options(
    fakes: Fakes,
    *,
    only: Sequence[str] = VENDORS,
    providers: Mapping[str, Mapping[str, Any]] | None = None,
    **top: Any,
) -> dict[str, Any]:
    """Options over the conftest providers: ``only`` those, each updated from ``providers``."""
    entries = [copy.deepcopy(p) for p in provider_options(fakes) if p["name"] in only]
    for entry in entries:
        entry.update((providers or {}).get(entry["name"], {}))
    options: dict[str, Any] = {
        "providers": entries,
        "api_token": TOKEN,
        "request_timeout": 20,
        "strategy": "priority",
        "queue_timeout": 0,
    }
    options.update(top)
    return options


HubFactory = Callable[..., Awaitable[Hub]]


def hub_factory(fakes: Fakes, aiohttp_client: Any, tmp_path: Path) -> HubFactory:
    """Build hubs over ``fakes``: ``real_clock`` or a ``FakeClock``; keywords are options."""

    async def factory(
        *,
        real_clock: bool = False,
        only: Sequence[str] = VENDORS,
        providers: Mapping[str, Mapping[str, Any]] | None = None,
        seed: int = 7,
        **top: Any,
    ) -> Hub:
        settings = parse_options(hub_options(fakes, only=only, providers=providers, **top))
        clock = None if real_clock else FakeClock()
        manager = build_manager(
            settings,
            data_dir=tmp_path,
            clock=clock or time.monotonic,
            rng=NoJitter(seed),
        )
        app = build_app(
            settings,
            data_dir=tmp_path,
            api_token=Secret(TOKEN),
            manager=manager,
            check_health_on_start=False,
        )
        client: TestClient[Any, Any] = await aiohttp_client(app)
        return Hub(client, fakes, clock)

    return factory
