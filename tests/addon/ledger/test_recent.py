"""Recent requests from the ledger, and the report's attempts and per-day-per-provider figures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from addon.ledger import Ledger
from tests.addon.test_ledger import DAY0, NOW, ROWS, at, row


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    ledger = Ledger(tmp_path, clock=lambda: NOW)
    await ledger.open()
    yield ledger
    await ledger.close()


async def test_requests_come_back_newest_first_with_their_attempts(ledger: Ledger) -> None:
    await ledger.record(ROWS)
    records = [r.to_dict() for r in await ledger.recent(10)]
    assert [r["request_id"] for r in records] == ["f", "e", "d", "c", "b", "a"]
    failover = records[-1]  # a: openai timed out after 5 s, anthropic answered in 0.8 s
    assert [(a["provider"], a["outcome"]) for a in failover["attempts"]] == [
        ("openai", "provider_timeout"),
        ("anthropic", "ok"),
    ]
    assert (failover["provider"], failover["model"], failover["outcome"]) == (
        "anthropic",
        "claude-haiku-4-5",
        "ok",
    )
    assert (failover["tag"], failover["input_tokens"], failover["cost_usd"]) == (
        "doorbell",
        1000,
        0.002,
    )
    assert failover["time"] == "2025-03-01T10:00:00+00:00"
    everywhere = records[2]  # d: both attempts failed; the outcome is the last one's
    assert (everywhere["outcome"], everywhere["provider"]) == ("provider_connection", "anthropic")
    assert records[1]["cached"] is True
    assert "prompt" not in str(records)


@pytest.mark.parametrize(("limit", "expected"), [(1, ["f"]), (3, ["f", "e", "d"]), (50, 6)])
async def test_the_limit_counts_requests_not_rows(
    ledger: Ledger, limit: int, expected: list[str] | int
) -> None:
    await ledger.record(ROWS)
    ids = [r.request_id for r in await ledger.recent(limit)]
    assert ids == expected if isinstance(expected, list) else len(ids) == expected
    if "d" in ids:  # both of d's attempts, although the limit counts d once
        d = next(r for r in await ledger.recent(limit) if r.request_id == "d")
        assert len(d.attempts) == 2


async def test_latency_spans_first_start_to_last_end(ledger: Ledger) -> None:
    await ledger.record([
        row(at(0, 0) + 2.0, "r", "openai", latency_ms=2000.0, outcome="provider_timeout"),
        row(at(0, 0) + 2.5, "r", "anthropic", latency_ms=300.0),
    ])  # fmt: skip
    (record,) = await ledger.recent(5)
    assert record.to_dict()["latency_ms"] == 2500.0  # 2 s, a 0.2 s backoff, 0.3 s


async def test_an_empty_ledger_has_no_recent_requests(ledger: Ledger) -> None:
    assert await ledger.recent(20) == []


async def test_attempts_are_named_beside_requests(ledger: Ledger) -> None:
    await ledger.record(ROWS)
    report = (await ledger.usage(DAY0, at(3, 0))).to_dict()
    totals = report["totals"]
    # Six requests made eight attempts: a failed over, d failed twice.
    assert (totals["requests"], totals["attempts"], totals["failed_attempts"]) == (6, 8, 3)
    openai = report["by_provider"]["openai"]
    assert (openai["requests"], openai["attempts"], openai["failed_attempts"]) == (4, 4, 2)
    per_provider = sum(s["requests"] for s in report["by_provider"].values())
    assert per_provider == 8 > totals["requests"]  # a failover counts under each provider tried


async def test_cost_per_day_per_provider(ledger: Ledger) -> None:
    await ledger.record(ROWS)
    days = (await ledger.usage(DAY0, at(3, 0))).to_dict()["by_day_provider"]
    assert {day: sorted(providers) for day, providers in days.items()} == {
        "2025-03-01": ["anthropic", "ollama", "openai"],
        "2025-03-02": ["anthropic", "openai"],
        "2025-03-03": ["gemini"],
    }
    assert days["2025-03-01"]["anthropic"]["cost_usd"] == pytest.approx(0.002)
    assert days["2025-03-01"]["openai"]["cost_usd"] == pytest.approx(0.00036)
    assert days["2025-03-03"]["gemini"]["requests"] == 1
    for day, providers in days.items():
        assert sum(p["cost_usd"] for p in providers.values()) == pytest.approx(
            (await ledger.usage(DAY0, at(3, 0))).to_dict()["by_day"][day]["cost_usd"]
        )
