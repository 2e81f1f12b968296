"""Typed client of the add-on's HTTP API.

One exception root (``HubApiError``) whose subclasses are chosen by the add-on's stable error
``key``; every call runs under a deadline. The client knows nothing about Home Assistant.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final, NotRequired, TypedDict, cast
from urllib.parse import quote, urlsplit

from aiohttp import ClientError, ClientResponse, ClientSession, ClientTimeout

from .const import GENERATE_TIMEOUT, QUICK_TIMEOUT

_LOGGER = logging.getLogger(__name__)

API_PREFIX: Final = "/api/v1"


class ProviderHealth(TypedDict):
    """One provider in ``GET /health``."""

    name: str
    type: str
    model: str
    state: str
    error_key: str | None


class Health(TypedDict):
    """``GET /health``."""

    status: str
    version: str
    providers: list[ProviderHealth]


class ProviderInfo(TypedDict):
    """One provider in ``GET /api/v1/providers``."""

    name: str
    type: str
    model: str
    vision_model: NotRequired[str | None]
    priority: NotRequired[int]
    enabled: NotRequired[bool]
    state: str
    vision: NotRequired[bool]
    api_key: NotRequired[str | None]
    latency_ms: NotRequired[float | None]
    error_key: NotRequired[str | None]


class ModelInfo(TypedDict):
    """One model in ``GET /api/v1/models``."""

    provider: str
    id: str
    display_name: NotRequired[str]
    vision: NotRequired[bool]


class ModelsReport(TypedDict):
    """``GET /api/v1/models``."""

    models: list[ModelInfo]
    errors: NotRequired[dict[str, str]]


class UsageTotals(TypedDict, total=False):
    """Aggregated usage over a period (every field may be missing on older add-ons)."""

    requests: int
    succeeded: int
    failed: int
    success_rate: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    avg_latency_ms: float | None


class BudgetWindow(TypedDict, total=False):
    """One budget period (daily or monthly)."""

    limit_usd: float | None
    spent_usd: float
    reserved_usd: float
    left_usd: float | None


class Budget(TypedDict, total=False):
    """The hub's budget windows, and each provider's own."""

    daily: BudgetWindow
    monthly: BudgetWindow
    providers: dict[str, dict[str, BudgetWindow]]


class UsageReport(TypedDict, total=False):
    """``GET /api/v1/usage``."""

    since: str
    until: str
    totals: UsageTotals
    by_provider: dict[str, UsageTotals]
    by_model: dict[str, UsageTotals]
    by_tag: dict[str, UsageTotals]
    by_day: dict[str, UsageTotals]
    today: UsageTotals
    month: UsageTotals
    budget: Budget


class Attempt(TypedDict):
    """One provider attempt of a generation request."""

    provider: str
    model: NotRequired[str]
    outcome: str
    latency_ms: float


class TokenUsage(TypedDict):
    """Tokens of one answer."""

    input_tokens: int
    output_tokens: int


class GenerationResult(TypedDict):
    """The answer of ``POST /api/v1/chat`` and ``POST /api/v1/vision``."""

    request_id: str
    text: str
    data: Any
    provider: str
    model: str
    usage: TokenUsage
    cost_usd: float | None
    latency_ms: float
    cached: bool
    attempts: list[Attempt]


class HubApiError(Exception):
    """Root of every error the client raises; ``key`` is the add-on's stable error key."""

    default_key = "unknown_error"

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        status: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.key = key or self.default_key
        self.status = status
        self.details: dict[str, Any] = dict(details or {})


class HubConnectionError(HubApiError):
    """The add-on could not be reached."""

    default_key = "cannot_connect"


class HubTimeoutError(HubApiError):
    """The add-on did not answer within the call's deadline."""

    default_key = "timeout"


class HubResponseError(HubApiError):
    """The add-on answered with something that is not its documented JSON."""

    default_key = "invalid_response"


class HubAuthError(HubApiError):
    """The add-on rejected the bearer token."""

    default_key = "unauthorized"


class HubRequestError(HubApiError):
    """The request itself is wrong (bad input, too large, nothing can serve it)."""

    default_key = "invalid_request"


class HubRateLimitError(HubApiError):
    """A limit or a budget refuses the request for now."""

    default_key = "rate_limited"

    @property
    def retry_after(self) -> float | None:
        """Seconds the add-on asks to wait, when it said so."""
        value = self.details.get("retry_after")
        return float(value) if isinstance(value, int | float) else None


class HubUpstreamError(HubApiError):
    """The providers behind the hub failed (all failed, auth, timeout, internal)."""

    default_key = "all_providers_failed"


ERROR_CLASSES: Final[Mapping[str, type[HubApiError]]] = {
    "unauthorized": HubAuthError,
    "forbidden": HubAuthError,
    "invalid_request": HubRequestError,
    "not_found": HubRequestError,
    "payload_too_large": HubRequestError,
    "unsupported_media": HubRequestError,
    "request_timeout": HubRequestError,
    "method_not_allowed": HubRequestError,
    "no_capable_provider": HubRequestError,
    "capability_miss": HubRequestError,
    "provider_bad_request": HubRequestError,
    "rate_limited": HubRateLimitError,
    "budget_exceeded": HubRateLimitError,
    "provider_rate_limited": HubRateLimitError,
    "all_providers_failed": HubUpstreamError,
    "circuit_open": HubUpstreamError,
    "provider_auth": HubUpstreamError,
    "provider_error": HubUpstreamError,
    "provider_timeout": HubUpstreamError,
    "provider_connection": HubUpstreamError,
    "provider_bad_response": HubUpstreamError,
    "upstream_timeout": HubUpstreamError,
    "internal_error": HubUpstreamError,
    "invalid_config": HubUpstreamError,
    "ledger_error": HubUpstreamError,
    "credentials_unreadable": HubUpstreamError,
    "supervisor_error": HubUpstreamError,
}
_STATUS_CLASSES: Final[Mapping[int, type[HubApiError]]] = {
    401: HubAuthError,
    403: HubAuthError,
    429: HubRateLimitError,
}


def normalize_url(url: str) -> str:
    """Return ``url`` without trailing slash; raise ``ValueError`` unless it is http(s)."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return url


def error_from_response(status: int, body: Any) -> HubApiError:
    """Build the exception for an error answer (the add-on's envelope, or anything else)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("key"), str):
        key: str = error["key"]
        message = str(error.get("message") or key)
        details = {k: v for k, v in error.items() if k not in ("key", "message")}
        cls = ERROR_CLASSES.get(key) or _STATUS_CLASSES.get(status, HubApiError)
        return cls(message, key=key, status=status, details=details)
    cls = _STATUS_CLASSES.get(status, HubResponseError)
    return cls(f"HTTP {status} without an error envelope", status=status)


class HubClient:
    """Client of one add-on instance: base URL plus bearer token over an injected session."""

    def __init__(
        self,
        session: ClientSession,
        url: str,
        token: str,
        *,
        quick_timeout: float = QUICK_TIMEOUT,
        generate_timeout: float = GENERATE_TIMEOUT,
    ) -> None:
        self._session = session
        self.url = normalize_url(url)
        self._token = token
        self.quick_timeout = quick_timeout
        self.generate_timeout = generate_timeout

    async def health(self) -> Health:
        """``GET /health`` (no auth)."""
        return cast(Health, await self._request("GET", "/health", auth=False))

    async def providers(self) -> list[ProviderInfo]:
        """``GET /api/v1/providers``."""
        body = await self._request("GET", f"{API_PREFIX}/providers")
        return cast(list[ProviderInfo], _field(body, "providers", list))

    async def models(self) -> ModelsReport:
        """``GET /api/v1/models``."""
        return cast(ModelsReport, await self._request("GET", f"{API_PREFIX}/models"))

    async def usage(self, since: str | None = None) -> UsageReport:
        """``GET /api/v1/usage`` from ``since`` (ISO time or epoch seconds) until now.

        ``today`` and ``month`` in the answer always cover the current UTC day and month.
        """
        params = {"since": since} if since else None
        body = await self._request("GET", f"{API_PREFIX}/usage", params=params)
        return cast(UsageReport, body)

    async def validate(self) -> Health:
        """Check that the hub answers and accepts the token; return its health."""
        health = await self.health()
        await self.providers()
        return health

    async def chat(self, payload: Mapping[str, Any]) -> GenerationResult:
        """``POST /api/v1/chat``: a text answer (``stream`` is forced off)."""
        body = await self._request(
            "POST",
            f"{API_PREFIX}/chat",
            json_body={**payload, "stream": False},
            timeout=self.generate_timeout,
        )
        return cast(GenerationResult, body)

    async def vision(self, payload: Mapping[str, Any]) -> GenerationResult:
        """``POST /api/v1/vision``: images (base64) plus prompt."""
        body = await self._request(
            "POST", f"{API_PREFIX}/vision", json_body=payload, timeout=self.generate_timeout
        )
        return cast(GenerationResult, body)

    async def chat_stream(
        self, payload: Mapping[str, Any], *, endpoint: str = "chat"
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """``POST /api/v1/chat`` (or ``vision``) with ``stream: true``: ``(event, data)`` pairs.

        Events are ``delta`` (``{"text"}``), ``tool_call`` (``{"id", "name", "arguments"}``,
        each call once complete) and, last, ``done`` (the full result). An ``error`` event
        raises the matching ``HubApiError``.
        """
        path = f"{API_PREFIX}/{endpoint}"
        try:
            async with asyncio.timeout(self.generate_timeout):
                async with self._session.post(
                    f"{self.url}{path}",
                    json={**payload, "stream": True},
                    headers=self._headers(True),
                    timeout=ClientTimeout(total=None),
                ) as resp:
                    if resp.status >= 400:
                        raise error_from_response(resp.status, await _json_or_none(resp))
                    async for name, data in _sse_events(resp):
                        if name == "error":
                            raise error_from_response(resp.status, data)
                        yield name, data
        except ClientError as err:
            raise HubConnectionError(f"POST {path}: {err}") from err
        except TimeoutError as err:
            raise HubTimeoutError(f"POST {path}: the stream did not finish") from err

    async def set_provider_key(self, provider: str, api_key: str) -> None:
        """``PUT /api/v1/providers/{provider}/credentials``: store a key and start using it."""
        await self._request(
            "PUT",
            f"{API_PREFIX}/providers/{quote(provider, safe='')}/credentials",
            json_body={"api_key": api_key},
        )

    async def test_provider_key(self, provider: str, api_key: str | None = None) -> tuple[str, str]:
        """``POST /api/v1/providers/{provider}/test``: ``(result, message)`` of a live check.

        With ``api_key`` that candidate is tested without being stored. ``result`` is
        ``valid``, ``invalid``, ``unreachable``, ``rate_limited`` or ``error``.
        """
        body = await self._request(
            "POST",
            f"{API_PREFIX}/providers/{quote(provider, safe='')}/test",
            json_body={"api_key": api_key} if api_key else {},
        )
        return str(body.get("result")), str(body.get("message") or "")

    def _headers(self, auth: bool) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    async def _request(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        timeout = timeout or self.quick_timeout
        _LOGGER.debug("%s %s", method, path)
        try:
            async with asyncio.timeout(timeout):
                async with self._session.request(
                    method,
                    f"{self.url}{path}",
                    json=json_body,
                    params=params,
                    headers=self._headers(auth),
                    timeout=ClientTimeout(total=None),
                ) as resp:
                    body = await _json_or_none(resp)
        except TimeoutError as err:
            raise HubTimeoutError(f"{method} {path}: no answer within {timeout:g} s") from err
        except ClientError as err:
            raise HubConnectionError(f"{method} {path}: {err}") from err
        if resp.status >= 400:
            raise error_from_response(resp.status, body)
        if not isinstance(body, dict):
            raise HubResponseError(f"{method} {path}: answer is not a JSON object")
        return body


async def _json_or_none(resp: ClientResponse) -> Any:
    try:
        return json.loads(await resp.read())
    except (ValueError, UnicodeDecodeError):
        return None


def _field(body: Any, name: str, kind: type) -> Any:
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, kind):
        raise HubResponseError(f"answer has no {name!r} {kind.__name__}")
    return value


async def _sse_events(resp: ClientResponse) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Parse ``text/event-stream`` into ``(event, JSON data)`` pairs."""
    name = "message"
    data_lines: list[str] = []
    async for raw in resp.content:
        line = raw.decode("utf-8").rstrip("\r\n")
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data_lines.append(line[5:].removeprefix(" "))
        elif not line and data_lines:
            yield name, _decode_event("\n".join(data_lines))
            name, data_lines = "message", []


def _decode_event(data: str) -> dict[str, Any]:
    try:
        event = json.loads(data)
    except ValueError as err:
        raise HubResponseError("stream event is not JSON") from err
    if not isinstance(event, dict):
        raise HubResponseError("stream event is not a JSON object")
    return event
