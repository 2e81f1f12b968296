"""The encrypted credential store: round trip, hygiene, unreadable stores, rotation, crashes."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

from addon import redact
from addon.credentials import (
    KEY_FILE,
    LOCK_FILE,
    STORE_FILE,
    CredentialStore,
    CredentialStoreError,
    rotate_key_command,
)
from addon.errors import InvalidRequestError
from addon.settings import Secret, parse_options
from tests.addon.crash_store_writer import NAMES, generation_of, stored_items

OPENAI_KEY = "sk-proj-Canary0penAiKey1234567890abcdefXYZ"
ANTHROPIC_KEY = "sk-ant-api03-CanaryAnthropicKey0987654321zyxw"
GEMINI_KEY = "AIzaSyCanaryGeminiKey_1234567890abcdEF"


def loaded(data_dir: Path) -> CredentialStore:
    store = CredentialStore(data_dir)
    store.load()
    return store


def key_lines(data_dir: Path) -> list[bytes]:
    return (data_dir / KEY_FILE).read_bytes().split()


def file_contents(data_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in data_dir.iterdir()}


@pytest.fixture
async def store(tmp_path: Path) -> CredentialStore:
    store = loaded(tmp_path)
    await store.set("openai", OPENAI_KEY)
    await store.set("claude", ANTHROPIC_KEY)
    return store


# --- round trip and hygiene ------------------------------------------------------------
@pytest.mark.usefixtures("store")
async def test_round_trip_through_a_fresh_instance(tmp_path: Path) -> None:
    again = loaded(tmp_path)
    assert again.names() == ["claude", "openai"]
    assert again.get("openai") == Secret(OPENAI_KEY)
    assert again.get("claude") == Secret(ANTHROPIC_KEY)
    assert again.get("missing") is None
    assert again.masked() == {"claude": "sk-…zyxw", "openai": "sk-…fXYZ"}


async def test_set_replaces_and_delete_removes(store: CredentialStore, tmp_path: Path) -> None:
    await store.set("openai", "  sk-replacement-key-0000000000  \n")
    assert await store.delete("claude") is True
    assert await store.delete("claude") is False
    again = loaded(tmp_path)
    assert again.names() == ["openai"]
    assert again.get("openai") == Secret("sk-replacement-key-0000000000")


async def test_files_are_private(store: CredentialStore, tmp_path: Path) -> None:
    await store.rotate()
    for name in (KEY_FILE, STORE_FILE, LOCK_FILE):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


async def test_no_file_holds_a_key_in_plaintext(store: CredentialStore, tmp_path: Path) -> None:
    await store.set("gemini", GEMINI_KEY)
    await store.rotate()
    for name, data in file_contents(tmp_path).items():
        for secret in (OPENAI_KEY, ANTHROPIC_KEY, GEMINI_KEY):
            assert secret.encode() not in data, name
            assert secret[-12:].encode() not in data, name


@pytest.mark.usefixtures("store")
async def test_store_file_is_a_versioned_envelope(tmp_path: Path) -> None:
    envelope = json.loads((tmp_path / STORE_FILE).read_text())
    assert set(envelope) == {"version", "items"}
    assert envelope["version"] == 1
    (key,) = key_lines(tmp_path)
    assert json.loads(Fernet(key).decrypt(envelope["items"].encode())) == {
        "openai": OPENAI_KEY,
        "claude": ANTHROPIC_KEY,
    }


async def test_stored_keys_are_registered_for_log_redaction(tmp_path: Path) -> None:
    store = loaded(tmp_path)
    await store.set("local", "plainkey9876")  # no recognisable shape: only registration helps
    assert "plainkey9876" not in redact.redact("the key is plainkey9876.")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Bad Name", "sk-valid-key-123456"),
        ("", "sk-valid-key-123456"),
        ("x" * 40, "sk-valid-key-123456"),
        ("openai", ""),
        ("openai", "   "),
        ("openai", "sk-two words"),
        ("openai", "k" * 5000),
    ],
)
async def test_set_rejects_bad_input(store: CredentialStore, name: str, key: str) -> None:
    with pytest.raises(InvalidRequestError):
        await store.set(name, key)


async def test_use_before_load_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="load"):
        await CredentialStore(tmp_path).set("openai", OPENAI_KEY)


def test_load_clears_temp_files_of_interrupted_writes(tmp_path: Path) -> None:
    loaded(tmp_path)
    for stale in (f".{STORE_FILE}.abc123.tmp", f".{KEY_FILE}.def456.tmp"):
        (tmp_path / stale).write_bytes(b"half a write")
    loaded(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE, LOCK_FILE]


# --- fingerprints ----------------------------------------------------------------------
async def test_fingerprint_tracks_key_changes_only(store: CredentialStore) -> None:
    before = store.fingerprint("openai")
    assert before is not None
    assert OPENAI_KEY not in before
    assert len(before) == 16
    await store.rotate()
    assert store.fingerprint("openai") == before
    await store.set("openai", OPENAI_KEY)
    assert store.fingerprint("openai") == before
    await store.set("openai", OPENAI_KEY + "2")
    assert store.fingerprint("openai") != before
    assert store.fingerprint("missing") is None


async def test_same_key_under_two_names_has_two_fingerprints(store: CredentialStore) -> None:
    await store.set("openai-2", OPENAI_KEY)
    assert store.fingerprint("openai-2") != store.fingerprint("openai")


# --- unreadable stores -----------------------------------------------------------------
def _remove_key_file(data_dir: Path) -> None:
    (data_dir / KEY_FILE).unlink()


def _other_key(data_dir: Path) -> None:
    (data_dir / KEY_FILE).write_bytes(Fernet.generate_key() + b"\n")


def _damaged_key(data_dir: Path) -> None:
    (data_dir / KEY_FILE).write_bytes(b"not a fernet key\n")


def _empty_key(data_dir: Path) -> None:
    (data_dir / KEY_FILE).write_bytes(b"")


def _garbage_store(data_dir: Path) -> None:
    (data_dir / STORE_FILE).write_bytes(b"\x00\x01 not json")


def _future_version(data_dir: Path) -> None:
    path = data_dir / STORE_FILE
    envelope = json.loads(path.read_text())
    path.write_text(json.dumps({**envelope, "version": 2}))


def _tampered_token(data_dir: Path) -> None:
    path = data_dir / STORE_FILE
    envelope = json.loads(path.read_text())
    token = envelope["items"]
    middle = len(token) // 2
    flipped = "A" if token[middle] != "A" else "B"
    envelope["items"] = token[:middle] + flipped + token[middle + 1 :]
    path.write_text(json.dumps(envelope))


BREAKAGES: list[tuple[str, Callable[[Path], None], str]] = [
    ("key file missing (backup restored)", _remove_key_file, "key file credentials.key is missing"),
    ("another key", _other_key, "cannot decrypt the credential store with the current key"),
    ("damaged key file", _damaged_key, "key file credentials.key is damaged"),
    ("empty key file", _empty_key, "key file credentials.key is damaged"),
    ("garbage store", _garbage_store, "it is damaged"),
    ("future format", _future_version, "format version 2"),
    ("tampered ciphertext", _tampered_token, "cannot decrypt"),
]


@pytest.mark.usefixtures("store")
@pytest.mark.parametrize(
    ("breakage", "expected"),
    [(b, e) for _, b, e in BREAKAGES],
    ids=[label for label, _, _ in BREAKAGES],
)
async def test_unreadable_store_is_reported_and_reset_recovers(
    tmp_path: Path, breakage: Callable[[Path], None], expected: str
) -> None:
    breakage(tmp_path)
    broken = CredentialStore(tmp_path)
    with pytest.raises(CredentialStoreError) as caught:
        broken.load()
    assert caught.value.key == "credentials_unreadable"
    assert expected.lower() in caught.value.message.lower()
    assert "Re-enter your provider API keys" in caught.value.message
    assert OPENAI_KEY not in str(caught.value)

    moved = broken.reset()
    assert moved is not None
    assert moved.name.startswith(f"{STORE_FILE}.unreadable-")
    assert moved.exists()
    assert broken.names() == []
    await broken.set("openai", "sk-reentered-key-000000000000")
    assert loaded(tmp_path).get("openai") == Secret("sk-reentered-key-000000000000")


@pytest.mark.usefixtures("store")
async def test_a_missing_key_file_is_never_silently_recreated(tmp_path: Path) -> None:
    _remove_key_file(tmp_path)
    with pytest.raises(CredentialStoreError):
        CredentialStore(tmp_path).load()
    assert not (tmp_path / KEY_FILE).exists()
    assert (tmp_path / STORE_FILE).exists()


def test_reset_on_an_empty_dir_just_starts(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    assert store.reset() is None
    assert store.names() == []
    assert (tmp_path / KEY_FILE).exists()


# --- rotation --------------------------------------------------------------------------
async def test_rotate_keeps_everything_readable_and_drops_the_old_key(
    store: CredentialStore, tmp_path: Path
) -> None:
    (old_key,) = key_lines(tmp_path)
    assert await store.rotate() == 2
    (new_key,) = key_lines(tmp_path)
    assert new_key != old_key
    token = json.loads((tmp_path / STORE_FILE).read_text())["items"].encode()
    with pytest.raises(InvalidToken):
        Fernet(old_key).decrypt(token)
    again = loaded(tmp_path)
    assert again.get("openai") == Secret(OPENAI_KEY)
    assert again.get("claude") == Secret(ANTHROPIC_KEY)
    assert store.get("openai") == Secret(OPENAI_KEY)


@pytest.mark.usefixtures("store")
async def test_load_finishes_a_rotation_a_crash_interrupted(tmp_path: Path) -> None:
    # State after step 1 of a rotation: new key in front of the old one, store still old.
    (old_key,) = key_lines(tmp_path)
    new_key = Fernet.generate_key()
    (tmp_path / KEY_FILE).write_bytes(new_key + b"\n" + old_key + b"\n")
    again = loaded(tmp_path)
    assert again.get("openai") == Secret(OPENAI_KEY)
    assert key_lines(tmp_path) == [new_key]
    token = json.loads((tmp_path / STORE_FILE).read_text())["items"].encode()
    assert json.loads(Fernet(new_key).decrypt(token))["claude"] == ANTHROPIC_KEY


async def test_writer_follows_a_rotation_done_by_another_process(
    store: CredentialStore, tmp_path: Path
) -> None:
    # The server keeps running while `rotate-key` rotates the key file under it.
    assert rotate_key_command(tmp_path) == 0
    await store.set("gemini", GEMINI_KEY)
    again = loaded(tmp_path)
    assert again.names() == ["claude", "gemini", "openai"]
    assert len(key_lines(tmp_path)) == 1


@pytest.mark.usefixtures("store")
async def test_rotate_key_command_prints_one_line_and_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (old_key,) = key_lines(tmp_path)
    assert rotate_key_command(tmp_path) == 0
    out, err = capsys.readouterr()
    assert out.count("\n") == 1
    assert "2 stored key(s) re-encrypted" in out
    (new_key,) = key_lines(tmp_path)
    for secret in (OPENAI_KEY, ANTHROPIC_KEY, old_key.decode(), new_key.decode()):
        assert secret not in out + err


@pytest.mark.usefixtures("store")
async def test_rotate_key_command_fails_cleanly_on_an_unreadable_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _other_key(tmp_path)
    before = (tmp_path / STORE_FILE).read_bytes()
    assert rotate_key_command(tmp_path) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "Re-enter your provider API keys" in err
    assert (tmp_path / STORE_FILE).read_bytes() == before


# --- options ---------------------------------------------------------------------------
OPTIONS = {
    "providers": [
        {"name": "openai", "type": "openai", "api_key": OPENAI_KEY},
        {"name": "claude", "type": "anthropic", "api_key": ""},
        {"name": "local", "type": "ollama"},
    ]
}


def test_import_from_options_then_apply_to_blanked_options(tmp_path: Path) -> None:
    store = loaded(tmp_path)
    assert store.import_from_options(parse_options(OPTIONS)) == ["openai"]
    blanked = parse_options({"providers": [{**p, "api_key": ""} for p in OPTIONS["providers"]]})
    effective = loaded(tmp_path).apply_to(blanked)
    keys = {p.name: p.api_key for p in effective.providers}
    assert keys == {"openai": Secret(OPENAI_KEY), "claude": Secret(""), "local": Secret("")}


async def test_options_key_wins_over_the_store_in_apply_to(store: CredentialStore) -> None:
    settings = parse_options(
        {"providers": [{"name": "openai", "type": "openai", "api_key": "sk-from-options-123456"}]}
    )
    assert store.apply_to(settings).providers[0].api_key == Secret("sk-from-options-123456")


def test_import_without_changes_does_not_rewrite(tmp_path: Path) -> None:
    store = loaded(tmp_path)
    settings = parse_options(OPTIONS)
    store.import_from_options(settings)
    inode = (tmp_path / STORE_FILE).stat().st_ino
    assert store.import_from_options(settings) == ["openai"]
    assert (tmp_path / STORE_FILE).stat().st_ino == inode


def test_import_with_no_option_keys_imports_nothing(tmp_path: Path) -> None:
    store = loaded(tmp_path)
    assert store.import_from_options(parse_options({"providers": []})) == []
    assert not (tmp_path / STORE_FILE).exists()


# --- crash test ------------------------------------------------------------------------
KILL_ITERATIONS = 150
MAX_KILL_DELAY = 0.06  # seconds; a write takes a few ms to tens of ms (fsyncs)
READ_DEADLINE = 20.0  # a hung helper fails the test instead of hanging it
WRITER = Path(__file__).with_name("crash_store_writer.py")
REPO_ROOT = Path(__file__).resolve().parents[2]


class LineReader:
    """Lines from a pipe, with a deadline so a stuck helper cannot hang the test."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = b""

    def until(self, prefix: str) -> list[str]:
        """Every line up to and including the first one starting with ``prefix``."""
        lines: list[str] = []
        deadline = time.monotonic() + READ_DEADLINE
        while True:
            while b"\n" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\n", 1)
                lines.append(raw.decode())
                if lines[-1].startswith(prefix):
                    return lines
                assert not lines[-1].startswith("error"), lines[-1]
            ready, _, _ = select.select([self._fd], [], [], deadline - time.monotonic())
            assert ready, f"helper sent no {prefix!r} line; got {lines}"
            chunk = os.read(self._fd, 65536)
            assert chunk, f"helper exited; got {lines}"
            self._buffer += chunk


def _acked_generation(lines: list[str], start: int) -> int:
    acked = start
    for line in lines:
        kind, _, number = line.partition(" ")
        if kind in {"wrote", "rotated"}:
            acked = int(number)
    return acked


def _check_after_kill(data_dir: Path, acked: int) -> tuple[int, bool]:
    interrupted_rotation = len(key_lines(data_dir)) > 1
    store = loaded(data_dir)
    generation = generation_of(stored_items(store))
    assert generation in {acked, acked + 1}, (generation, acked)
    assert len(key_lines(data_dir)) == 1
    assert not list(data_dir.glob(".*.tmp"))
    for path in (data_dir / KEY_FILE, data_dir / STORE_FILE):
        assert not path.exists() or stat.S_IMODE(path.stat().st_mode) == 0o600
    return generation, interrupted_rotation


@pytest.mark.timeout(300)  # 150 helper processes killed at random moments
def test_store_survives_sigkill_at_random_moments(tmp_path: Path) -> None:
    rng = random.Random(20240611)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    helper = subprocess.Popen(
        [sys.executable, str(WRITER), str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        cwd=REPO_ROOT,
    )
    assert helper.stdin is not None
    assert helper.stdout is not None
    reader = LineReader(helper.stdout.fileno())
    kills = ahead = rotations_interrupted = 0
    child = 0
    try:
        for _ in range(KILL_ITERATIONS):
            helper.stdin.write(f"go {rng.randrange(1 << 30)}\n".encode())
            helper.stdin.flush()
            # The parent's "child PID" and the writer's "ready GEN" share one pipe: either may
            # come first.
            lines = reader.until("ready")
            if not any(line.startswith("child") for line in lines):
                lines += reader.until("child")
            child = int(next(line for line in lines if line.startswith("child")).split()[1])
            start = int(next(line for line in lines if line.startswith("ready")).split()[1])
            time.sleep(rng.uniform(0, MAX_KILL_DELAY))  # a random kill moment, not a wait
            os.kill(child, signal.SIGKILL)
            kills += 1
            lines = reader.until(f"reaped {child}")
            child = 0
            acked = _acked_generation(lines, start)
            generation, interrupted = _check_after_kill(tmp_path, acked)
            ahead += generation == acked + 1
            rotations_interrupted += interrupted
    finally:
        if child:
            os.kill(child, signal.SIGKILL)
        helper.stdin.close()
        helper.stdout.close()
        helper.kill()
        helper.wait()
    print(
        f"\ncrash test: {kills} SIGKILLs; store loaded every time; {ahead} kills landed after "
        f"a durable write but before its ack; {rotations_interrupted} interrupted rotations"
    )
    assert kills == KILL_ITERATIONS
    assert generation_of(stored_items(loaded(tmp_path))) > 0
    assert sorted(loaded(tmp_path).names()) == sorted(NAMES)
