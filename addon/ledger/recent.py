"""Recent requests: ledger rows grouped back into requests, each with its attempt trail.

The ledger keeps one row per attempt, written when the attempt ends. A request's outcome is
``ok`` when one attempt succeeded, else the outcome of its last attempt; its provider and model
are those of the answering (or last) attempt; its latency runs from the start of its first
attempt to the end of its last one, so backoff between attempts is included. Attempts that were
skipped without a call (an open circuit, a spent budget) never reach the ledger.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from addon.ledger.report import OK, LedgerRow


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the ledger remembers it (never its prompt or images)."""

    request_id: str
    attempts: tuple[LedgerRow, ...]

    @property
    def answer(self) -> LedgerRow:
        """The attempt that answered, else the last one."""
        return next((a for a in self.attempts if a.outcome == OK), self.attempts[-1])

    @property
    def started(self) -> float:
        """Unix time the first attempt began."""
        first = self.attempts[0]
        return first.ts - first.latency_ms / 1000

    @property
    def ended(self) -> float:
        """Unix time the last attempt ended."""
        return max(a.ts for a in self.attempts)

    def to_dict(self) -> dict[str, Any]:
        """JSON form with the attempt trail in order."""
        answer = self.answer
        return {
            "request_id": self.request_id,
            "ts": self.ended,
            "time": datetime.fromtimestamp(self.ended, UTC).isoformat(),
            "tag": answer.tag,
            "capability": answer.capability,
            "provider": answer.provider,
            "model": answer.model,
            "outcome": answer.outcome,
            "cached": answer.cached,
            "input_tokens": sum(a.input_tokens for a in self.attempts),
            "output_tokens": sum(a.output_tokens for a in self.attempts),
            "cost_usd": math.fsum(a.cost_usd for a in self.attempts),
            "latency_ms": round(max(0.0, self.ended - self.started) * 1000, 1),
            "attempts": [_attempt(a) for a in self.attempts],
        }


def group_requests(rows: Iterable[LedgerRow]) -> list[RequestRecord]:
    """Group rows by request id, newest request first, attempts in the order they ended."""
    grouped: dict[str, list[LedgerRow]] = {}
    for row in rows:
        grouped.setdefault(row.request_id, []).append(row)
    records = [
        RequestRecord(request_id, tuple(sorted(attempts, key=lambda a: a.ts)))
        for request_id, attempts in grouped.items()
    ]
    return sorted(records, key=lambda r: r.ended, reverse=True)


def _attempt(row: LedgerRow) -> dict[str, Any]:
    return {
        "provider": row.provider,
        "model": row.model,
        "outcome": row.outcome,
        "latency_ms": row.latency_ms,
        "cost_usd": row.cost_usd,
        "input_tokens": row.input_tokens,
        "output_tokens": row.output_tokens,
        "cached": row.cached,
        "tool_calls": row.tool_calls,
        "audio_seconds": row.audio_seconds,
        "characters": row.characters,
        "images": row.images,
    }
