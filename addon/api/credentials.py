"""Credential and token endpoints: set, remove and test provider keys; rotate secrets.

Keys are accepted, never returned: responses show them masked (``sk-…abcd``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

import voluptuous as vol
from aiohttp import web

from addon.api.body import read_json
from addon.api.context import HubContext, hub
from addon.api.envelope import endpoint
from addon.api.schemas import validate_object
from addon.errors import (
    HubError,
    InvalidRequestError,
    NotFoundError,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimitError,
    ProviderTimeoutError,
)
from addon.providers import create_provider
from addon.providers.base import Provider
from addon.settings import Secret
from addon.startup import Credentials, rotate_api_token

TEST_TIMEOUT: Final = 15.0
KEY_SCHEMA = vol.Schema({vol.Required("api_key"): vol.All(str, vol.Strip, vol.Length(min=1))})
TEST_SCHEMA = vol.Schema({vol.Optional("api_key"): vol.All(str, vol.Strip, vol.Length(min=1))})


def _provider(context: HubContext, request: web.Request) -> Provider:
    name = request.match_info["name"]
    provider = context.manager.providers.get(name)
    if provider is None:
        raise NotFoundError(f"No provider named {name!r}")
    return provider


def _credentials(context: HubContext) -> Credentials:
    if context.credentials is None:
        raise HubError("The credential store is not available")
    return context.credentials


async def _rebuild(context: HubContext, provider: Provider, key: Secret) -> Provider:
    rebuilt = create_provider(replace(provider.settings, api_key=key))
    await context.manager.replace_provider(rebuilt)
    return rebuilt


@endpoint
async def put_credentials(request: web.Request) -> Mapping[str, Any]:
    """Store a provider's API key (encrypted) and start using it."""
    context = hub(request)
    provider = _provider(context, request)
    key = validate_object(KEY_SCHEMA, await read_json(request))["api_key"]
    await _credentials(context).store.set(provider.name, key)
    rebuilt = await _rebuild(context, provider, Secret(key))
    return {"name": rebuilt.name, "api_key": rebuilt.settings.api_key.masked()}


@endpoint
async def delete_credentials(request: web.Request) -> Mapping[str, Any]:
    """Remove a provider's stored key; the provider keeps only what the options give it."""
    context = hub(request)
    provider = _provider(context, request)
    credentials = _credentials(context)
    if not await credentials.store.delete(provider.name):
        raise NotFoundError(f"No stored key for provider {provider.name!r}")
    configured = context.settings.provider(provider.name)
    option_key = configured.api_key if configured else Secret("")
    await _rebuild(context, provider, option_key)
    return {"name": provider.name, "api_key": option_key.masked() or None}


@endpoint
async def test_credentials(request: web.Request) -> Mapping[str, Any]:
    """Check a key live against the provider: valid, invalid, unreachable or rate limited.

    With ``{"api_key": ...}`` in the body the candidate key is tested without being stored.
    """
    context = hub(request)
    provider = _provider(context, request)
    body = await read_json(request) if request.body_exists else {}
    candidate = validate_object(TEST_SCHEMA, body).get("api_key")
    probe = provider
    if candidate is not None:
        probe = create_provider(replace(provider.settings, api_key=Secret(candidate)))
    try:
        await probe.validate_credentials(timeout=TEST_TIMEOUT)
        result, message = "valid", f"{provider.name} accepted the key"
    except ProviderError as err:
        result, message = _test_outcome(err), err.message
    finally:
        if probe is not provider:
            await probe.close()
    return {"name": provider.name, "result": result, "message": message}


def _test_outcome(err: ProviderError) -> str:
    if isinstance(err, ProviderAuthError):
        return "invalid"
    if isinstance(err, ProviderRateLimitError):
        return "rate_limited"
    if isinstance(err, ProviderConnectionError | ProviderTimeoutError):
        return "unreachable"
    return "error"


@endpoint
async def rotate_credentials_key(request: web.Request) -> Mapping[str, Any]:
    """Re-encrypt the credential store under a new key."""
    count = await _credentials(hub(request)).store.rotate()
    return {"rotated": True, "keys": count}


@endpoint
async def rotate_token(request: web.Request) -> Mapping[str, Any]:
    """Replace the generated API token; the new one is shown once, in this response."""
    context = hub(request)
    if context.settings.api_token:
        raise InvalidRequestError(
            "The API token is set in the add-on options: change it there instead"
        )
    context.api_token = rotate_api_token(context.data_dir)
    return {"api_token": context.api_token.reveal()}
