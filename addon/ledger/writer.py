"""The ledger's single writer thread, with group commit.

Every write runs on one thread that owns the writing SQLite connection, so the event loop never
waits on disk. Record jobs submitted in the same turn of the event loop reach the thread as one
batch (one wake-up of the thread), and batches that queue up while a transaction is being
committed are written together in the next transaction; each caller's future is resolved only
after its rows are committed, all of a transaction's callers with one wake-up of the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from addon.ledger.report import LedgerRow
from addon.ledger.schema import LedgerError, transaction

_LOGGER = logging.getLogger(__name__)

MAX_GROUP: Final = 512  # record jobs per transaction: bounds the size of one commit

INSERT: Final = (
    "INSERT INTO attempts (ts, request_id, tag, provider, model, input_tokens, output_tokens,"
    " cost_usd, latency_ms, outcome, cached, tool_calls, capability, audio_seconds, characters,"
    " images) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def row_values(row: LedgerRow) -> tuple[Any, ...]:
    """The INSERT parameters of one row."""
    return (
        row.ts,
        row.request_id,
        row.tag,
        row.provider,
        row.model,
        int(row.input_tokens),
        int(row.output_tokens),
        float(row.cost_usd),
        float(row.latency_ms),
        row.outcome,
        int(row.cached),
        int(row.tool_calls),
        row.capability,
        float(row.audio_seconds),
        int(row.characters),
        int(row.images),
    )


@dataclass(slots=True)
class _Job:
    """One unit of work: rows to insert, or a function run inside its own transaction."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    rows: Sequence[LedgerRow] = ()
    work: Callable[[sqlite3.Connection], Any] | None = None


class WriterThread(threading.Thread):
    """Owns the writing connection; runs jobs in submission order until ``stop``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(name="ledger-writer", daemon=True)
        self._conn = conn
        self._queue: queue.SimpleQueue[list[_Job] | None] = queue.SimpleQueue()
        self._this_turn: list[_Job] = []  # record jobs submitted in this turn of the loop
        self.commits = 0  # transactions committed; tests read it to see group commit work

    def submit_rows(self, rows: Sequence[LedgerRow]) -> asyncio.Future[None]:
        """Queue rows for insertion; the future resolves once they are committed."""
        job = _Job(*self._new_future(), rows=tuple(rows))
        if not self._this_turn:
            job.loop.call_soon(self._hand_over)
        self._this_turn.append(job)
        return job.future

    def submit_work(self, work: Callable[[sqlite3.Connection], Any]) -> asyncio.Future[Any]:
        """Queue ``work(conn)`` to run in a write transaction; the future gets its result."""
        job = _Job(*self._new_future(), work=work)
        self._hand_over()  # the rows recorded before it go first
        self._queue.put([job])
        return job.future

    def stop(self) -> None:
        """Finish the queued jobs, close the connection and end the thread."""
        self._hand_over()
        self._queue.put(None)

    def run(self) -> None:
        """Take jobs until the stop sentinel; consecutive record jobs share one commit."""
        backlog: deque[list[_Job] | None] = deque()
        try:
            while True:
                batch = backlog.popleft() if backlog else self._queue.get()
                if batch is None:
                    return
                if batch[0].work is not None:
                    self._run_work(batch[0])
                    continue
                group = list(batch)
                while not backlog and len(group) < MAX_GROUP:
                    try:
                        queued = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if queued is not None and queued[0].work is None:
                        group += queued
                    else:
                        backlog.append(queued)
                self._write(group)
        finally:
            self._conn.close()

    def _new_future(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]:
        loop = asyncio.get_running_loop()
        return loop, loop.create_future()

    def _hand_over(self) -> None:
        """Pass this turn's record jobs to the thread as one batch."""
        if self._this_turn:
            batch, self._this_turn = self._this_turn, []
            self._queue.put(batch)

    def _write(self, group: list[_Job]) -> None:
        try:
            with transaction(self._conn):
                for job in group:
                    self._conn.executemany(INSERT, [row_values(row) for row in job.rows])
        except (sqlite3.Error, ValueError, TypeError) as err:
            if len(group) > 1:  # isolate the failing job so the others still land
                for job in group:
                    self._write([job])
                return
            _LOGGER.warning("Ledger write of %d row(s) failed: %s", len(group[0].rows), err)
            _settle(group[0], error=LedgerError(f"Cannot write to the usage ledger: {err}"))
            return
        self.commits += 1
        _settle_all(group)

    def _run_work(self, job: _Job) -> None:
        assert job.work is not None
        try:
            with transaction(self._conn):
                result = job.work(self._conn)
        except sqlite3.Error as err:
            _LOGGER.warning("Ledger maintenance failed: %s", err)
            _settle(job, error=LedgerError(f"Usage ledger operation failed: {err}"))
            return
        self.commits += 1
        _settle(job, result=result)


def _settle_all(jobs: Sequence[_Job]) -> None:
    """Resolve committed record jobs, with one wake-up of each loop they came from."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
    for job in jobs:
        by_loop.setdefault(job.loop, []).append(job)
    for loop, waiting in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_resolve, waiting)


def _resolve(jobs: list[_Job]) -> None:
    for job in jobs:
        if not job.future.done():  # a cancelled caller's rows landed all the same
            job.future.set_result(None)


def _settle(job: _Job, *, result: Any = None, error: BaseException | None = None) -> None:
    def resolve() -> None:
        if job.future.done():  # the caller was cancelled; the rows landed all the same
            return
        if error is None:
            job.future.set_result(result)
        else:
            job.future.set_exception(error)

    with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
        job.loop.call_soon_threadsafe(resolve)
