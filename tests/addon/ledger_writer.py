"""Helper process of the ledger kill test (not a test module).

Run as ``python ledger_writer.py DB_PATH RUN SEED``. It opens the ledger, prints ``ready`` and
then records forever from several concurrent tasks; after each ``record`` call returns it prints
``ack REQUEST_ID`` for every request of that call. The test SIGKILLs it at random moments and
checks that every acknowledged request is in the reopened ledger with all of its rows.

Request ids are ``RUN-TASK-N-ATTEMPTS``: the last field is how many attempt rows the request
has (a failed attempt then an ``ok`` one, or just the ``ok``), all recorded in one call.
"""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

from addon.ledger import Ledger, LedgerRow

TASKS = 4


def rows_of(request_id: str, ts: float) -> list[LedgerRow]:
    """The attempt rows of one request, derived from its id."""
    attempts = int(request_id.rsplit("-", 1)[1])
    rows = [
        LedgerRow(ts, request_id, "kill", "openai", "gpt-4.1-mini", 10, 0, 0.0, 5.0, "timeout")
        for _ in range(attempts - 1)
    ]
    rows.append(LedgerRow(ts, request_id, "kill", "ollama", "gemma3:4b", 100, 20, 0.0, 9.0, "ok"))
    return rows


def _say(lines: list[str]) -> None:
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    sys.stdout.flush()


async def _record_forever(ledger: Ledger, run: str, task: int, rng: random.Random) -> None:
    n = 0
    while True:
        ids = []
        for _ in range(rng.randint(1, 4)):
            n += 1
            ids.append(f"{run}-{task}-{n}-{rng.randint(1, 2)}")
        rows = [row for request_id in ids for row in rows_of(request_id, float(n))]
        await ledger.record(rows)
        _say([f"ack {request_id}" for request_id in ids])


async def _main(path: Path, run: str, seed: int) -> None:
    ledger = Ledger(path)
    await ledger.open()
    _say(["ready"])
    rngs = [random.Random(seed * 100 + task) for task in range(TASKS)]
    await asyncio.gather(*(_record_forever(ledger, run, t, rngs[t]) for t in range(TASKS)))


if __name__ == "__main__":
    asyncio.run(_main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
