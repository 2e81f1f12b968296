"""The encrypted credential store: provider API keys at rest in the data directory.

Two files, both mode 0600:

* ``credentials.key``: the key-encryption keys (Fernet keys, one per line, the first is
  used for writing). Excluded from add-on backups, so a backup alone never reveals a key.
* ``credentials.enc``: ``{"version": 1, "items": <Fernet token>}``, the token holding the
  JSON mapping provider name -> API key. Fernet authenticates, so a wrong key or a tampered
  file is detected rather than decrypted into garbage.

Every write is atomic and durable (see ``addon.atomic``) and runs under an exclusive
``flock`` on ``credentials.lock``, re-reading both files first, so the server and the
``rotate-key`` command can run at the same time. Rotation adds the new key to the key file
next to the old one, rewrites the store under the new key, and only then drops the old key;
a crash in between leaves a key file with two keys, and the next ``load`` finishes the job.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Final

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from addon import redact
from addon.atomic import (
    PRIVATE_MODE,
    create_exclusive,
    fsync_dir,
    remove_stale_temps,
    write_atomic,
)
from addon.checks import check_api_key
from addon.errors import HubError, InvalidRequestError
from addon.settings import Secret, Settings

_LOGGER = logging.getLogger(__name__)

KEY_FILE: Final = "credentials.key"
STORE_FILE: Final = "credentials.enc"
LOCK_FILE: Final = "credentials.lock"
FORMAT_VERSION: Final = 1
NAME_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

_REENTER = (
    "This happens when the add-on data is restored from a backup: the key file is left out "
    "of backups on purpose. Re-enter your provider API keys in the add-on options or the "
    "dashboard."
)

Items = dict[str, str]
Change = Callable[[Items], bool]


class CredentialStoreError(HubError):
    """The store exists but cannot be read or decrypted with the key file at hand."""

    key = "credentials_unreadable"
    status = 500


class CredentialStore:
    """Provider API keys, encrypted at rest; call ``load()`` once before anything else."""

    def __init__(self, data_dir: Path) -> None:
        self._dir = data_dir
        self._items: Items = {}
        self._loaded = False
        self._lock = asyncio.Lock()
        # Per-process salt: fingerprints stay stable across key rotation, reveal nothing.
        self._fingerprint_key = secrets.token_bytes(32)

    @property
    def key_path(self) -> Path:
        """The key file (``credentials.key``)."""
        return self._dir / KEY_FILE

    @property
    def store_path(self) -> Path:
        """The encrypted store (``credentials.enc``)."""
        return self._dir / STORE_FILE

    # --- reading ------------------------------------------------------------------------
    def load(self) -> None:
        """Read the store (blocking; call at start-up). Raises ``CredentialStoreError``.

        Creates the key file on first start, clears temp files of interrupted writes and
        finishes a key rotation a crash interrupted.
        """
        self._dir.mkdir(parents=True, exist_ok=True)
        with self._file_lock():
            for path in (self.key_path, self.store_path):
                remove_stale_temps(path)
            keys = self._read_or_create_keys()
            items = self._read_items(keys)
            if len(keys) > 1:
                _LOGGER.warning("Finishing an interrupted credential key rotation")
                self._write_and_settle(items, keys)
        self._loaded = True
        self._adopt(items)
        _LOGGER.info("Credential store loaded: %d provider key(s)", len(items))

    def get(self, name: str) -> Secret | None:
        """The stored key of provider ``name``, if any."""
        value = self._items.get(name)
        return Secret(value) if value is not None else None

    def names(self) -> list[str]:
        """Providers with a stored key, sorted."""
        return sorted(self._items)

    def masked(self) -> dict[str, str]:
        """Provider name -> masked key (``sk-…abcd``), for display."""
        return {name: Secret(value).masked() for name, value in sorted(self._items.items())}

    def fingerprint(self, name: str) -> str | None:
        """A short id of provider ``name``'s key that changes when the key changes.

        Keyed with a per-process secret: comparable within this process only, and useless
        for recovering or confirming a key.
        """
        value = self._items.get(name)
        if value is None:
            return None
        message = f"{name}\0{value}".encode()
        return hmac.new(self._fingerprint_key, message, hashlib.sha256).hexdigest()[:16]

    # --- writing ------------------------------------------------------------------------
    async def set(self, name: str, key: str) -> None:
        """Store (or replace) provider ``name``'s key; durable when this returns."""
        name, value = _check_name(name), _check_key(key)

        def put(items: Items) -> bool:
            changed = items.get(name) != value
            items[name] = value
            return changed

        await self._mutate(put)
        _LOGGER.info("Stored the API key of provider %s", name)

    async def delete(self, name: str) -> bool:
        """Remove provider ``name``'s key; returns whether there was one."""
        existed = await self._mutate(lambda items: items.pop(name, None) is not None)
        if existed:
            _LOGGER.info("Deleted the API key of provider %s", name)
        return existed

    async def rotate(self) -> int:
        """Re-encrypt everything under a new key; returns the number of keys re-encrypted."""
        self._require_loaded()
        async with self._lock:
            count = await asyncio.to_thread(self.rotate_sync)
        _LOGGER.info("Rotated the credential encryption key (%d key(s) re-encrypted)", count)
        return count

    def reset(self) -> Path | None:
        """Start over with an empty store (blocking), keeping an unreadable one aside.

        The old store is renamed to ``credentials.enc.unreadable-<UTC time>`` (returned),
        never deleted. A damaged key file is moved aside the same way; a missing one is
        created afresh.
        """
        self._dir.mkdir(parents=True, exist_ok=True)
        with self._file_lock():
            moved = _move_aside(self.store_path)
            try:
                self._read_or_create_keys()
            except CredentialStoreError:
                _move_aside(self.key_path)
                self._read_or_create_keys()
        self._loaded = True
        self._adopt({})
        if moved is not None:
            _LOGGER.warning(
                "Moved the unreadable credential store aside to %s; starting empty", moved.name
            )
        return moved

    # --- options ------------------------------------------------------------------------
    def import_from_options(self, settings: Settings) -> list[str]:
        """Copy every non-empty ``api_key`` of the options into the store (blocking).

        Returns the names of the providers whose option key is now in the store.
        """
        self._require_loaded()
        wanted = _option_keys(settings)
        if not wanted:
            return []

        def merge(items: Items) -> bool:
            changed = any(items.get(name) != value for name, value in wanted.items())
            items.update(wanted)
            return changed

        items, _ = self._mutate_sync(merge)
        self._adopt(items)
        names = sorted(wanted)
        _LOGGER.info("Imported the API keys of %s from the add-on options", ", ".join(names))
        return names

    def apply_to(self, settings: Settings) -> Settings:
        """``settings`` with each empty provider ``api_key`` filled from the store.

        A stored key no HTTP header can carry (stored by an older version) is not applied:
        that provider then has no key, and ``problems`` says so; the others start normally.
        """
        providers, problems = [], list(settings.problems)
        for provider in settings.providers:
            stored = self._items.get(provider.name)
            if provider.api_key or stored is None:
                providers.append(provider)
                continue
            try:
                providers.append(replace(provider, api_key=Secret(check_api_key(stored))))
            except ValueError as err:
                _LOGGER.warning("Ignored the stored API key of provider %s: %s", provider.name, err)
                problems.append(
                    f"Provider {provider.name!r}: stored api_key ignored: {err}; enter it again"
                )
                providers.append(provider)
        return replace(settings, providers=tuple(providers), problems=tuple(problems))

    # --- internals ----------------------------------------------------------------------
    def _require_loaded(self) -> None:
        if not self._loaded:
            raise RuntimeError("CredentialStore.load() must run first")

    async def _mutate(self, change: Change) -> bool:
        self._require_loaded()
        async with self._lock:
            items, changed = await asyncio.to_thread(self._mutate_sync, change)
            self._adopt(items)
        return changed

    def _mutate_sync(self, change: Change) -> tuple[Items, bool]:
        """Re-read the files, apply ``change``, write if it changed anything."""
        with self._file_lock():
            keys = self._read_or_create_keys()
            items = self._read_items(keys)
            changed = change(items)
            if changed:
                self._write_and_settle(items, keys)
        return items, changed

    def rotate_sync(self) -> int:
        """``rotate`` off the event loop (the ``rotate-key`` command): the count re-encrypted."""
        with self._file_lock():
            keys = self._read_or_create_keys()
            items = self._read_items(keys)
            keys = [Fernet.generate_key(), *keys]
            self._write_keys(keys)
            self._write_and_settle(items, keys)
        return len(items)

    def _write_and_settle(self, items: Items, keys: list[bytes]) -> None:
        """Write the store under ``keys[0]``; once that is durable, drop the other keys."""
        token = Fernet(keys[0]).encrypt(json.dumps(items, sort_keys=True).encode())
        envelope = {"version": FORMAT_VERSION, "items": token.decode("ascii")}
        write_atomic(self.store_path, json.dumps(envelope).encode())
        if len(keys) > 1:
            self._write_keys(keys[:1])

    def _write_keys(self, keys: list[bytes]) -> None:
        write_atomic(self.key_path, b"".join(key + b"\n" for key in keys))

    def _read_or_create_keys(self) -> list[bytes]:
        try:
            return self._read_keys()
        except FileNotFoundError:
            pass
        if self.store_path.exists():
            raise CredentialStoreError(
                f"Cannot decrypt the credential store: its key file {KEY_FILE} is missing. "
                + _REENTER
            ) from None
        with contextlib.suppress(FileExistsError):
            create_exclusive(self.key_path, Fernet.generate_key() + b"\n")
            _LOGGER.info("Created a new credential encryption key")
        return self._read_keys()

    def _read_keys(self) -> list[bytes]:
        keys = [line.strip() for line in self.key_path.read_bytes().splitlines() if line.strip()]
        try:
            for key in keys:
                Fernet(key)
        except ValueError:
            keys = []
        if not keys:
            raise CredentialStoreError(
                f"Cannot decrypt the credential store: the key file {KEY_FILE} is damaged. "
                + _REENTER
            )
        return keys

    def _read_items(self, keys: list[bytes]) -> Items:
        try:
            raw = self.store_path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            envelope = json.loads(raw)
            version = envelope["version"]
            token = envelope["items"].encode("ascii")
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise CredentialStoreError(
                f"Cannot read the credential store {STORE_FILE}: it is damaged. " + _REENTER
            ) from err
        if version != FORMAT_VERSION:
            raise CredentialStoreError(
                f"The credential store has format version {version!r}; this hub reads "
                f"version {FORMAT_VERSION}. " + _REENTER
            )
        try:
            plain = MultiFernet([Fernet(key) for key in keys]).decrypt(token)
        except InvalidToken:
            raise CredentialStoreError(
                "Cannot decrypt the credential store with the current key file. " + _REENTER
            ) from None
        return _parse_items(plain)

    def _adopt(self, items: Items) -> None:
        for value in items.values():
            redact.register(value)
        self._items = dict(items)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        fd = os.open(self._dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, PRIVATE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _parse_items(plain: bytes) -> Items:
    items = json.loads(plain)
    if not isinstance(items, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in items.items()
    ):
        raise CredentialStoreError("The credential store holds unexpected data. " + _REENTER)
    return items


def _option_keys(settings: Settings) -> Items:
    keys: Items = {}
    for provider in settings.providers:
        if not provider.api_key:
            continue
        try:
            keys[provider.name] = _check_key(provider.api_key.reveal())
        except InvalidRequestError:
            _LOGGER.warning("Ignored the malformed API key of provider %s", provider.name)
    return keys


def _check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise InvalidRequestError(f"Invalid provider name {name!r}")
    return name


def _check_key(key: str) -> str:
    try:
        return check_api_key(key)
    except ValueError as err:
        raise InvalidRequestError(f"Invalid API key: {err}") from err


def _move_aside(path: Path) -> Path | None:
    if not path.exists():
        return None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.unreadable-{stamp}")
    suffix = 1
    while target.exists():
        suffix += 1
        target = path.with_name(f"{path.name}.unreadable-{stamp}-{suffix}")
    os.replace(path, target)
    fsync_dir(path.parent)
    return target


def rotate_key_command(data_dir: Path) -> int:
    """``python -m addon rotate-key``: rotate the key, print one line, return an exit code."""
    store = CredentialStore(data_dir)
    try:
        store.load()
        count = store.rotate_sync()
    except (CredentialStoreError, OSError) as err:
        message = err.message if isinstance(err, CredentialStoreError) else str(err)
        print(f"Key rotation failed: {message}", file=sys.stderr)
        return 1
    print(f"Rotated the credential encryption key; {count} stored key(s) re-encrypted.")
    return 0
