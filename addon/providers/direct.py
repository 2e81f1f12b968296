"""One POST the SDK would send, sent straight over aiohttp: the hot path of a chat.

The SDK's own request path (options, header merging, an httpx request, its aiohttp transport,
an httpx response) costs several times the CPU of the HTTP exchange itself. For a body the
provider has already encoded, ``DirectPost`` sends the same request — the SDK client's own URL
and headers (auth, ``User-Agent``, ``X-Stainless-*``), taken from the client once — on one
aiohttp session of its own, and hands failures back as the SDK's own exceptions, made by the
SDK: an error status through the client's ``_make_status_error_from_response`` (exactly what
the SDK raises for it), a transport failure as its ``APIConnectionError`` or
``APITimeoutError`` with aiohttp's error as the cause. Each provider's ``map_error`` stays the
one mapping. A stream's events are cut by the SDK's own server-sent-events decoder and handed
on as they are (the provider decodes their JSON), without building the SDK's typed object for
every chunk. Used by the Stainless-generated SDKs (``openai``, ``anthropic``), which share
this client interface.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Iterable, Mapping
from typing import Any, Final, Protocol

import aiohttp
import httpx2
from yarl import URL

# Spelt as the SDK spells them.
RETRY_COUNT_HEADER: Final = "x-stainless-retry-count"
READ_TIMEOUT_HEADER: Final = "x-stainless-read-timeout"


def encode_json(body: Mapping[str, Any]) -> bytes:
    """A request body as the SDK encodes one (UTF-8, compact), once."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class SdkClient(Protocol):
    """What ``DirectPost`` reads from a Stainless SDK client."""

    @property
    def base_url(self) -> httpx2.URL:
        """The API's base URL (always ending in ``/``)."""

    @property
    def auth_headers(self) -> dict[str, str]:
        """The key's headers."""

    @property
    def default_headers(self) -> Mapping[str, object]:
        """Every other header the SDK sends (``Omit`` markers for those it leaves out)."""

    def _make_status_error_from_response(self, response: httpx2.Response) -> Exception:
        """The SDK's exception for an error status."""

    def _make_sse_decoder(self) -> Any:
        """The SDK's server-sent-events decoder (``aiter_bytes`` yields its events)."""


class TransportError(Protocol):
    """The SDK's connection or timeout exception class (``request`` is keyword-only)."""

    def __call__(self, *, request: httpx2.Request) -> Exception:
        """A new exception about ``request``."""


class DirectPost:
    """POSTs ready-encoded JSON bodies for one SDK client (see the module docstring)."""

    def __init__(
        self,
        client: SdkClient,
        *,
        connection_error: TransportError,
        timeout_error: TransportError,
    ) -> None:
        self._client = client
        self._connection_error = connection_error
        self._timeout_error = timeout_error
        self._session: aiohttp.ClientSession | None = None
        self._headers: dict[str, str] | None = None
        self._urls: dict[str, URL] = {}

    async def post(self, path: str, body: bytes, *, timeout: float) -> bytes:
        """The answer's body to ``body`` POSTed at ``path``; raises the SDK's exceptions."""
        url = self._url(path)
        try:
            async with self._open().post(
                url,
                data=body,
                headers=self._headers_for(timeout),
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as answer:
                content = await answer.read()
        except TimeoutError as err:
            raise self._timeout_error(request=self.request(path)) from err
        except aiohttp.ClientError as err:
            raise self._connection_error(request=self.request(path)) from err
        if answer.status >= 400:
            raise self._status_error(path, answer.status, answer.headers.items(), content)
        return content

    async def events(self, path: str, body: bytes, *, timeout: float) -> AsyncGenerator[Any]:
        """The SDK's ``ServerSentEvent``s of the stream ``body`` asks for, to ``[DONE]``.

        ``timeout`` bounds connecting and each read (the whole stream's deadline is the
        caller's). Raises the SDK's exceptions.
        """
        url = self._url(path)
        reads = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        try:
            async with self._open().post(
                url, data=body, headers=self._headers_for(timeout), timeout=reads
            ) as answer:
                if answer.status >= 400:
                    content = await answer.read()
                    raise self._status_error(path, answer.status, answer.headers.items(), content)
                decoder = self._client._make_sse_decoder()  # noqa: SLF001
                async for event in decoder.aiter_bytes(answer.content.iter_any()):
                    if event.data.startswith("[DONE]"):  # OpenAI's end; Anthropic has none
                        break
                    yield event
        except TimeoutError as err:
            raise self._timeout_error(request=self.request(path)) from err
        except aiohttp.ClientError as err:
            raise self._connection_error(request=self.request(path)) from err

    def request(self, path: str) -> httpx2.Request:
        """The SDK's view of the request at ``path`` (its exceptions carry one)."""
        return httpx2.Request("POST", str(self._url(path)))

    async def close(self) -> None:
        """Close the session (a later call opens a new one)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _open(self) -> aiohttp.ClientSession:
        """The session, made on first use inside the running loop (with the SDK's TLS trust)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=httpx2.create_ssl_context())
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    def _headers_for(self, timeout: float) -> dict[str, str]:
        if self._headers is None:
            merged = {**self._client.default_headers, **self._client.auth_headers}
            headers = {name: value for name, value in merged.items() if isinstance(value, str)}
            self._headers = {**headers, RETRY_COUNT_HEADER: "0"}  # the hub retries elsewhere
        return {**self._headers, READ_TIMEOUT_HEADER: str(timeout)}

    def error_event(self, path: str, data: str) -> Exception:
        """The SDK's status error for an error event inside a stream (its answer was 200)."""
        return self._status_error(path, 200, (), data.encode())

    def _status_error(
        self, path: str, status: int, headers: Iterable[tuple[str, str]], content: bytes
    ) -> Exception:
        response = httpx2.Response(
            status, headers=list(headers), content=content, request=self.request(path)
        )
        return self._client._make_status_error_from_response(response)  # noqa: SLF001

    def _url(self, path: str) -> URL:
        url = self._urls.get(path)
        if url is None:  # joined as the SDK joins them (its base URL's path ends in "/")
            base = self._client.base_url
            joined = base.copy_with(raw_path=base.raw_path + path.lstrip("/").encode())
            url = self._urls[path] = URL(str(joined), encoded=True)
        return url
