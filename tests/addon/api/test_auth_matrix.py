"""The auth matrix: every route of the real app x every way a caller can (not) authenticate.

Routes come from ``app.router.routes()`` of the app ``build_app`` really builds, so a route
added later is in the matrix without touching this file. The documented rule: ``/health`` and
the dashboard's static shell (``/``, ``/static/{file}``) are public (200 always); everything
else answers 401 ``unauthorized`` without the right bearer token, except that a request with
the ingress headers from the trusted ingress address (the Supervisor's proxy, which has already
authenticated the Home Assistant user) reaches the routes the dashboard calls
(``INGRESS_ROUTES``) and no other.
"""

from __future__ import annotations

import base64
import io
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import hdrs, web
from aiohttp.test_utils import TestClient
from PIL import Image

from addon.api.auth import INGRESS_ROUTES, PUBLIC_PATHS
from addon.api.dashboard import ASSETS
from addon.app import DEFAULT_TRUSTED_INGRESS, build_app
from addon.settings import Secret, parse_options
from addon.startup import open_credentials
from tests.conftest import TOKEN, Fakes, provider_options
from tests.fakes.audio import voice_pcm, wav_file

PROVIDER = "openai"  # fills ``{name}`` path parameters: a configured provider with a key


def _png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _wav() -> str:
    """Base64 of a short WAV that says something (the fakes hear it)."""
    return base64.b64encode(wav_file(voice_pcm("hi"))).decode()


CHAT = {"prompt": "Hi"}
# Minimal valid bodies and the status a passing caller gets, for the routes known today.
KNOWN: dict[tuple[str, str], tuple[Any, int]] = {
    ("GET", "/health"): (None, 200),
    ("GET", "/"): (None, 200),
    ("GET", "/static/{file}"): (None, 200),
    ("GET", "/api/v1/requests"): (None, 200),
    ("GET", "/api/v1/routing"): (None, 200),
    ("POST", "/api/v1/chat"): (CHAT, 200),
    ("POST", "/api/v1/vision"): ({"prompt": "What is this?", "images": [{"data": _png()}]}, 200),
    ("POST", "/api/v1/batch"): ({"requests": [CHAT]}, 200),
    ("POST", "/api/v1/embeddings"): ({"input": "Hi"}, 200),
    ("POST", "/api/v1/images"): ({"prompt": "A lamp"}, 200),
    ("POST", "/api/v1/transcriptions"): ({"audio": _wav()}, 200),
    ("POST", "/api/v1/speech"): ({"text": "Hi"}, 200),
    ("GET", "/api/v1/providers"): (None, 200),
    ("GET", "/api/v1/models"): (None, 200),
    ("GET", "/api/v1/openapi.json"): (None, 200),
    ("GET", "/api/v1/usage"): (None, 200),
    ("GET", "/metrics"): (None, 200),
    ("POST", "/v1/chat/completions"): (
        {"model": "auto", "messages": [{"role": "user", "content": "Hi"}]},
        200,
    ),
    ("GET", "/v1/models"): (None, 200),
    ("POST", "/v1/embeddings"): ({"model": "auto", "input": "Hi"}, 200),
    ("POST", "/v1/images/generations"): ({"prompt": "A lamp"}, 200),
    ("POST", "/v1/audio/speech"): ({"model": "auto", "input": "Hi", "voice": "alloy"}, 200),
    ("PUT", "/api/v1/providers/{name}/credentials"): (
        {"api_key": "sk-matrix-fresh-key-0123456789"},
        200,
    ),
    ("DELETE", "/api/v1/providers/{name}/credentials"): (None, 200),
    ("POST", "/api/v1/providers/{name}/test"): (None, 200),
    ("POST", "/api/v1/credentials/rotate"): (None, 200),
    ("POST", "/api/v1/token/rotate"): (None, 200),
}
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Route:
    """One (method, path) of the app, with a concrete URL to call."""

    method: str
    canonical: str
    url: str

    @property
    def public(self) -> bool:
        """Documented as reachable without any credentials."""
        return self.canonical in PUBLIC_PATHS

    @property
    def for_ingress(self) -> bool:
        """One of the routes the dashboard calls, open to trusted ingress."""
        return (self.method, self.canonical) in INGRESS_ROUTES

    @property
    def openai_shaped(self) -> bool:
        """``/v1/*`` answers errors in OpenAI's shape (``code`` instead of ``key``)."""
        return self.url.startswith("/v1/")

    def body(self) -> Any:
        """A minimal valid body (``{}`` for a route added after this table was written)."""
        if (self.method, self.canonical) in KNOWN:
            return KNOWN[(self.method, self.canonical)][0]
        return {} if self.method in BODY_METHODS else None


def _concrete(resource: web.AbstractResource) -> str:
    if isinstance(resource, web.StaticResource):
        directory = Path(resource.get_info()["directory"])
        first = next((p for p in sorted(directory.rglob("*")) if p.is_file()), None)
        name = first.relative_to(directory).as_posix() if first else "index.html"
        return f"{resource.canonical.rstrip('/')}/{name}"
    return resource.canonical.replace("{name}", PROVIDER).replace("{file}", "app.js")


def app_routes() -> list[Route]:
    """Every non-HEAD route of the app ``build_app`` builds."""
    with tempfile.TemporaryDirectory() as data_dir:
        app = build_app(
            parse_options({"providers": []}), data_dir=Path(data_dir), api_token=Secret(TOKEN)
        )
        routes = [
            Route(route.method, route.resource.canonical, _concrete(route.resource))
            for route in app.router.routes()
            if route.method != hdrs.METH_HEAD and route.resource is not None
        ]
    return sorted(set(routes), key=lambda r: (r.canonical, r.method))


INGRESS = {
    "X-Ingress-Path": "/api/hassio_ingress/3hBq2kJz",
    "X-Remote-User-Id": "8f1c5f0c3a0b4c1e9d6c2b7a1e0f4d3c",
    "X-Remote-User-Name": "homeowner",
    "X-Remote-User-Display-Name": "Home Owner",
}


@dataclass(frozen=True)
class Case:
    """One way of calling: headers, the trusted ingress address, and what must happen."""

    headers: dict[str, str]
    trusted_ingress: tuple[str, ...] = DEFAULT_TRUSTED_INGRESS
    passes: bool = False
    ingress_only: bool = False
    message: str = ""
    extra: dict[str, str] = field(default_factory=dict)


CASES: dict[str, Case] = {
    "no_token": Case({}, message="Missing bearer token"),
    "wrong_token": Case({"Authorization": "Bearer wrong-token"}, message="Invalid bearer token"),
    "right_token": Case({"Authorization": f"Bearer {TOKEN}"}, passes=True),
    # The test client connects from 127.0.0.1: that is the trusted proxy here.
    "trusted_ingress": Case(
        INGRESS,
        trusted_ingress=("127.0.0.1",),
        passes=True,
        ingress_only=True,
        message="Missing bearer token",
    ),
    # Ingress headers from anywhere else grant nothing, even claiming to be forwarded.
    "untrusted_ingress": Case(
        {**INGRESS, "X-Forwarded-For": DEFAULT_TRUSTED_INGRESS[0]},
        message="Missing bearer token",
    ),
    "untrusted_ingress_wrong_token": Case(
        {**INGRESS, "Authorization": "Bearer wrong-token"}, message="Invalid bearer token"
    ),
    "trusted_address_without_ingress_header": Case(
        {}, trusted_ingress=("127.0.0.1",), message="Missing bearer token"
    ),
    "basic_scheme": Case({"Authorization": f"Basic {TOKEN}"}, message="Missing bearer token"),
    "empty_bearer": Case({"Authorization": "Bearer "}, message="Missing bearer token"),
    "token_as_query": Case({}, message="Missing bearer token", extra={"token": TOKEN}),
}
ROUTES = app_routes()


def test_the_matrix_covers_the_known_routes() -> None:
    assert len(ROUTES) >= 18
    listed = {(r.method, r.canonical) for r in ROUTES}
    assert ("GET", "/health") in listed
    assert ("PUT", "/api/v1/providers/{name}/credentials") in listed
    assert all(r.method != "HEAD" for r in ROUTES)


async def _client(
    aiohttp_client: Any, fakes: Fakes, data_dir: Path, trusted: tuple[str, ...]
) -> TestClient[Any, Any]:
    # No api_token in the options: the token is "generated", so token rotation is allowed.
    options = parse_options({"providers": provider_options(fakes), "request_timeout": 20})
    credentials = open_credentials(options, data_dir)
    app = build_app(
        credentials.settings,
        credentials=credentials,
        data_dir=data_dir,
        api_token=Secret(TOKEN),
        trusted_ingress=trusted,
        check_health_on_start=False,
    )
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


def _error_key(route: Route, payload: Any) -> Any:
    error = payload["error"]
    return error["code"] if route.openai_shaped else error["key"]


@pytest.mark.parametrize("case_name", list(CASES))
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.canonical}")
async def test_auth_matrix(
    aiohttp_client: Any, fakes: Fakes, tmp_path: Path, route: Route, case_name: str
) -> None:
    case = CASES[case_name]
    client = await _client(aiohttp_client, fakes, tmp_path, case.trusted_ingress)
    body = route.body()
    response = await client.request(
        route.method,
        route.url,
        headers=case.headers,
        params=case.extra,
        **({"json": body} if body is not None else {}),
    )
    text = (await response.read()).decode(errors="replace")  # speech answers audio
    passes = case.passes and (route.for_ingress or not case.ingress_only)
    if route.public:
        assert response.status == 200, text
    elif not passes:
        assert response.status == 401, text
        payload = await response.json()
        assert _error_key(route, payload) == "unauthorized"
        assert payload["error"]["message"].startswith(case.message)
        assert TOKEN not in text
    else:
        known = KNOWN.get((route.method, route.canonical))
        if known is not None:
            assert response.status == known[1], text
        assert response.status != 401, text
        assert response.status < 500, text


def test_ingress_reaches_exactly_what_the_dashboard_calls() -> None:
    """Every API call in the page's scripts is an ingress route, and nothing more is."""
    served = {(r.method, r.canonical) for r in ROUTES}
    assert served >= INGRESS_ROUTES
    called: set[tuple[str, str]] = set()
    for name, asset in ASSETS.items():
        if not name.endswith(".js"):
            continue
        calls = re.findall(
            r'api\(\s*[`"](api/v1/[^`"?]+)[^`"]*[`"](.*?)\)', asset.body.decode(), re.S
        )
        for path, options in calls:
            method = re.search(r'method: "(\w+)"', options)
            canonical = "/" + re.sub(r"\$\{[^}]+\}", "{name}", path)
            called.add((method.group(1) if method else "GET", canonical))
    assert called == INGRESS_ROUTES
