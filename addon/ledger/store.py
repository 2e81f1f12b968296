"""The usage ledger: one SQLite row per provider attempt, durable once acknowledged.

The database lives in the add-on's data directory (``ledger.sqlite3``) in WAL mode with
``synchronous=NORMAL``: when ``record`` returns, the rows are committed to the write-ahead log
in the operating system's hands, so they survive a kill of the process; the log is fsynced at
each checkpoint, so a power cut can lose the last commits (never the database's integrity);
an fsync per commit showed in the gateway's CPU and latency per request.
Writes go through one writer thread (group commit); reads use
their own connection in a worker thread, so neither blocks the event loop nor each other.
A file that is not a database is moved aside (``ledger.sqlite3.corrupt-<time>``) so the hub
still starts.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Final, TypeVar

from addon.ledger.recent import RequestRecord, group_requests
from addon.ledger.report import LedgerRow, UsageReport, build_report
from addon.ledger.schema import LedgerError, migrate
from addon.ledger.writer import WriterThread

_LOGGER = logging.getLogger(__name__)

LEDGER_FILE: Final = "ledger.sqlite3"
BUSY_TIMEOUT_MS: Final = 30_000  # another process (a backup, the sqlite3 CLI) may lock briefly
DAY: Final = 86_400.0

_T = TypeVar("_T")

COLUMNS: Final = (
    "ts, request_id, tag, provider, model, input_tokens, output_tokens, cost_usd, latency_ms,"
    " outcome, cached, tool_calls, capability, audio_seconds, characters, images"
)
SELECT_RANGE: Final = f"SELECT {COLUMNS} FROM attempts WHERE ts >= ? AND ts < ?"  # noqa: S608
# The newest ``?`` request ids (by their last attempt, among the newest ``?`` rows), then
# every attempt of those requests.
SELECT_RECENT: Final = f"""
    WITH latest AS (
        SELECT request_id, max(ts) AS last_ts
        FROM (SELECT ts, request_id FROM attempts ORDER BY ts DESC LIMIT ?)
        GROUP BY request_id ORDER BY last_ts DESC LIMIT ?
    )
    SELECT {COLUMNS} FROM attempts WHERE request_id IN (SELECT request_id FROM latest)
    ORDER BY id
"""  # noqa: S608
RECENT_SCAN: Final = 20  # rows scanned per request asked for (failovers add rows)


class Ledger:
    """The cost and usage ledger.

    ``path`` is the database file, or a directory to hold ``ledger.sqlite3``. ``clock`` gives
    "now" for retention and open-ended reports; ``tz`` sets the calendar days of ``by_day``.
    """

    def __init__(
        self, path: Path, *, clock: Callable[[], float] = time.time, tz: tzinfo = UTC
    ) -> None:
        self.path = path / LEDGER_FILE if path.is_dir() else path
        self._clock = clock
        self._tz = tz
        self._writer: WriterThread | None = None
        self._reader: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()

    @property
    def commits(self) -> int:
        """Write transactions committed since ``open`` (group commit makes it < record calls)."""
        return self._writer.commits if self._writer else 0

    async def open(self) -> None:
        """Open (creating or migrating) the database and start the writer thread."""
        if self._writer is not None:
            return
        writer_conn, self._reader = await asyncio.to_thread(self._connect)
        self._writer = WriterThread(writer_conn)
        self._writer.start()

    async def close(self) -> None:
        """Write everything queued, then close; safe to call twice."""
        writer, reader = self._writer, self._reader
        self._writer = self._reader = None
        if writer is not None:
            writer.stop()
            await asyncio.to_thread(writer.join)
        if reader is not None:
            with self._read_lock:
                reader.close()

    async def record(self, rows: Sequence[LedgerRow]) -> None:
        """Store ``rows`` in one transaction; returns only once they are committed."""
        if not rows:
            return
        await self._require_writer().submit_rows(rows)

    async def purge(self, older_than: float) -> int:
        """Delete rows from before ``older_than`` (Unix seconds); returns how many went."""

        def delete(conn: sqlite3.Connection) -> int:
            return conn.execute("DELETE FROM attempts WHERE ts < ?", (older_than,)).rowcount

        removed: int = await self._require_writer().submit_work(delete)
        if removed:
            _LOGGER.info("Ledger retention removed %d row(s)", removed)
        return removed

    async def purge_expired(self, retention_days: float) -> int:
        """Apply the retention option: drop rows older than ``retention_days`` days."""
        return await self.purge(self._clock() - retention_days * DAY)

    async def usage(self, since: float, until: float | None = None) -> UsageReport:
        """Totals and breakdowns of the attempts in ``[since, until)`` (until: now)."""
        end = self._clock() if until is None else until

        def query(conn: sqlite3.Connection) -> UsageReport:
            cursor = conn.execute(SELECT_RANGE, (since, end))
            rows = (_row(values) for values in cursor)
            return build_report(rows, since, end, self._tz)

        return await self._read(query)

    async def recent(self, limit: int) -> list[RequestRecord]:
        """The newest ``limit`` requests, newest first, each with all its attempts."""

        def query(conn: sqlite3.Connection) -> list[RequestRecord]:
            cursor = conn.execute(SELECT_RECENT, (limit * RECENT_SCAN, limit))
            return group_requests(_row(values) for values in cursor)[:limit]

        return await self._read(query)

    async def spent(self, since: float, provider: str | None = None) -> float:
        """USD recorded since ``since``, for one provider or (None) for all."""
        sql = "SELECT total(cost_usd) FROM attempts WHERE ts >= ?"
        params: tuple[float | str, ...] = (since,)
        if provider is not None:
            sql += " AND provider = ?"
            params = (since, provider)

        def query(conn: sqlite3.Connection) -> float:
            return float(conn.execute(sql, params).fetchone()[0])

        return await self._read(query)

    def _require_writer(self) -> WriterThread:
        if self._writer is None:
            raise LedgerError("The usage ledger is not open")
        return self._writer

    async def _read(self, query: Callable[[sqlite3.Connection], _T]) -> _T:
        if self._reader is None:
            raise LedgerError("The usage ledger is not open")
        reader = self._reader

        def run() -> _T:
            with self._read_lock:
                return query(reader)

        try:
            return await asyncio.to_thread(run)
        except sqlite3.Error as err:
            raise LedgerError(f"Cannot read the usage ledger: {err}") from err

    def _connect(self) -> tuple[sqlite3.Connection, sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            writer = _open_writer(self.path)
        except sqlite3.DatabaseError as err:
            if isinstance(err, sqlite3.OperationalError):
                raise LedgerError(f"Cannot open the usage ledger {self.path}: {err}") from err
            _set_aside(self.path, self._clock(), err)
            writer = _open_writer(self.path)
        reader = sqlite3.connect(self.path, autocommit=True, check_same_thread=False)
        reader.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        reader.execute("PRAGMA query_only = ON")
        return writer, reader


def _open_writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, autocommit=True, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        _enable_wal(conn, path)
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _enable_wal(conn: sqlite3.Connection, path: Path) -> None:
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise LedgerError(f"The usage ledger {path} cannot use WAL mode (got {mode})")


def _set_aside(path: Path, now: float, err: sqlite3.DatabaseError) -> None:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    _LOGGER.error("Usage ledger %s is unreadable (%s); moved it to %s", path, err, target.name)
    path.replace(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(target.with_name(target.name + suffix))


def _row(values: tuple[object, ...]) -> LedgerRow:
    (ts, request_id, tag, provider, model, tokens_in, tokens_out, cost, latency, outcome, cached,
     tool_calls, capability, audio_seconds, characters, images) = values  # fmt: skip
    return LedgerRow(
        ts=float(ts),  # type: ignore[arg-type]
        request_id=str(request_id),
        tag=None if tag is None else str(tag),
        provider=str(provider),
        model=str(model),
        input_tokens=int(tokens_in),  # type: ignore[call-overload]
        output_tokens=int(tokens_out),  # type: ignore[call-overload]
        cost_usd=float(cost),  # type: ignore[arg-type]
        latency_ms=float(latency),  # type: ignore[arg-type]
        outcome=str(outcome),
        cached=bool(cached),
        tool_calls=int(tool_calls),  # type: ignore[call-overload]
        capability=str(capability),
        audio_seconds=float(audio_seconds),  # type: ignore[arg-type]
        characters=int(characters),  # type: ignore[call-overload]
        images=int(images),  # type: ignore[call-overload]
    )
