"""Download an image by URL without becoming a proxy into the home network.

Only http(s); the host is resolved first and every address must be public unless the caller
allows private ones; the request then goes to the vetted address (so a second DNS answer cannot
swap in another), redirects are followed by hand and vetted again, the body is capped while it
streams and the whole fetch has one deadline.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from typing import Final

import aiohttp
from yarl import URL

from addon.errors import InvalidRequestError, PayloadTooLargeError

_LOGGER = logging.getLogger(__name__)

SCHEMES: Final = ("http", "https")
MAX_REDIRECTS: Final = 3
CHUNK_SIZE: Final = 64 * 1024
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")

type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


async def fetch_image_url(
    session: aiohttp.ClientSession,
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    allow_private: bool = False,
) -> bytes:
    """Download ``url`` (at most ``max_bytes``, within ``timeout`` seconds) and return the body.

    Loopback, private, link-local and other non-public addresses are refused unless
    ``allow_private``. Raises ``InvalidRequestError`` (bad URL, refused address, HTTP error,
    timeout, connection failure) or ``PayloadTooLargeError`` (body over ``max_bytes``).
    """
    target = _parse(url)
    try:
        async with asyncio.timeout(timeout):
            return await _follow(session, target, max_bytes, allow_private)
    except TimeoutError as err:
        raise InvalidRequestError(
            f"Fetching the image from {target.host} took longer than {timeout:g} s:"
            " send the image itself or a faster URL",
            host=target.host,
        ) from err
    except aiohttp.ClientError as err:
        raise InvalidRequestError(
            f"Could not fetch the image from {target.host} ({type(err).__name__}): check the URL",
            host=target.host,
        ) from err


def _parse(url: str, base: URL | None = None) -> URL:
    try:
        target = base.join(URL(url)) if base is not None else URL(url)
    except ValueError as err:
        raise InvalidRequestError("The image URL is not a valid URL", field="url") from err
    if target.scheme not in SCHEMES or not target.host:
        raise InvalidRequestError(
            "Image URLs must be absolute http:// or https:// URLs", field="url"
        )
    return target


async def _follow(
    session: aiohttp.ClientSession, target: URL, max_bytes: int, allow_private: bool
) -> bytes:
    for _ in range(MAX_REDIRECTS + 1):
        addresses = await _vetted_addresses(target, allow_private)
        async with await _connect(session, target, addresses) as response:
            if response.status in _REDIRECTS and "Location" in response.headers:
                target = _parse(response.headers["Location"], base=target)
                continue
            if response.status != 200:
                raise InvalidRequestError(
                    f"The image URL answered HTTP {response.status}: check the URL",
                    host=target.host,
                    upstream_status=response.status,
                )
            return await _read_capped(response, max_bytes)
    raise InvalidRequestError(
        f"The image URL redirects more than {MAX_REDIRECTS} times", host=target.host
    )


async def _connect(
    session: aiohttp.ClientSession, target: URL, addresses: list[IPAddress]
) -> aiohttp.ClientResponse:
    """GET ``target`` from the first vetted address that accepts a connection."""
    for address in addresses[:-1]:
        try:
            return await _get(session, target, address)
        except aiohttp.ClientConnectorError:
            _LOGGER.debug(
                "Image host %s: %s refused, trying the next address", target.host, address
            )
    return await _get(session, target, addresses[-1])


async def _get(
    session: aiohttp.ClientSession, target: URL, address: IPAddress
) -> aiohttp.ClientResponse:
    # Connect to the vetted address itself, so a second DNS answer cannot swap in another;
    # Host and the TLS server name still carry the URL's host name.
    return await session.get(
        target.with_host(str(address)),
        headers={"Host": _host_header(target), "Accept": "image/*"},
        server_hostname=target.host if target.scheme == "https" else None,
        allow_redirects=False,
    )


async def _read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    if response.content_length is not None and response.content_length > max_bytes:
        raise _too_large(response.content_length, max_bytes)
    body = bytearray()
    async for chunk in response.content.iter_chunked(CHUNK_SIZE):
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(None, max_bytes)
    return bytes(body)


def _too_large(size: int | None, max_bytes: int) -> PayloadTooLargeError:
    what = f"{size:,} bytes" if size is not None else "larger than that"
    return PayloadTooLargeError(
        f"The image at the URL is {what}; the limit is {max_bytes:,} bytes: use a smaller image",
        limit=max_bytes,
    )


async def _vetted_addresses(target: URL, allow_private: bool) -> list[IPAddress]:
    """Resolve ``target``'s host; every address must be public unless ``allow_private``."""
    host = target.raw_host or ""
    port = target.port or (443 if target.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise InvalidRequestError(
            f"The image URL's host {target.host} does not resolve", host=target.host
        ) from err
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise InvalidRequestError(f"The image URL's host {target.host} has no address")
    refused = [a for a in addresses if not allow_private and not is_public_address(a)]
    if refused:
        _LOGGER.warning("Refused an image URL to non-public address %s", refused[0])
        raise InvalidRequestError(
            f"The image URL points to a private or local address ({refused[0]}); such URLs"
            " are refused unless private image URLs are allowed in the options",
            host=target.host,
        )
    return list(dict.fromkeys(addresses))


def is_public_address(address: IPAddress) -> bool:
    """True for a globally routable unicast address (IPv4 mapped in IPv6 is unwrapped)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address in _NAT64:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.is_global and not address.is_multicast


def _host_header(target: URL) -> str:
    host = target.raw_host or ""
    if ":" in host:
        host = f"[{host}]"
    return host if target.explicit_port is None else f"{host}:{target.explicit_port}"
