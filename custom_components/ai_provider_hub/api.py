"""Typed client of the add-on's HTTP API.

Answers come back as validated dataclasses (``api_models``); errors as one exception root
(``HubApiError``, ``api_errors``) whose subclass follows the add-on's stable error key. Every call
runs under a deadline. The client knows nothing about Home Assistant.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final
from urllib.parse import quote, urlsplit

from aiohttp import ClientError, ClientResponse, ClientSession, ClientTimeout, FormData

from .api_errors import (
    ERROR_CLASSES,
    HubApiError,
    HubAuthError,
    HubConnectionError,
    HubRateLimitError,
    HubRequestError,
    HubResponseError,
    HubTimeoutError,
    HubUpstreamError,
    error_from_answer,
    error_from_response,
    json_or_none,
)
from .api_media import MediaCalls, SpeechStream
from .api_models import (
    GenerationResult,
    Health,
    KeyTest,
    ModelsReport,
    ProviderInfo,
    ProviderList,
    StreamEvent,
    TextDelta,
    ToolCall,
    UsageReport,
)
from .const import GENERATE_TIMEOUT, QUICK_TIMEOUT

# The client's public surface: its errors come with it.
__all__ = [
    "ERROR_CLASSES",
    "HubApiError",
    "HubAuthError",
    "HubClient",
    "HubConnectionError",
    "HubRateLimitError",
    "HubRequestError",
    "HubResponseError",
    "HubTimeoutError",
    "HubUpstreamError",
    "SpeechStream",
    "error_from_response",
    "normalize_url",
]

_LOGGER = logging.getLogger(__name__)

API_PREFIX: Final = "/api/v1"
# Stream events -> their model; other events (ones a newer add-on may add) are skipped.
STREAM_EVENTS: Final[Mapping[str, type[TextDelta | ToolCall | GenerationResult]]] = {
    "delta": TextDelta,
    "tool_call": ToolCall,
    "done": GenerationResult,
}


def normalize_url(url: str) -> str:
    """Return ``url`` without trailing slash; raise ``ValueError`` unless it is http(s)."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return url


class HubClient(MediaCalls):
    """Client of one add-on instance: base URL plus bearer token over an injected session.

    Chat, status and keys here; embeddings, speech and images in ``MediaCalls``.
    """

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
        return Health.parse(await self._request("GET", "/health", auth=False), "GET /health")

    async def providers(self) -> list[ProviderInfo]:
        """``GET /api/v1/providers``."""
        path = f"{API_PREFIX}/providers"
        return ProviderList.parse(await self._request("GET", path), f"GET {path}").providers

    async def models(self) -> ModelsReport:
        """``GET /api/v1/models``."""
        path = f"{API_PREFIX}/models"
        return ModelsReport.parse(await self._request("GET", path), f"GET {path}")

    async def usage(self, since: str | None = None) -> UsageReport:
        """``GET /api/v1/usage`` from ``since`` (ISO time or epoch seconds) until now.

        ``today`` and ``month`` in the answer always cover the current UTC day and month.
        """
        params = {"since": since} if since else None
        path = f"{API_PREFIX}/usage"
        return UsageReport.parse(await self._request("GET", path, params=params), f"GET {path}")

    async def validate(self) -> Health:
        """Check that the hub answers and accepts the token; return its health."""
        health = await self.health()
        await self.providers()
        return health

    async def chat(self, payload: Mapping[str, Any]) -> GenerationResult:
        """``POST /api/v1/chat``: a text answer (``stream`` is forced off)."""
        path = f"{API_PREFIX}/chat"
        body = await self._request(
            "POST", path, json_body={**payload, "stream": False}, timeout=self.generate_timeout
        )
        return GenerationResult.parse(body, f"POST {path}")

    async def vision(self, payload: Mapping[str, Any]) -> GenerationResult:
        """``POST /api/v1/vision``: images (base64) plus prompt."""
        path = f"{API_PREFIX}/vision"
        body = await self._request("POST", path, json_body=payload, timeout=self.generate_timeout)
        return GenerationResult.parse(body, f"POST {path}")

    async def chat_stream(
        self, payload: Mapping[str, Any], *, endpoint: str = "chat"
    ) -> AsyncIterator[StreamEvent]:
        """``POST /api/v1/chat`` (or ``vision``) with ``stream: true``: the answer as it comes.

        ``TextDelta`` pieces, each ``ToolCall`` once complete and, last, the whole
        ``GenerationResult`` (``done``). An ``error`` event raises the matching ``HubApiError``.
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
                        raise await error_from_answer(resp)
                    async for name, data in _sse_events(resp):
                        if name == "error":
                            raise error_from_response(resp.status, data)
                        if model := STREAM_EVENTS.get(name):
                            yield model.parse(data, f"POST {path}: {name} event")
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
        path = f"{API_PREFIX}/providers/{quote(provider, safe='')}/test"
        body = await self._request("POST", path, json_body={"api_key": api_key} if api_key else {})
        test = KeyTest.parse(body, f"POST {path}")
        return test.result, test.message

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
        form: FormData | None = None,
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
                    data=form,
                    params=params,
                    headers=self._headers(auth),
                    timeout=ClientTimeout(total=None),
                ) as resp:
                    body = await json_or_none(resp)
        except TimeoutError as err:
            raise HubTimeoutError(f"{method} {path}: no answer within {timeout:g} s") from err
        except ClientError as err:
            raise HubConnectionError(f"{method} {path}: {err}") from err
        if resp.status >= 400:
            raise error_from_response(resp.status, body)
        if not isinstance(body, dict):
            raise HubResponseError(f"{method} {path}: answer is not a JSON object")
        return body


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
