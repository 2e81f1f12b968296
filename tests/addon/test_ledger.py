"""The usage ledger: storage, reports, retention, concurrency, a free event loop, kills."""

from __future__ import annotations

import asyncio
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from addon.ledger import LEDGER_FILE, Ledger, LedgerError, LedgerRow, percentile
from addon.ledger.report import build_report
from addon.ledger.schema import MIGRATIONS, migrate, user_version
from tests.addon.ledger_writer import rows_of

DAY = 86_400.0
DAY0 = datetime(2025, 3, 1, tzinfo=UTC).timestamp()
NOW = DAY0 + 10 * DAY
STAT_KEYS = {
    "requests",
    "succeeded",
    "failed",
    "attempts",
    "failed_attempts",
    "success_rate",
    "input_tokens",
    "output_tokens",
    "audio_seconds",
    "characters",
    "images",
    "cost_usd",
    "avg_latency_ms",
    "p50_latency_ms",
    "p95_latency_ms",
}


def at(day: int, hour: float) -> float:
    return DAY0 + day * DAY + hour * 3600


def row(ts: float, request_id: str, provider: str = "openai", **fields: Any) -> LedgerRow:
    values: dict[str, Any] = {
        "tag": None,
        "model": f"{provider}-model",
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_usd": 0.0,
        "latency_ms": 0.0,
        "outcome": "ok",
    }
    values.update(fields)
    return LedgerRow(ts=ts, request_id=request_id, provider=provider, **values)


# Six requests over three days: a failover, plain successes, a local call at 23:59:59,
# a request that failed everywhere and a cached answer.
ROWS = [
    row(at(0, 10), "a", "openai", model="gpt-4.1-mini", tag="doorbell", latency_ms=5000.0,
        outcome="provider_timeout"),
    row(at(0, 10), "a", "anthropic", model="claude-haiku-4-5", tag="doorbell", input_tokens=1000,
        output_tokens=200, cost_usd=0.002, latency_ms=800.0),
    row(at(0, 11), "b", "openai", model="gpt-4.1-mini", tag="doorbell", input_tokens=500,
        output_tokens=100, cost_usd=0.00036, latency_ms=400.0),
    row(at(0, 24) - 1, "c", "ollama", model="gemma3:4b", input_tokens=300, output_tokens=50,
        latency_ms=2000.0),
    row(at(1, 8), "d", "openai", model="gpt-4.1-mini", tag="kitchen", latency_ms=100.0,
        outcome="provider_rate_limited"),
    row(at(1, 8), "d", "anthropic", model="claude-haiku-4-5", tag="kitchen", latency_ms=50.0,
        outcome="provider_connection"),
    row(at(1, 9), "e", "openai", model="gpt-4.1-mini", tag="kitchen", input_tokens=500,
        output_tokens=100, latency_ms=1.0, cached=True),
    row(at(2, 12), "f", "gemini", model="gemini-2.5-flash", input_tokens=2000,
        output_tokens=400, cost_usd=0.0016, latency_ms=600.0, tool_calls=2),
]  # fmt: skip


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    ledger = Ledger(tmp_path, clock=lambda: NOW)
    await ledger.open()
    yield ledger
    await ledger.close()


def stored(path: Path) -> list[LedgerRow]:
    with closing(sqlite3.connect(path)) as conn, conn:
        cursor = conn.execute(
            "SELECT ts, request_id, tag, provider, model, input_tokens, output_tokens, cost_usd,"
            " latency_ms, outcome, cached, tool_calls FROM attempts ORDER BY id"
        )
        return [as_row(values) for values in cursor]


def as_row(values: tuple[Any, ...]) -> LedgerRow:
    ts, request_id, tag, provider, model, tokens_in, tokens_out, cost, latency = values[:9]
    outcome, cached, tool_calls = values[9:]
    return LedgerRow(
        ts, request_id, tag, provider, model, tokens_in, tokens_out, cost, latency, outcome,
        cached=bool(cached), tool_calls=tool_calls,
    )  # fmt: skip


# --- storage -------------------------------------------------------------------------
async def test_rows_round_trip_through_a_reopened_ledger(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    await ledger.open()
    await ledger.record(ROWS[:3])
    await ledger.record(ROWS[3:])
    await ledger.record([])
    await ledger.close()
    await ledger.close()
    assert stored(tmp_path / LEDGER_FILE) == ROWS

    again = Ledger(tmp_path / LEDGER_FILE)
    await again.open()
    assert (await again.usage(DAY0, NOW)).totals.requests == 6
    await again.close()


async def test_database_is_wal_with_a_versioned_schema(ledger: Ledger) -> None:
    with closing(sqlite3.connect(ledger.path)) as conn, conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert user_version(conn) == len(MIGRATIONS) == 4
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"attempts_ts", "attempts_provider_ts", "attempts_request"} <= indexes


async def test_use_outside_open_and_close_is_an_error(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    with pytest.raises(LedgerError, match="not open"):
        await ledger.record(ROWS)
    with pytest.raises(LedgerError, match="not open"):
        await ledger.spent(0)
    await ledger.open()
    await ledger.close()
    with pytest.raises(LedgerError, match="not open"):
        await ledger.purge(NOW)


def test_migrate_applies_later_steps_once_and_keeps_rows(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.sqlite3", autocommit=True)
    assert migrate(conn, MIGRATIONS[:1]) == 1  # a ledger from the first release
    conn.execute("INSERT INTO attempts (ts, request_id, provider, model, input_tokens,"
                 " output_tokens, cost_usd, latency_ms, outcome) VALUES (1, 'r', 'p', 'm', 1, 2,"
                 " 0.5, 3, 'ok')")  # fmt: skip
    calls: list[int] = []

    def add_column(c: sqlite3.Connection) -> None:
        calls.append(1)
        c.execute("ALTER TABLE attempts ADD COLUMN region TEXT DEFAULT 'eu'")

    steps = [*MIGRATIONS, add_column]
    assert migrate(conn, steps) == len(steps)
    assert migrate(conn, steps) == len(steps)
    assert calls == [1]
    assert user_version(conn) == len(steps)
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "attempts_request" in indexes  # added to the old ledger on the way
    assert conn.execute("SELECT request_id, region FROM attempts").fetchall() == [("r", "eu")]
    with pytest.raises(LedgerError, match="newer than this add-on"):
        migrate(conn, MIGRATIONS[:1])
    conn.close()


async def test_a_version_1_ledger_gains_tool_calls_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_FILE
    with closing(sqlite3.connect(path, autocommit=True)) as conn, conn:
        migrate(conn, MIGRATIONS[:1])
        conn.execute("INSERT INTO attempts (ts, request_id, provider, model, input_tokens,"
                     " output_tokens, cost_usd, latency_ms, outcome) VALUES (?, 'old', 'openai',"
                     " 'gpt-4.1-mini', 10, 5, 0.25, 30, 'ok')", (at(0, 1),))  # fmt: skip
    ledger = Ledger(tmp_path, clock=lambda: NOW)
    await ledger.open()
    await ledger.record([row(at(0, 2), "new", tool_calls=3)])
    report = await ledger.usage(DAY0, NOW)
    await ledger.close()
    assert report.totals.requests == 2
    assert report.totals.cost_usd == pytest.approx(0.25)
    assert [(r.request_id, r.tool_calls) for r in stored(path)] == [("old", 0), ("new", 3)]
    with closing(sqlite3.connect(path)) as conn, conn:
        assert user_version(conn) == len(MIGRATIONS)


async def test_a_ledger_from_a_newer_add_on_is_refused_not_destroyed(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_FILE
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("PRAGMA user_version = 7")
    with pytest.raises(LedgerError, match="schema version 7"):
        await Ledger(tmp_path).open()
    with closing(sqlite3.connect(path)) as conn, conn:
        assert user_version(conn) == 7


async def test_a_file_that_is_not_a_database_is_set_aside(tmp_path: Path) -> None:
    (tmp_path / LEDGER_FILE).write_bytes(b"this is not sqlite " * 300)
    ledger = Ledger(tmp_path, clock=lambda: NOW)
    await ledger.open()
    await ledger.record(ROWS[:1])
    await ledger.close()
    (aside,) = tmp_path.glob(f"{LEDGER_FILE}.corrupt-*")
    assert aside.read_bytes().startswith(b"this is not sqlite")
    assert stored(tmp_path / LEDGER_FILE) == ROWS[:1]


# --- reports ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        # requests, succeeded, failed, input tokens, output tokens, cost
        (DAY0, at(3, 0), (6, 5, 1, 4300, 850, 0.00396)),
        (at(0, 0), at(1, 0), (3, 3, 0, 1800, 350, 0.00236)),
        (at(0, 0), at(0, 24) - 1, (2, 2, 0, 1500, 300, 0.00236)),  # until is exclusive
        (at(0, 24) - 1, at(0, 24), (1, 1, 0, 300, 50, 0.0)),  # since is inclusive
        (at(1, 0), at(2, 0), (2, 1, 1, 500, 100, 0.0)),
        (at(2, 0), at(2, 12), (0, 0, 0, 0, 0, 0.0)),
    ],
)
async def test_report_totals_over_ranges(
    ledger: Ledger, since: float, until: float, expected: tuple[int, ...]
) -> None:
    await ledger.record(ROWS)
    totals = (await ledger.usage(since, until)).to_dict()["totals"]
    requests, succeeded, failed, tokens_in, tokens_out, cost = expected
    assert (totals["requests"], totals["succeeded"], totals["failed"]) == (
        requests,
        succeeded,
        failed,
    )
    assert (totals["input_tokens"], totals["output_tokens"]) == (tokens_in, tokens_out)
    assert totals["cost_usd"] == pytest.approx(cost, abs=1e-12)
    assert totals["success_rate"] == (pytest.approx(succeeded / requests) if requests else None)


async def test_report_shape_and_breakdowns(ledger: Ledger) -> None:
    await ledger.record(ROWS)
    report = (await ledger.usage(DAY0, at(3, 0))).to_dict()
    assert list(report) == ["since", "until", "totals", "by_provider", "by_model", "by_tag",
                            "by_capability", "by_day", "by_day_provider"]  # fmt: skip
    assert report["since"] == "2025-03-01T00:00:00+00:00"
    assert report["until"] == "2025-03-04T00:00:00+00:00"
    groups = [report["totals"]] + [
        stats for key in ("by_provider", "by_model", "by_tag", "by_day") for stats in
        report[key].values()
    ]  # fmt: skip
    assert all(set(stats) == STAT_KEYS for stats in groups)

    assert list(report["by_provider"]) == ["anthropic", "gemini", "ollama", "openai"]
    openai = report["by_provider"]["openai"]
    assert (openai["requests"], openai["succeeded"], openai["failed"]) == (4, 2, 2)
    assert openai["success_rate"] == 0.5
    assert (openai["input_tokens"], openai["output_tokens"]) == (1000, 200)
    assert openai["p50_latency_ms"] == openai["p95_latency_ms"] == 400.0  # cached hit left out
    anthropic = report["by_provider"]["anthropic"]
    assert (anthropic["requests"], anthropic["succeeded"], anthropic["p50_latency_ms"]) == (
        2,
        1,
        800.0,
    )
    assert report["by_model"]["gpt-4.1-mini"]["requests"] == 4
    assert report["by_model"]["gemma3:4b"]["cost_usd"] == 0.0

    assert list(report["by_tag"]) == ["doorbell", "kitchen"]  # untagged rows: totals only
    assert report["by_tag"]["doorbell"]["requests"] == 2
    assert report["by_tag"]["doorbell"]["cost_usd"] == pytest.approx(0.00236)
    assert report["by_tag"]["kitchen"]["succeeded"] == 1

    by_day = report["by_day"]
    assert list(by_day) == ["2025-03-01", "2025-03-02", "2025-03-03"]
    assert [by_day[d]["requests"] for d in by_day] == [3, 2, 1]

    totals = report["totals"]
    # ok, uncached attempt latencies: 400, 600, 800, 2000.
    assert totals["avg_latency_ms"] == pytest.approx(950.0)
    assert totals["p50_latency_ms"] == pytest.approx(700.0)
    assert totals["p95_latency_ms"] == pytest.approx(1820.0)


async def test_an_empty_range_has_undefined_rates_not_zeroes(ledger: Ledger) -> None:
    report = (await ledger.usage(DAY0)).to_dict()
    assert report["until"] == datetime.fromtimestamp(NOW, UTC).isoformat()  # until: the clock
    assert report["totals"] == {
        "requests": 0,
        "succeeded": 0,
        "failed": 0,
        "attempts": 0,
        "failed_attempts": 0,
        "success_rate": None,
        "input_tokens": 0,
        "output_tokens": 0,
        "audio_seconds": 0.0,
        "characters": 0,
        "images": 0,
        "cost_usd": 0.0,
        "avg_latency_ms": None,
        "p50_latency_ms": None,
        "p95_latency_ms": None,
    }
    assert report["by_provider"] == report["by_model"] == report["by_tag"] == {}
    assert report["by_capability"] == {}
    assert report["by_day"] == report["by_day_provider"] == {}


async def test_days_follow_the_ledgers_time_zone(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, tz=timezone(timedelta(hours=1)))
    await ledger.open()
    await ledger.record(ROWS)
    report = (await ledger.usage(DAY0, at(3, 0))).to_dict()
    await ledger.close()
    assert report["since"] == "2025-03-01T01:00:00+01:00"
    # Request c (23:59:59 UTC) belongs to the next local day.
    assert [report["by_day"][d]["requests"] for d in report["by_day"]] == [2, 3, 1]


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 50, None),
        ([7.0], 50, 7.0),
        ([7.0], 95, 7.0),
        ([10.0, 20.0], 50, 15.0),
        ([40.0, 10.0, 30.0, 20.0], 50, 25.0),
        ([10.0, 20.0, 30.0, 40.0], 95, 38.5),
        ([float(v) for v in range(1, 101)], 50, 50.5),
        ([float(v) for v in range(1, 101)], 95, 95.05),
        ([1.0, 1.0, 1.0, 100.0], 95, 85.15),
        ([3.0, 1.0, 2.0], 0, 1.0),
        ([3.0, 1.0, 2.0], 100, 3.0),
    ],
)
def test_percentile(values: list[float], p: float, expected: float | None) -> None:
    assert percentile(values, p) == (None if expected is None else pytest.approx(expected))


# --- spend and retention ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("since", "provider", "expected"),
    [
        (DAY0, None, 0.00396),
        (DAY0, "anthropic", 0.002),
        (DAY0, "openai", 0.00036),
        (DAY0, "ollama", 0.0),
        (DAY0, "nobody", 0.0),
        (at(0, 11), None, 0.00196),  # since is inclusive: b's row counts
        (at(0, 11) + 0.001, None, 0.0016),
        (at(2, 12), "gemini", 0.0016),
        (at(3, 0), None, 0.0),
    ],
)
async def test_spent(ledger: Ledger, since: float, provider: str | None, expected: float) -> None:
    await ledger.record(ROWS)
    assert await ledger.spent(since, provider) == pytest.approx(expected, abs=1e-12)


async def test_purge_removes_only_older_rows(ledger: Ledger) -> None:
    await ledger.record(ROWS)
    assert await ledger.purge(at(0, 11)) == 2
    assert await ledger.purge(at(0, 11)) == 0
    assert [r.request_id for r in stored(ledger.path)] == ["b", "c", "d", "d", "e", "f"]
    assert await ledger.spent(0) == pytest.approx(0.00196)


async def test_retention_counts_days_back_from_the_clock(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, clock=lambda: at(2, 12))
    await ledger.open()
    await ledger.record(ROWS)
    assert await ledger.purge_expired(1.5) == 4  # the rows before day 1, 00:00
    assert {r.request_id for r in stored(ledger.path)} == {"d", "e", "f"}
    await ledger.close()


# --- concurrency and the event loop ----------------------------------------------------
def many_rows(prefix: str, count: int) -> list[LedgerRow]:
    return [row(NOW - 1, f"{prefix}-{i}", cost_usd=0.001) for i in range(count)]


async def test_concurrent_records_all_land(ledger: Ledger) -> None:
    await asyncio.gather(*(ledger.record(many_rows(f"t{t}", 3)) for t in range(200)))
    rows = stored(ledger.path)
    assert len(rows) == 600
    assert {r.request_id for r in rows} == {f"t{t}-{i}" for t in range(200) for i in range(3)}
    assert await ledger.spent(0) == pytest.approx(0.6)


def lock_writes(path: Path) -> sqlite3.Connection:
    """Hold SQLite's write lock from another connection (as a backup tool might)."""
    blocker = sqlite3.connect(path, autocommit=True)
    blocker.execute("BEGIN IMMEDIATE")
    return blocker


async def test_the_event_loop_runs_while_a_write_waits_on_the_disk(ledger: Ledger) -> None:
    blocker = lock_writes(ledger.path)
    pending = asyncio.create_task(ledger.record(many_rows("blocked", 5)))
    ticks = 0
    while ticks < 500:  # a blocking write would never give this loop a turn
        await asyncio.sleep(0)
        ticks += 1
        assert not pending.done()
    assert await ledger.spent(0) == 0.0  # reads go on too
    blocker.execute("COMMIT")
    blocker.close()
    await pending
    assert len(stored(ledger.path)) == 5


async def test_a_ticker_keeps_ticking_during_a_large_batch(ledger: Ledger) -> None:
    events: list[str] = []

    async def ticker() -> None:
        while True:
            events.append("tick")
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    events.append("start")
    await ledger.record(many_rows("big", 5_000))
    events.append("done")
    ticking.cancel()
    between = events[events.index("start") + 1 : events.index("done")]
    assert between.count("tick") >= 1
    assert len(stored(ledger.path)) == 5_000


async def test_records_queued_during_a_commit_share_the_next_one(ledger: Ledger) -> None:
    blocker = lock_writes(ledger.path)
    before = ledger.commits
    tasks = [asyncio.create_task(ledger.record(many_rows(f"g{t}", 2))) for t in range(50)]
    for _ in range(5):
        await asyncio.sleep(0)  # every task has queued its rows
    blocker.execute("COMMIT")
    blocker.close()
    await asyncio.gather(*tasks)
    assert len(stored(ledger.path)) == 100
    assert ledger.commits - before <= 2  # the blocked group, then everyone else at once


async def test_records_of_one_turn_of_the_loop_share_one_commit(ledger: Ledger) -> None:
    before = ledger.commits
    await asyncio.gather(*(ledger.record(many_rows(f"t{t}", 1)) for t in range(20)))
    assert len(stored(ledger.path)) == 20
    assert ledger.commits - before == 1


async def test_maintenance_runs_after_the_rows_recorded_before_it(ledger: Ledger) -> None:
    recording = asyncio.ensure_future(ledger.record(many_rows("old", 3)))
    await asyncio.sleep(0)  # the rows are submitted, not yet handed to the writer
    removed = await ledger.purge(older_than=NOW)
    await recording
    assert removed == 3
    assert stored(ledger.path) == []


async def test_a_bad_record_fails_alone_in_its_group(ledger: Ledger) -> None:
    blocker = lock_writes(ledger.path)
    bad = [row(NOW, "bad", input_tokens="many")]
    tasks = [
        asyncio.create_task(ledger.record(many_rows("ok1", 2))),
        asyncio.create_task(ledger.record(bad)),
        asyncio.create_task(ledger.record(many_rows("ok2", 2))),
    ]
    for _ in range(5):
        await asyncio.sleep(0)
    blocker.execute("COMMIT")
    blocker.close()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] is None
    assert results[2] is None
    assert isinstance(results[1], LedgerError)
    assert sorted(r.request_id for r in stored(ledger.path)) == ["ok1-0", "ok1-1", "ok2-0", "ok2-1"]


async def test_close_writes_what_was_queued(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    await ledger.open()
    tasks = [asyncio.create_task(ledger.record(many_rows(f"q{t}", 1))) for t in range(20)]
    await asyncio.sleep(0)
    await ledger.close()
    await asyncio.gather(*tasks)
    assert len(stored(tmp_path / LEDGER_FILE)) == 20


# --- kill test -------------------------------------------------------------------------
KILL_ITERATIONS = 30
MAX_ACKS_BEFORE_KILL = 120
READ_DEADLINE = 20.0  # a hung helper fails the test instead of hanging it
WRITER = Path(__file__).with_name("ledger_writer.py")
REPO_ROOT = Path(__file__).resolve().parents[2]


def read_lines(proc: subprocess.Popen[bytes], buffer: bytearray, deadline: float) -> list[str]:
    """Complete lines available from the helper (waiting for at least some output)."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
    assert ready, "the ledger helper went silent"
    chunk = os.read(proc.stdout.fileno(), 65536)
    if not chunk:
        raise EOFError
    buffer.extend(chunk)
    *complete, rest = buffer.split(b"\n")
    buffer[:] = rest
    return [line.decode() for line in complete]


def run_until_killed(db: Path, run: int, seed: int, acks_before_kill: int) -> list[str]:
    """Start the helper, SIGKILL it after ``acks_before_kill`` acks; every id it acknowledged."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(db), str(run), str(seed)],
        stdout=subprocess.PIPE,
        env=env,
        cwd=REPO_ROOT,
    )
    acked: list[str] = []
    buffer = bytearray()
    deadline = time.monotonic() + READ_DEADLINE
    try:
        lines = read_lines(proc, buffer, deadline)
        while not lines or lines[0] != "ready":
            assert not lines, lines
            lines = read_lines(proc, buffer, deadline)
        lines = lines[1:]
        while True:
            acked += [line.split()[1] for line in lines if line.startswith("ack ")]
            if len(acked) >= acks_before_kill:
                break
            lines = read_lines(proc, buffer, deadline)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        while True:  # whatever it printed before dying was acknowledged too
            lines = read_lines(proc, buffer, deadline)
            acked += [line.split()[1] for line in lines if line.startswith("ack ")]
    except EOFError:
        pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    return acked


@pytest.mark.timeout(300)  # 30 helper processes killed mid-write
async def test_acknowledged_rows_survive_sigkill(tmp_path: Path) -> None:
    rng = random.Random(20250301)
    db = tmp_path / LEDGER_FILE
    acked: list[str] = []
    for run in range(KILL_ITERATIONS):
        acks = 0 if run % 10 == 0 else rng.randrange(1, MAX_ACKS_BEFORE_KILL)
        acked += await asyncio.to_thread(run_until_killed, db, run, rng.randrange(1 << 30), acks)
    with closing(sqlite3.connect(db)) as conn, conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = stored(db)
    by_request: dict[str, list[LedgerRow]] = {}
    for stored_row in rows:
        by_request.setdefault(stored_row.request_id, []).append(stored_row)
    missing = [request_id for request_id in acked if request_id not in by_request]
    assert not missing, f"{len(missing)} acknowledged request(s) lost, e.g. {missing[:5]}"
    for request_id, request_rows in by_request.items():  # every record call is all or nothing
        expected = rows_of(request_id, request_rows[0].ts)
        assert request_rows == expected, request_id
    assert len(acked) >= KILL_ITERATIONS
    print(
        f"\nledger kill test: {KILL_ITERATIONS} SIGKILLs, {len(acked)} acknowledged requests "
        f"all present, {len(by_request) - len(acked)} more committed but unacknowledged"
    )


def test_latency_percentiles_are_rounded_like_the_average() -> None:
    rows = [
        LedgerRow(
            ts=DAY0 + i, request_id=f"r{i}", tag=None, provider="openai", model="m",
            input_tokens=1, output_tokens=1, cost_usd=0.0, latency_ms=latency, outcome="ok",
        )
        for i, latency in enumerate([100.1, 200.2, 300.3, 400.4])
    ]  # fmt: skip
    totals = build_report(rows, DAY0, DAY0 + 10, UTC).totals
    assert totals.avg_latency_ms == 250.2
    assert totals.p50_latency_ms == 250.2  # 250.25 before rounding
    assert totals.p95_latency_ms == 385.4  # 385.385 before rounding
