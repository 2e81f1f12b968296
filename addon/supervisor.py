"""A small client of the Home Assistant Supervisor API, for the calls the add-on makes.

The Supervisor answers ``{"result": "ok", "data": {...}}`` on success and
``{"result": "error", "message": "..."}`` (with a 4xx/5xx status) on failure; its auth
middleware answers a bare 401/403. Every call carries the add-on's ``SUPERVISOR_TOKEN`` as a
bearer token and has a deadline; every failure becomes ``SupervisorError``.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import Mapping
from typing import Any, Final

import aiohttp

from addon import redact
from addon.errors import HubError

_LOGGER = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "http://supervisor"
DISCOVERY_SERVICE: Final = "ai_provider_hub"


class SupervisorError(HubError):
    """A Supervisor API call failed, was refused or ran out of time."""

    key = "supervisor_error"
    status = 502


class SupervisorClient:
    """The Supervisor API calls of this add-on, over an injected ``aiohttp`` session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10,
    ) -> None:
        self._session = session
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        redact.register(token)

    async def announce_discovery(self, host: str, port: int, api_token: str) -> str | None:
        """Tell Home Assistant where the hub is (``POST /discovery``); returns the uuid."""
        payload = {
            "service": DISCOVERY_SERVICE,
            "config": {"host": host, "port": port, "api_token": api_token},
        }
        data = await self._request("POST", "/discovery", payload)
        uuid = data.get("uuid") if isinstance(data, Mapping) else None
        _LOGGER.info("Announced the hub to Home Assistant at %s:%s", host, port)
        return uuid if isinstance(uuid, str) else None

    async def addon_info(self) -> dict[str, Any]:
        """The add-on's own info (``GET /addons/self/info``): hostname, ip_address, options."""
        data = await self._request("GET", "/addons/self/info")
        if not isinstance(data, dict):
            raise SupervisorError("The Supervisor sent add-on info that is not an object")
        return data

    async def update_options(self, options: Mapping[str, Any]) -> None:
        """Replace this add-on's options (``POST /addons/self/options``)."""
        await self._request("POST", "/addons/self/options", {"options": dict(options)})

    async def blank_option_keys(self, options: Mapping[str, Any]) -> list[str]:
        """Write ``options`` back with every provider ``api_key`` emptied.

        ``options`` must be the whole options mapping (the Supervisor replaces it as a
        whole). Returns the names of the providers whose key was blanked; makes no call
        when there is nothing to blank.
        """
        blanked_options, names = blank_api_keys(options)
        if not names:
            return []
        await self.update_options(blanked_options)
        _LOGGER.info(
            "Removed the API keys of %s from the add-on options; they stay in the encrypted "
            "credential store",
            ", ".join(names),
        )
        return names

    async def _request(
        self, method: str, path: str, payload: Mapping[str, Any] | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {self._token}"}
        url = f"{self._base_url}{path}"
        try:
            async with (
                asyncio.timeout(self._timeout),
                self._session.request(method, url, json=payload, headers=headers) as response,
            ):
                body = await response.read()
                status = response.status
        except TimeoutError as err:
            raise SupervisorError(
                f"The Supervisor did not answer {method} {path} within {self._timeout:g} s"
            ) from err
        except aiohttp.ClientError as err:
            raise SupervisorError(
                f"Cannot reach the Supervisor for {method} {path}: {err}"
            ) from err
        return _unwrap(method, path, status, body)


def blank_api_keys(options: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``options`` with provider ``api_key``s emptied, and the names emptied."""
    blanked = copy.deepcopy(dict(options))
    names: list[str] = []
    for provider in blanked.get("providers") or []:
        if isinstance(provider, dict) and provider.get("api_key"):
            provider["api_key"] = ""
            names.append(str(provider.get("name", "?")))
    return blanked, names


def _unwrap(method: str, path: str, status: int, body: bytes) -> Any:
    """The ``data`` of a Supervisor answer, or ``SupervisorError`` with its message."""
    envelope = _decode(body)
    if status >= 400 or envelope.get("result") != "ok":
        message = envelope.get("message") or body[:200].decode("utf-8", "replace").strip()
        # Validation messages may quote option values, keys included.
        message = redact.redact(str(message))
        raise SupervisorError(
            f"The Supervisor refused {method} {path} ({status}): {message or 'no message'}",
            supervisor_status=status,
        )
    return envelope.get("data", {})


def _decode(body: bytes) -> dict[str, Any]:
    try:
        decoded = json.loads(body) if body else {}
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}
