"""The ledger's SQLite schema and its migrations (``PRAGMA user_version`` is the version)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from addon.errors import HubError


class LedgerError(HubError):
    """The ledger cannot be opened or written."""

    key = "ledger_error"
    status = 500


Migration = Callable[[sqlite3.Connection], None]


def _v1_attempts(conn: sqlite3.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            request_id TEXT NOT NULL,
            tag TEXT,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cost_usd REAL NOT NULL,
            latency_ms REAL NOT NULL,
            outcome TEXT NOT NULL,
            cached INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    conn.execute("CREATE INDEX attempts_ts ON attempts (ts)")
    conn.execute("CREATE INDEX attempts_provider_ts ON attempts (provider, ts)")


def _v2_tool_calls(conn: sqlite3.Connection) -> None:
    # Rows written before tool calling made none: 0 is their true count.
    conn.execute("ALTER TABLE attempts ADD COLUMN tool_calls INTEGER NOT NULL DEFAULT 0")


def _v3_request_index(conn: sqlite3.Connection) -> None:
    # The dashboard's recent requests look attempts up by request id.
    conn.execute("CREATE INDEX attempts_request ON attempts (request_id)")


def _v4_capabilities(conn: sqlite3.Connection) -> None:
    # Rows written before other capabilities existed were chat (or vision) requests and used
    # tokens only: the defaults are their true values.
    conn.execute("ALTER TABLE attempts ADD COLUMN capability TEXT NOT NULL DEFAULT 'chat'")
    conn.execute("ALTER TABLE attempts ADD COLUMN audio_seconds REAL NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE attempts ADD COLUMN characters INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE attempts ADD COLUMN images INTEGER NOT NULL DEFAULT 0")


# MIGRATIONS[n] takes a database from version n to n + 1; append, never edit a released one.
MIGRATIONS: list[Migration] = [
    _v1_attempts,
    _v2_tool_calls,
    _v3_request_index,
    _v4_capabilities,
]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction on an autocommit connection: committed on exit, rolled back on error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def user_version(conn: sqlite3.Connection) -> int:
    """The schema version stored in the database file (0 for a new file)."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, migrations: list[Migration] | None = None) -> int:
    """Bring the schema up to date, one transaction per step; returns the final version."""
    steps = MIGRATIONS if migrations is None else migrations
    version = user_version(conn)
    if version > len(steps):
        raise LedgerError(
            f"The usage ledger has schema version {version}, newer than this add-on "
            f"understands ({len(steps)}); update the add-on"
        )
    for target in range(version + 1, len(steps) + 1):
        with transaction(conn):
            steps[target - 1](conn)
            conn.execute(f"PRAGMA user_version = {target:d}")
    return len(steps)
