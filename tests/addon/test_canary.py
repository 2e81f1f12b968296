"""The canary test: run the whole hub with canary keys and a canary token, find them nowhere.

Every provider gets a distinctive key and each fake insists on it, so the flows really carry
the keys upstream. All log records (root at DEBUG, SDK loggers included, through the same
redacting filter production installs), every response body and header, every file in the data
dir (credential store, key file, SQLite ledger), the metrics exposition and ``repr()`` of the
settings and providers are then searched for the canaries. A leak is reported with where it
was found.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient
from PIL import Image

from addon import redact
from addon.api.context import HUB_CONTEXT, HubContext
from addon.app import build_app
from addon.credentials import rotate_key_command
from addon.settings import parse_options
from addon.startup import open_credentials, resolve_api_token
from tests.conftest import Fakes, provider_options
from tests.fakes.base import FakeServer, Fault

KEYS = {
    "openai": "sk-CANARY-openai-7f3a9c2e5d1b4a6f8e0c",
    "anthropic": "sk-ant-CANARY-anthropic-2b8d4f6a1c3e5f7a9b",
    "gemini": "AIzaCANARY-gemini-9e8d7c6b5a4f3e2d1c0bA",
    "ollama": "ollama-CANARY-bearer-5c4b3a2f1e0d9c8b7a",  # not key-shaped on purpose
}
TOKEN = "hub-CANARY-token-3e4f5a6b7c8d9e0f1a2b3c"
PUT_KEY = "sk-CANARY-put-openai-1a2b3c4d5e6f7a8b9c"
CANDIDATES = {
    "openai": "sk-CANARY-candidate-openai-0f9e8d7c6b5a",
    "ollama": "ollama-CANARY-candidate-4d3c2b1a0f9e8d",
}
CANARIES = [*KEYS.values(), TOKEN, PUT_KEY, *CANDIDATES.values()]
WRONG_KEY = "not-the-key-the-fake-wants-000000"
PROVIDERS = list(KEYS)
SDK_LOGGERS = (
    "openai",
    "anthropic",
    "google_genai",
    "httpx",
    "httpcore",
    "httpx2",
    "httpcore2",
    "ollama",
    "aiohttp",
    "asyncio",
)


def needles(canary: str) -> list[str]:
    """The plaintext forms to look for: the whole value and its middle.

    The middle catches a partial leak (a key with a few characters cut off) while the masked
    form (``sk-…abcd``: first three, last four) does not contain it.
    """
    return [canary, canary[4:-5]]


def leaks(text: str) -> list[str]:
    """The canaries that ``text`` contains in plaintext."""
    return [c for c in CANARIES if any(n in text for n in needles(c))]


@dataclass
class Exchange:
    """One request to the hub and what came back."""

    label: str
    status: int
    headers: str
    body: str


@dataclass
class Evidence:
    """Everything the flows produced, by location."""

    exchanges: list[Exchange] = field(default_factory=list)
    log_lines: list[tuple[str, str]] = field(default_factory=list)  # (logger, text)
    raw_hits: list[str] = field(default_factory=list)  # loggers that logged a canary raw
    files: dict[str, bytes] = field(default_factory=dict)
    metrics: list[str] = field(default_factory=list)
    reprs: dict[str, str] = field(default_factory=dict)

    def findings(self) -> list[str]:
        """Every place a canary shows in plaintext."""
        found: list[str] = []
        for x in self.exchanges:
            found += [f"response body of {x.label}: {c}" for c in leaks(x.body)]
            found += [f"response headers of {x.label}: {c}" for c in leaks(x.headers)]
        for name, text in self.log_lines:
            found += [f"log record from {name}: {c}" for c in leaks(text)]
        for name, data in self.files.items():
            text = data.decode("latin-1")
            found += [f"file {name}: {c}" for c in leaks(text)]
        for text in self.metrics:
            found += [f"metrics exposition: {c}" for c in leaks(text)]
        for name, text in self.reprs.items():
            found += [f"repr of {name}: {c}" for c in leaks(text)]
        return found

    def locations(self) -> dict[str, int]:
        """How many places of each kind were searched."""
        return {
            "log records": len(self.log_lines),
            "response bodies": len(self.exchanges),
            "response header sets": len(self.exchanges),
            "data-dir files": len(self.files),
            "metrics expositions": len(self.metrics),
            "reprs": len(self.reprs),
        }


class Capture(logging.Handler):
    """Keeps every record as it would be written: message, args, traceback, extras."""

    def __init__(self, sink: list[tuple[str, str]]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        """Record the formatted line plus the record's raw parts."""
        parts = [self.format(record), str(record.msg), repr(record.args)]
        parts += [repr(v) for k, v in vars(record).items() if k not in _STANDARD]
        self.sink.append((record.name, "\n".join(parts)))


class RawProbe(logging.Handler):
    """Sees records before the redacting filter: which loggers would have leaked without it."""

    def __init__(self, hits: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.hits = hits

    def emit(self, record: logging.LogRecord) -> None:
        """Note the logger when the unfiltered record holds a canary."""
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            text = f"{record.msg} {record.args}"
        if leaks(text):
            self.hits.append(record.name)


_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


@pytest.fixture
def evidence() -> Iterator[Evidence]:
    """Capture every log record in the process at DEBUG, the way production filters it."""
    found = Evidence()
    root = logging.getLogger()
    probe, capture = RawProbe(found.raw_hits), Capture(found.log_lines)
    # Production (``configure_logging``) puts the redacting filter on the root handler.
    capture.addFilter(redact.default_filter())
    levels = {name: logging.getLogger(name).level for name in ("", *SDK_LOGGERS)}
    root.addHandler(probe)  # before ``capture``: it must see records unredacted
    root.addHandler(capture)
    for name in ("", *SDK_LOGGERS):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield found
    finally:
        root.removeHandler(capture)
        root.removeHandler(probe)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def png() -> bytes:
    """A small real image."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (220, 180, 20)).save(buffer, "PNG")
    return buffer.getvalue()


class Flows:
    """Drives the hub's API and records every exchange."""

    def __init__(self, client: TestClient[Any, Any], fakes: Fakes, evidence: Evidence) -> None:
        self.client = client
        self.fakes = fakes
        self.evidence = evidence
        self.auth = {"Authorization": f"Bearer {TOKEN}"}

    @property
    def context(self) -> HubContext:
        """The running hub's context."""
        app: web.Application = self.client.app
        return app[HUB_CONTEXT]

    def has_route(self, method: str, path: str) -> bool:
        """Whether the app serves ``method path`` (routes still being added elsewhere)."""
        return any(
            r.method == method and r.resource is not None and r.resource.canonical == path
            for r in self.client.app.router.routes()
        )

    async def call(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Exchange:
        """One request (streams read to the end), recorded."""
        response = await self.client.request(
            method, path, headers=self.auth if headers is None else headers, **kwargs
        )
        body = (await response.read()).decode("utf-8", "replace")
        exchange = Exchange(
            label=f"{method} {path}",
            status=response.status,
            headers="\n".join(f"{k}: {v}" for k, v in response.headers.items()),
            body=body,
        )
        self.evidence.exchanges.append(exchange)
        return exchange

    async def chat(self, provider: str | None = None, *, stream: bool = False) -> Exchange:
        """``POST /api/v1/chat``, optionally pinned to ``provider``."""
        body: dict[str, Any] = {"prompt": "What is the weather like?", "stream": stream}
        if provider is not None:
            body["provider"] = provider
        return await self.call("POST", "/api/v1/chat", json=body)

    async def completions(self, provider: str, *, stream: bool = False) -> Exchange:
        """``POST /v1/chat/completions`` pinned to ``provider``."""
        body = {
            "model": provider,
            "messages": [{"role": "user", "content": "Hello"}],
            "stream": stream,
        }
        return await self.call("POST", "/v1/chat/completions", json=body)

    def fake(self, provider: str) -> FakeServer:
        """The fake behind ``provider``."""
        return self.fakes.all[provider]


async def happy_paths(flows: Flows) -> None:
    """Chat, streams, vision (JSON and multipart), batch, listings, health, OpenAI door."""
    image = base64.b64encode(png()).decode()
    for provider in PROVIDERS:
        assert (await flows.chat(provider)).status == 200, provider
        assert (await flows.chat(provider, stream=True)).status == 200, provider
        await flows.call(
            "POST",
            "/api/v1/vision",
            json={"prompt": "What is this?", "provider": provider, "images": [{"data": image}]},
        )
        await flows.completions(provider)
        await flows.completions(provider, stream=True)
    form = FormData()
    form.add_field("prompt", "Who is at the door?")
    form.add_field("image", png(), filename="door.png", content_type="image/png")
    await flows.call("POST", "/api/v1/vision", data=form)
    batch = {"requests": [{"prompt": "one"}, {"prompt": "two", "provider": "anthropic"}]}
    assert (await flows.call("POST", "/api/v1/batch", json=batch)).status == 200
    for path in ("/health", "/api/v1/providers", "/api/v1/models", "/api/v1/openapi.json"):
        await flows.call("GET", path)
    await flows.call("GET", "/v1/models")
    await flows.context.manager.check_health()
    for instance in flows.context.manager.providers.values():
        await instance.health(timeout=5)
        await instance.list_models(timeout=5)


async def credential_flows(flows: Flows) -> None:
    """Every credential endpoint, with a new canary key that then carries real traffic."""
    put = await flows.call("PUT", "/api/v1/providers/openai/credentials", json={"api_key": PUT_KEY})
    assert put.status == 200, put.body
    flows.fakes.openai.state.api_key = PUT_KEY
    assert (await flows.chat("openai")).status == 200
    assert (await flows.call("POST", "/api/v1/providers/openai/test")).status == 200
    for provider, candidate in CANDIDATES.items():
        await flows.call("POST", f"/api/v1/providers/{provider}/test", json={"api_key": candidate})
    assert (await flows.call("POST", "/api/v1/credentials/rotate")).status == 200
    assert (await flows.call("DELETE", "/api/v1/providers/openai/credentials")).status == 200
    flows.fakes.openai.state.api_key = KEYS["openai"]
    assert (await flows.chat("openai")).status == 200
    await flows.call("POST", "/api/v1/token/rotate")  # refused: the token is in the options
    for provider in PROVIDERS:
        await flows.call("POST", f"/api/v1/providers/{provider}/test")


async def failure_flows(flows: Flows) -> None:
    """Every fault on every provider, wrong keys, everything down, and refused callers."""
    for provider in PROVIDERS:
        fake = flows.fake(provider)
        for fault in Fault:
            if fault is not Fault.STALL_STREAM:
                fake.fail_next(fault)
                await flows.chat(provider)
            fake.fail_next(fault)
            await flows.chat(provider, stream=True)
        fake.state.faults.clear()  # not ``reset()``: the recorded requests are evidence
    for provider in PROVIDERS:  # the hub sends its (canary) key; the fake wants another one
        fake = flows.fake(provider)
        fake.state.api_key = WRONG_KEY
        await flows.chat(provider)
        await flows.chat(provider, stream=True)
        await flows.completions(provider)
        await flows.call("POST", f"/api/v1/providers/{provider}/test")
    await flows.context.manager.check_health()
    for provider in PROVIDERS:
        flows.fake(provider).state.api_key = KEYS[provider]
    for fake in flows.fakes.all.values():
        fake.fail_always(Fault.SERVER_ERROR)
    assert (await flows.chat()).status == 502
    await flows.chat(stream=True)
    await flows.call("POST", "/api/v1/batch", json={"requests": [{"prompt": "x"}]})
    await flows.completions("auto")
    await flows.context.manager.check_health()
    for fake in flows.fakes.all.values():
        fake.fail_always(None)
    await refused_callers(flows)


async def refused_callers(flows: Flows) -> None:
    """Near-miss tokens and bad bodies must not be echoed back."""
    for headers in (
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"X-Ingress-Path": "/x", "Authorization": f"Token {TOKEN}"},
    ):
        assert (await flows.call("GET", "/api/v1/providers", headers=headers)).status == 401
    await flows.call("POST", "/api/v1/chat", data=f'{{"prompt": "{TOKEN}"')
    await flows.call(
        "PUT", "/api/v1/providers/nope/credentials", json={"api_key": CANDIDATES["openai"]}
    )
    await flows.call("PUT", "/api/v1/providers/openai/credentials", json={"key": PUT_KEY})


async def observability(flows: Flows) -> None:
    """``/metrics``, ``/api/v1/usage`` (when routed) and the metrics object itself."""
    for path in ("/metrics", "/api/v1/usage"):
        if flows.has_route("GET", path):
            exchange = await flows.call("GET", path)
            assert exchange.status == 200, exchange.body
            if path == "/metrics":
                flows.evidence.metrics.append(exchange.body)
    metrics = getattr(getattr(flows.context.manager, "guards", None), "metrics", None)
    if metrics is not None:
        body, _ = metrics.render()
        flows.evidence.metrics.append(body.decode())


def collect_reprs(flows: Flows, evidence: Evidence) -> None:
    """``repr``/``str`` of the settings, credentials, context and each provider."""
    context = flows.context
    evidence.reprs["settings"] = repr(context.settings)
    evidence.reprs["context"] = repr(context)
    evidence.reprs["credentials"] = repr(context.credentials)
    for name, provider in context.manager.providers.items():
        evidence.reprs[f"provider {name}"] = repr(provider) + str(provider)
        evidence.reprs[f"provider settings {name}"] = repr(provider.settings)
        evidence.reprs[f"provider attributes {name}"] = repr(vars(provider))
    for settings in context.settings.providers:
        evidence.reprs[f"options provider {settings.name}"] = repr(settings) + str(settings)


def assert_keys_went_upstream(fakes: Fakes) -> None:
    """The canaries really reached the vendors: the test is not vacuous."""

    def sent(fake: FakeServer, header: str, value: str) -> bool:
        return any(
            {k.lower(): v for k, v in r.headers.items()}.get(header.lower()) == value
            for r in fake.requests
        )

    assert sent(fakes.openai, "Authorization", f"Bearer {KEYS['openai']}")
    assert sent(fakes.openai, "Authorization", f"Bearer {PUT_KEY}")
    assert sent(fakes.openai, "Authorization", f"Bearer {CANDIDATES['openai']}")
    # Anthropic's SDK sends ``x-api-key`` or, in newer versions, a bearer token.
    assert sent(fakes.anthropic, "x-api-key", KEYS["anthropic"]) or sent(
        fakes.anthropic, "Authorization", f"Bearer {KEYS['anthropic']}"
    )
    assert sent(fakes.gemini, "x-goog-api-key", KEYS["gemini"])
    assert sent(fakes.ollama, "Authorization", f"Bearer {KEYS['ollama']}")
    assert sent(fakes.ollama, "Authorization", f"Bearer {CANDIDATES['ollama']}")


def canary_options(fakes: Fakes) -> dict[str, Any]:
    """The conftest providers with canary keys (Ollama behind a bearer-key proxy)."""
    providers = provider_options(fakes)
    for entry in providers:
        entry["api_key"] = KEYS[entry["name"]]
        entry["timeout"] = 1  # TIMEOUT and STALL_STREAM faults cost one second each
    return {"providers": providers, "api_token": TOKEN, "request_timeout": 10}


@pytest.mark.timeout(300)  # every flow of the hub at DEBUG
async def test_no_canary_escapes(
    aiohttp_client: Any, fakes: Fakes, tmp_path: Path, evidence: Evidence
) -> None:
    for name, fake in fakes.all.items():
        fake.state.api_key = KEYS[name]
    data_dir = tmp_path / "data"
    settings = parse_options(canary_options(fakes))
    credentials = open_credentials(settings, data_dir)
    token = resolve_api_token(settings, data_dir, {})
    app = build_app(
        credentials.settings,
        data_dir=data_dir,
        api_token=token,
        credentials=credentials,
        check_health_on_start=False,
    )
    client: TestClient[Any, Any] = await aiohttp_client(app)
    flows = Flows(client, fakes, evidence)
    await happy_paths(flows)
    await credential_flows(flows)
    await failure_flows(flows)
    await observability(flows)
    collect_reprs(flows, evidence)
    await client.close()  # the ledger flushes and closes
    rotate_key_command(data_dir)

    assert_keys_went_upstream(fakes)
    logging.getLogger("tests.canary").debug("probe: %s", KEYS["ollama"])
    assert evidence.log_lines[-1][0] == "tests.canary"  # the capture is live
    evidence.files = {
        str(p.relative_to(data_dir)): p.read_bytes() for p in data_dir.rglob("*") if p.is_file()
    }
    assert "credentials.enc" in evidence.files
    assert evidence.metrics, "no metrics exposition to search"
    findings = evidence.findings()
    assert not findings, "\n".join(sorted(set(findings)))
    counts = evidence.locations()
    logging.getLogger(__name__).warning(
        "canary: %d locations searched %s; files %s; loggers the filter had to fix: %s",
        sum(counts.values()),
        counts,
        sorted(evidence.files),
        sorted(set(evidence.raw_hits) - {"tests.canary"}),
    )
    assert counts["log records"] > 100
    assert counts["response bodies"] > 100
