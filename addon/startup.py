"""Start-up chores around the server: credentials, the API token, and the Supervisor."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from addon import redact
from addon.atomic import create_exclusive, write_atomic
from addon.credentials import CredentialStore, CredentialStoreError
from addon.settings import Secret, Settings
from addon.supervisor import SupervisorClient, SupervisorError

_LOGGER = logging.getLogger(__name__)

TOKEN_FILE = "api_token"  # noqa: S105 - a file name, not a secret
SUPERVISOR_TIMEOUT = 10.0


@dataclass(slots=True)
class Credentials:
    """The opened credential store, the settings with stored keys applied, and what happened."""

    store: CredentialStore
    settings: Settings
    imported: list[str]
    notice: str | None = None


def open_credentials(settings: Settings, data_dir: Path) -> Credentials:
    """Load the store (starting empty, loudly, when it cannot be decrypted) and apply it.

    Keys found in the options are imported first, so a key typed into the options always
    wins over an older stored one.
    """
    store = CredentialStore(data_dir)
    notice = None
    try:
        store.load()
    except CredentialStoreError as err:
        _LOGGER.error("%s", err.message)  # noqa: TRY400 - the message is the whole story
        store.reset()
        notice = err.message
    imported = store.import_from_options(settings)
    return Credentials(store, store.apply_to(settings), imported, notice)


def resolve_api_token(settings: Settings, data_dir: Path, env: Mapping[str, str]) -> Secret:
    """The API token: from the options, else ``HUB_API_TOKEN``, else generated and kept in /data.

    A generated token is written once with mode 0600 and reused on later starts.
    """
    if settings.api_token:
        token = settings.api_token
    elif env.get("HUB_API_TOKEN"):
        token = Secret(env["HUB_API_TOKEN"])
    else:
        path = data_dir / TOKEN_FILE
        data_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            create_exclusive(path, secrets.token_urlsafe(32).encode())
            _LOGGER.info("Generated an API token and stored it in %s", path)
        token = Secret(path.read_text(encoding="utf-8").strip())
    redact.register(token.reveal())
    return token


def rotate_api_token(data_dir: Path) -> Secret:
    """Replace the generated token in /data with a new one."""
    token = secrets.token_urlsafe(32)
    write_atomic(data_dir / TOKEN_FILE, token.encode())
    redact.register(token)
    _LOGGER.info("Rotated the API token")
    return Secret(token)


async def supervisor_chores(
    session: aiohttp.ClientSession,
    supervisor_token: str,
    *,
    base_url: str,
    imported: list[str],
    port: int,
    api_token: Secret,
) -> None:
    """Blank imported keys in the options, then announce the hub for discovery.

    Failures are logged, not raised: the hub serves requests either way.
    """
    client = SupervisorClient(
        session, supervisor_token, base_url=base_url, timeout=SUPERVISOR_TIMEOUT
    )
    try:
        info = await client.addon_info()
        options = info.get("options")
        if imported and isinstance(options, dict):
            await client.blank_option_keys(options)
        host = str(info.get("hostname") or info.get("ip_address") or "localhost")
        await client.announce_discovery(host, port, api_token.reveal())
    except SupervisorError as err:
        _LOGGER.warning("Supervisor chores did not complete: %s", err)
