"""Health probes without the vendor SDK: one GET of the vendor's documented model list.

A provider whose SDK is not loaded yet (``lazy``) answers its health check with a plain HTTP
request, so the monitor's first round does not import every configured SDK (up to a second of
CPU and tens of MiB each). One table says, per provider type, where the list lives (joined to
the base URL as each SDK joins it), which headers carry the key and which JSON field holds the
list; the outcome is mapped to the same error keys as that provider's ``map_error``. All probes
share the one ``aiohttp`` session of a ``Prober``, which its owner closes on shutdown.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import aiohttp

from addon.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from addon.models import HealthStatus
from addon.providers.core import without_key
from addon.settings import DEFAULT_OLLAMA_HOST

if TYPE_CHECKING:
    from addon.settings import ProviderSettings

OPENAI_BASE_URL: Final = "https://api.openai.com/v1"
ANTHROPIC_BASE_URL: Final = "https://api.anthropic.com"
GEMINI_BASE_URL: Final = "https://generativelanguage.googleapis.com"
ANTHROPIC_VERSION: Final = "2023-06-01"  # the version Anthropic's API reference documents
OLLAMA_PORT: Final = 11434
MAX_MESSAGE: Final = 300
# Anthropic's error.type and Google's ErrorInfo.reason, as the providers' map_error read them.
ANTHROPIC_AUTH_TYPES: Final = frozenset({"authentication_error", "permission_error"})
ANTHROPIC_RATE_TYPES: Final = frozenset({"rate_limit_error", "overloaded_error"})
GEMINI_AUTH_REASONS: Final = frozenset(
    {"API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED"}
)
RATE_STATUSES: Final = frozenset({429, 503, 529})

Headers = Callable[[str], dict[str, str]]


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def _anthropic(key: str) -> dict[str, str]:
    return {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}


def _google(key: str) -> dict[str, str]:
    return {"x-goog-api-key": key}


def _anthropic_default() -> str:
    # The SDK is given ``base_url=None`` without one configured and then reads this variable.
    return os.environ.get("ANTHROPIC_BASE_URL") or ANTHROPIC_BASE_URL


def ollama_host(host: str) -> str:
    """``host`` completed as the Ollama SDK's ``_parse_host`` does (scheme, port, path)."""
    port = OLLAMA_PORT
    scheme, _, hostport = host.partition("://")
    if not hostport:
        scheme, hostport = "http", host
    elif scheme in ("http", "https"):
        port = 80 if scheme == "http" else 443
    split = urllib.parse.urlsplit(f"{scheme}://{hostport}")
    name = split.hostname or "127.0.0.1"
    if ":" in name:  # an IPv6 address loses its brackets in urlsplit
        name = f"[{name}]"
    base = f"{scheme}://{name}:{split.port or port}"
    path = split.path.strip("/")
    return f"{base}/{path}" if path else base


@dataclass(frozen=True, slots=True)
class ProbeRoute:
    """Where one provider type lists its models, and how its errors read."""

    default_base: Callable[[], str] | None  # None: the type needs a configured base URL
    path: str
    headers: Headers
    listing: str  # the JSON field holding the list in a 2xx answer
    listing_required: bool = True  # Google's proto3 JSON leaves an empty list out
    timeout_statuses: frozenset[int] = frozenset({408})
    base: Callable[[str], str] = lambda url: url
    typed_errors: bool = False  # Anthropic: error.type decides as much as the status
    auth_reasons: bool = False  # Google: a bad key is a 400 with reason API_KEY_INVALID

    def url(self, base_url: str) -> str | None:
        """The model list's URL for ``base_url`` ("" = the vendor's); None when it has none."""
        if not base_url:
            if self.default_base is None:
                return None
            base_url = self.default_base()
        return self.base(base_url).rstrip("/") + self.path


PROBES: Final[Mapping[str, ProbeRoute]] = {
    "openai": ProbeRoute(lambda: OPENAI_BASE_URL, "/models", _bearer, "data"),
    "openai_compatible": ProbeRoute(None, "/models", _bearer, "data"),
    "anthropic": ProbeRoute(
        _anthropic_default,
        "/v1/models",
        _anthropic,
        "data",
        timeout_statuses=frozenset({408, 504}),
        typed_errors=True,
    ),
    "gemini": ProbeRoute(
        lambda: GEMINI_BASE_URL,
        "/v1beta/models",
        _google,
        "models",
        listing_required=False,
        timeout_statuses=frozenset({408, 504}),
        auth_reasons=True,
    ),
    "ollama": ProbeRoute(
        lambda: DEFAULT_OLLAMA_HOST,
        "/api/tags",
        _bearer,
        "models",
        timeout_statuses=frozenset(),
        base=ollama_host,
    ),
}


def can_probe(settings: ProviderSettings) -> bool:
    """True when the type of ``settings`` has a probe and the probe a URL."""
    route = PROBES.get(settings.type)
    return route is not None and route.url(settings.base_url) is not None


class Prober:
    """Runs probes over one ``aiohttp`` session, made on the first probe (inside the loop).

    Its owner (the application, which owns the providers' lifetimes) calls ``close``.
    """

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Proxies from the environment count, as they do for the SDKs' clients.
            self._session = aiohttp.ClientSession(trust_env=True)
        return self._session

    async def close(self) -> None:
        """Close the session (a later probe opens a new one)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def health(
        self, settings: ProviderSettings, *, timeout: float, requires_key: bool
    ) -> HealthStatus:
        """The health of the provider of ``settings``: ok, or what failed (its error key).

        Without a key that its type ``requires_key``, nothing is sent (as ``require_key``).
        """
        started = time.perf_counter()
        try:
            if requires_key and not settings.api_key:
                raise ProviderAuthError(f"{settings.name} has no API key configured")
            await self._probe(settings, timeout)
        except ProviderError as err:
            return HealthStatus(
                ok=False, latency_ms=_since(started), error_key=err.key, message=err.message
            )
        return HealthStatus(ok=True, latency_ms=_since(started))

    async def _probe(self, settings: ProviderSettings, timeout: float) -> None:
        route = PROBES[settings.type]
        url = route.url(settings.base_url)
        if url is None:
            raise ProviderBadRequestError(f"{settings.name} has no base URL to check")
        key = settings.api_key.reveal()
        name = settings.name
        try:
            async with self._client().get(
                url,
                headers=route.headers(key),
                timeout=aiohttp.ClientTimeout(total=timeout),  # redirects followed, as by the SDKs
            ) as response:
                text = await response.text(errors="replace")
                status = response.status
        except TimeoutError as err:
            raise ProviderTimeoutError(f"{name} did not answer within {timeout:g}s") from err
        except aiohttp.ClientError as err:
            raise ProviderConnectionError(
                f"{name} could not be reached ({type(err).__name__})"
            ) from err
        if 200 <= status < 300:
            _check_listing(name, route, text)
            return
        raise classify(route, status, _error_body(text), name, key)


def classify(
    route: ProbeRoute, status: int, body: Mapping[str, Any], name: str, key: str
) -> ProviderError:
    """The error a non-2xx answer is, as the type's provider maps the same answer."""
    error = body.get("error")
    detail = error if isinstance(error, Mapping) else {}
    kind = str(detail.get("type") or "") if route.typed_errors else ""
    reasons = _reasons(detail) if route.auth_reasons else set()
    message = f"{name}: {without_key(_message(body, status), key)} (HTTP {status})"
    if status in (401, 403) or kind in ANTHROPIC_AUTH_TYPES or reasons & GEMINI_AUTH_REASONS:
        return ProviderAuthError(message)
    if status in RATE_STATUSES or kind in ANTHROPIC_RATE_TYPES:
        return ProviderRateLimitError(message)
    if status in route.timeout_statuses or kind == "timeout_error":
        return ProviderTimeoutError(message)
    if 400 <= status < 500:
        return ProviderBadRequestError(message)
    return ProviderResponseError(message)


def _check_listing(name: str, route: ProbeRoute, text: str) -> None:
    try:
        body = json.loads(text)
    except ValueError as err:
        raise ProviderResponseError(f"{name} sent a model list that is not JSON") from err
    if isinstance(body, dict):
        listing = body.get(route.listing)
        if isinstance(listing, list) or (listing is None and not route.listing_required):
            return
    raise ProviderResponseError(f"{name} sent a model list that is not the vendor's")


def _error_body(text: str) -> Mapping[str, Any]:
    try:
        body = json.loads(text)
    except ValueError:
        return {"message": text.strip()}
    return body if isinstance(body, dict) else {"message": str(body)}


def _message(body: Mapping[str, Any], status: int) -> str:
    """The vendor's own words: ``error.message``, ``error`` (Ollama), or ``message``."""
    error = body.get("error")
    text = error.get("message") if isinstance(error, Mapping) else error
    if not isinstance(text, str) or not text:
        text = body.get("message")
    return text[:MAX_MESSAGE] if isinstance(text, str) and text else f"HTTP {status}"


def _reasons(error: Mapping[str, Any]) -> set[str]:
    details = error.get("details")
    items = details if isinstance(details, list) else []
    return {
        str(item.get("reason"))
        for item in items
        if isinstance(item, Mapping) and str(item.get("@type", "")).endswith("rpc.ErrorInfo")
    }


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
