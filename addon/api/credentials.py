"""Credential and token endpoints: set, remove and test provider keys; rotate secrets.

Keys are accepted, never returned: responses show them masked (``sk-…abcd``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from aiohttp import web

from addon.api.body import read_json
from addon.api.context import HubContext, hub
from addon.api.envelope import endpoint
from addon.api.schemas import validate_object
from addon.checks import check_api_key
from addon.errors import ForbiddenError, HubError, NotFoundError
from addon.settings import Secret
from addon.startup import Credentials, rotate_api_token


def api_key(value: Any) -> str:
    """A key any vendor's HTTP header can carry (surrounding whitespace dropped), or 400."""
    if not isinstance(value, str):
        raise vol.Invalid("expected a string")
    try:
        return check_api_key(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from err


KEY_SCHEMA = vol.Schema({vol.Required("api_key"): api_key})
TEST_SCHEMA = vol.Schema({vol.Optional("api_key"): api_key})


def _credentials(context: HubContext) -> Credentials:
    if context.credentials is None:
        raise HubError("The credential store is not available")
    return context.credentials


@endpoint
async def put_credentials(request: web.Request) -> Mapping[str, Any]:
    """Store a provider's API key (encrypted) and start using it."""
    context = hub(request)
    name = context.manager.provider_settings(request.match_info["name"]).name
    key = validate_object(KEY_SCHEMA, await read_json(request))["api_key"]
    await _credentials(context).store.set(name, key)
    settings = await context.manager.use_key(name, Secret(key))
    return {"name": name, "api_key": settings.api_key.masked()}


@endpoint
async def delete_credentials(request: web.Request) -> Mapping[str, Any]:
    """Remove a provider's stored key; the provider keeps only what the options give it."""
    context = hub(request)
    name = context.manager.provider_settings(request.match_info["name"]).name
    credentials = _credentials(context)
    if not await credentials.store.delete(name):
        raise NotFoundError(f"No stored key for provider {name!r}")
    configured = context.settings.provider(name)
    option_key = configured.api_key if configured else Secret("")
    await context.manager.use_key(name, option_key)
    return {"name": name, "api_key": option_key.masked() or None}


@endpoint
async def test_credentials(request: web.Request) -> Mapping[str, Any]:
    """Check a key live against the provider: valid, invalid, unreachable or rate limited.

    With ``{"api_key": ...}`` in the body the candidate key is tested without being stored.
    """
    context = hub(request)
    name = context.manager.provider_settings(request.match_info["name"]).name
    body = await read_json(request) if request.body_exists else {}
    candidate = validate_object(TEST_SCHEMA, body).get("api_key")
    key = Secret(candidate) if candidate is not None else None
    return (await context.manager.test_key(name, key)).to_dict()


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
        raise ForbiddenError("The API token is set in the add-on options: change it there instead")
    context.api_token = rotate_api_token(context.data_dir)
    return {"api_token": context.api_token.reveal()}
