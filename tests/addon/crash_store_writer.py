"""Helper process of the credential store crash test (not a test module).

Run as ``python crash_store_writer.py DATA_DIR``. It imports everything once, then acts as a
fork server so each kill iteration starts in milliseconds: for every ``go SEED`` line on stdin
it forks a writer and reports ``child PID``; the writer loads the store (``ready GEN``) and
rewrites or rotates it forever, acknowledging each durable write (``wrote GEN`` /
``rotated GEN``). The test SIGKILLs the writer at a random moment; the server reaps it and
reports ``reaped PID``, after which every line the writer managed to print has been sent.

Store content at generation ``g``: providers alpha, beta, gamma with keys ``value(name, g)``,
written in one store write, so a torn write would show up as mixed generations.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from pathlib import Path

from addon.credentials import CredentialStore
from addon.settings import parse_options

NAMES = ("alpha", "beta", "gamma")
ROTATE_SHARE = 0.3


def value(name: str, generation: int) -> str:
    """The key stored for ``name`` at ``generation``."""
    return f"sk-{name}-{generation:08d}-canary0123456789abcdef"


def generation_of(items: dict[str, str]) -> int:
    """The single generation the store holds (0 when empty); raises on mixed content."""
    if not items:
        return 0
    generations = {int(key.split("-")[2]) for key in items.values()}
    if sorted(items) != sorted(NAMES) or len(generations) != 1:
        raise AssertionError(f"torn store content: {sorted(items)} generations {generations}")
    generation = generations.pop()
    if any(items[name] != value(name, generation) for name in NAMES):
        raise AssertionError("store values do not match their generation")
    return generation


def stored_items(store: CredentialStore) -> dict[str, str]:
    """Everything in a loaded store, revealed."""
    return {name: secret.reveal() for name in store.names() if (secret := store.get(name))}


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _write_forever(data_dir: Path, seed: int) -> None:
    rng = random.Random(seed)
    store = CredentialStore(data_dir)
    store.load()
    generation = generation_of(stored_items(store))
    _say(f"ready {generation}")
    while True:
        if rng.random() < ROTATE_SHARE:
            await store.rotate()
            _say(f"rotated {generation}")
            continue
        generation += 1
        options = {
            "providers": [
                {"name": name, "type": "openai", "api_key": value(name, generation)}
                for name in NAMES
            ]
        }
        await asyncio.to_thread(store.import_from_options, parse_options(options))
        _say(f"wrote {generation}")


def _child(data_dir: Path, seed: int) -> None:
    try:
        asyncio.run(_write_forever(data_dir, seed))
    except BrokenPipeError:
        os._exit(0)  # the test went away: stop writing
    except BaseException as err:  # noqa: BLE001 - whatever killed the helper is reported
        _say(f"error {type(err).__name__}: {err}")
        os._exit(1)
    os._exit(0)


def main() -> None:
    data_dir = Path(sys.argv[1])
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command != "go":
            continue
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _child(data_dir, int(argument))
        _say(f"child {pid}")
        _, status = os.waitpid(pid, 0)
        _say(f"reaped {pid} {status}")


if __name__ == "__main__":
    main()
