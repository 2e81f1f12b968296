"""The ledger records each attempt's capability and its units (audio, characters, images)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from addon.ledger import LEDGER_FILE, Ledger
from addon.ledger.schema import MIGRATIONS, migrate, user_version
from tests.addon.test_ledger import DAY0, NOW, at, row

MEDIA_ROWS = [
    row(at(0, 9), "chat", model="gpt-4.1-mini", input_tokens=100, output_tokens=20, cost_usd=0.01),
    row(at(0, 10), "emb", model="text-embedding-3-small", capability="embeddings",
        input_tokens=4000, cost_usd=0.00008),
    row(at(0, 11), "stt", model="whisper-1", capability="transcription", audio_seconds=90.5,
        cost_usd=0.00905),
    row(at(0, 12), "tts", model="tts-1", capability="speech", characters=1200, cost_usd=0.018),
    row(at(0, 13), "img", model="dall-e-3", capability="images", images=2, cost_usd=0.08),
    row(at(0, 14), "img2", model="dall-e-3", capability="images", outcome="provider_timeout"),
]  # fmt: skip


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    ledger = Ledger(tmp_path, clock=lambda: NOW)
    await ledger.open()
    yield ledger
    await ledger.close()


async def test_capability_and_units_come_back_as_written(ledger: Ledger) -> None:
    await ledger.record(MEDIA_ROWS)
    records = {r.request_id: r.to_dict() for r in await ledger.recent(10)}
    assert {rid: r["capability"] for rid, r in records.items()} == {
        "chat": "chat",
        "emb": "embeddings",
        "stt": "transcription",
        "tts": "speech",
        "img": "images",
        "img2": "images",
    }
    units = records["stt"]["attempts"][0]
    assert (units["audio_seconds"], units["characters"], units["images"]) == (90.5, 0, 0)
    assert records["tts"]["attempts"][0]["characters"] == 1200
    assert records["img"]["attempts"][0]["images"] == 2


async def test_the_report_breaks_usage_down_by_capability(ledger: Ledger) -> None:
    await ledger.record(MEDIA_ROWS)
    report = (await ledger.usage(DAY0, NOW)).to_dict()
    by = report["by_capability"]
    assert sorted(by) == ["chat", "embeddings", "images", "speech", "transcription"]
    assert by["images"]["requests"] == 2
    assert by["images"]["succeeded"] == 1
    assert by["images"]["images"] == 2
    assert by["transcription"]["audio_seconds"] == pytest.approx(90.5)
    assert by["speech"]["characters"] == 1200
    assert by["embeddings"]["input_tokens"] == 4000
    totals = report["totals"]
    assert (totals["audio_seconds"], totals["characters"], totals["images"]) == (90.5, 1200, 2)
    assert totals["cost_usd"] == pytest.approx(0.01 + 0.00008 + 0.00905 + 0.018 + 0.08)


async def test_a_version_3_ledger_keeps_its_rows_as_chat(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_FILE
    with closing(sqlite3.connect(path, autocommit=True)) as conn, conn:
        migrate(conn, MIGRATIONS[:3])
        conn.execute("INSERT INTO attempts (ts, request_id, provider, model, input_tokens,"
                     " output_tokens, cost_usd, latency_ms, outcome, tool_calls) VALUES (?, 'old',"
                     " 'openai', 'gpt-4o', 10, 5, 0.25, 30, 'ok', 1)", (at(0, 1),))  # fmt: skip
    ledger = Ledger(tmp_path, clock=lambda: NOW)
    await ledger.open()
    await ledger.record([MEDIA_ROWS[2]])
    report = await ledger.usage(DAY0, NOW)
    records = {r.request_id: r for r in await ledger.recent(5)}
    await ledger.close()
    old = records["old"].attempts[0]
    assert (old.capability, old.audio_seconds, old.characters, old.images, old.tool_calls) == (
        "chat",
        0.0,
        0,
        0,
        1,
    )
    assert records["stt"].attempts[0].audio_seconds == 90.5
    assert set(report.by_capability) == {"chat", "transcription"}
    with closing(sqlite3.connect(path)) as conn, conn:
        assert user_version(conn) == len(MIGRATIONS)
