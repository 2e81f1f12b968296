"""Usage reports: totals and breakdowns of ledger rows over a time range.

A *request* is a distinct request id; it *succeeded* when one of its attempts has outcome
``ok``. An *attempt* is one ledger row: one call to one provider (a cache hit is one attempt
too), so a request that failed over counts once in the totals and once under every provider it
tried, with one attempt each. Tokens and cost are summed over every attempt (a failed attempt
may still have been billed). Latency percentiles describe providers, so they cover ``ok``
attempts that were not answered from the cache; they interpolate linearly between the closest
ranks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

OK: str = "ok"


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One attempt at one provider, as the ledger stores it."""

    ts: float
    request_id: str
    tag: str | None
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float
    outcome: str
    cached: bool = False
    tool_calls: int = 0  # tool calls the model made in this attempt
    capability: str = "chat"  # addon.models.Capability's value
    audio_seconds: float = 0.0  # audio transcribed or spoken
    characters: int = 0  # characters spoken
    images: int = 0  # images generated


@dataclass(frozen=True, slots=True)
class UsageStats:
    """Figures of one group of rows (everything, one provider, one model, one tag or day)."""

    requests: int = 0
    succeeded: int = 0
    failed: int = 0
    attempts: int = 0
    failed_attempts: int = 0
    success_rate: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    audio_seconds: float = 0.0
    characters: int = 0
    images: int = 0
    cost_usd: float = 0.0
    avg_latency_ms: float | None = None
    p50_latency_ms: float | None = None
    p95_latency_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``None`` where a figure is undefined, e.g. no successful attempt)."""
        return {
            "requests": self.requests,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "attempts": self.attempts,
            "failed_attempts": self.failed_attempts,
            "success_rate": self.success_rate,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "audio_seconds": self.audio_seconds,
            "characters": self.characters,
            "images": self.images,
            "cost_usd": self.cost_usd,
            "avg_latency_ms": self.avg_latency_ms,
            "p50_latency_ms": self.p50_latency_ms,
            "p95_latency_ms": self.p95_latency_ms,
        }


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Usage between ``since`` (inclusive) and ``until`` (exclusive), Unix seconds."""

    since: float
    until: float
    tz: tzinfo
    totals: UsageStats
    by_provider: Mapping[str, UsageStats] = field(default_factory=dict)
    by_model: Mapping[str, UsageStats] = field(default_factory=dict)
    by_tag: Mapping[str, UsageStats] = field(default_factory=dict)
    by_capability: Mapping[str, UsageStats] = field(default_factory=dict)
    by_day: Mapping[str, UsageStats] = field(default_factory=dict)
    by_day_provider: Mapping[str, Mapping[str, UsageStats]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ISO range, totals and the breakdowns (keys sorted)."""
        return {
            "since": datetime.fromtimestamp(self.since, self.tz).isoformat(),
            "until": datetime.fromtimestamp(self.until, self.tz).isoformat(),
            "totals": self.totals.to_dict(),
            "by_provider": _dicts(self.by_provider),
            "by_model": _dicts(self.by_model),
            "by_tag": _dicts(self.by_tag),
            "by_capability": _dicts(self.by_capability),
            "by_day": _dicts(self.by_day),
            "by_day_provider": {
                day: _dicts(self.by_day_provider[day]) for day in sorted(self.by_day_provider)
            },
        }


def mean(values: list[float]) -> float | None:
    """The arithmetic mean of ``values`` to 0.1; None when empty."""
    return round(math.fsum(values) / len(values), 1) if values else None


def percentile(values: list[float], p: float) -> float | None:
    """The ``p``-th percentile (0-100) of ``values``, linear between ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _tenths(value: float | None) -> float | None:
    """Rounded to 0.1 like ``mean`` (latencies are milliseconds measured to 0.1)."""
    return None if value is None else round(value, 1)


class _Bucket:
    """Accumulates one group's rows."""

    __slots__ = (
        "attempts",
        "audio",
        "characters",
        "costs",
        "failed_attempts",
        "images",
        "input_tokens",
        "latencies",
        "ok_ids",
        "output_tokens",
        "request_ids",
    )

    def __init__(self) -> None:
        self.request_ids: set[str] = set()
        self.ok_ids: set[str] = set()
        self.attempts = 0
        self.failed_attempts = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.audio: list[float] = []
        self.characters = 0
        self.images = 0
        self.costs: list[float] = []
        self.latencies: list[float] = []

    def add(self, row: LedgerRow) -> None:
        self.request_ids.add(row.request_id)
        self.attempts += 1
        self.input_tokens += row.input_tokens
        self.output_tokens += row.output_tokens
        self.audio.append(row.audio_seconds)
        self.characters += row.characters
        self.images += row.images
        self.costs.append(row.cost_usd)
        if row.outcome == OK:
            self.ok_ids.add(row.request_id)
            if not row.cached:
                self.latencies.append(row.latency_ms)
        else:
            self.failed_attempts += 1

    def stats(self) -> UsageStats:
        requests = len(self.request_ids)
        succeeded = len(self.ok_ids)
        return UsageStats(
            requests=requests,
            succeeded=succeeded,
            failed=requests - succeeded,
            attempts=self.attempts,
            failed_attempts=self.failed_attempts,
            success_rate=succeeded / requests if requests else None,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            audio_seconds=math.fsum(self.audio),
            characters=self.characters,
            images=self.images,
            cost_usd=math.fsum(self.costs),
            avg_latency_ms=mean(self.latencies),
            p50_latency_ms=_tenths(percentile(self.latencies, 50)),
            p95_latency_ms=_tenths(percentile(self.latencies, 95)),
        )


class _Grouping:
    """Buckets keyed by one attribute of a row (rows whose key is None are left out)."""

    def __init__(self, key: Callable[[LedgerRow], str | None]) -> None:
        self._key = key
        self._buckets: dict[str, _Bucket] = {}

    def add(self, row: LedgerRow) -> None:
        name = self._key(row)
        if name is not None:
            self._buckets.setdefault(name, _Bucket()).add(row)

    def stats(self) -> dict[str, UsageStats]:
        return {name: self._buckets[name].stats() for name in sorted(self._buckets)}


def build_report(rows: Iterable[LedgerRow], since: float, until: float, tz: tzinfo) -> UsageReport:
    """Aggregate ``rows`` (already limited to the range) into a report; days are in ``tz``."""
    totals = _Bucket()
    groups = {
        "provider": _Grouping(lambda row: row.provider),
        "model": _Grouping(lambda row: row.model),
        "tag": _Grouping(lambda row: row.tag),
        "capability": _Grouping(lambda row: row.capability),
        "day": _Grouping(lambda row: day_of(row.ts, tz)),
        "day_provider": _Grouping(lambda row: f"{day_of(row.ts, tz)} {row.provider}"),
    }
    for row in rows:
        totals.add(row)
        for grouping in groups.values():
            grouping.add(row)
    return UsageReport(
        since=since,
        until=until,
        tz=tz,
        totals=totals.stats(),
        by_provider=groups["provider"].stats(),
        by_model=groups["model"].stats(),
        by_tag=groups["tag"].stats(),
        by_capability=groups["capability"].stats(),
        by_day=groups["day"].stats(),
        by_day_provider=_nest(groups["day_provider"].stats()),
    )


def day_of(ts: float, tz: tzinfo) -> str:
    """The calendar day (``YYYY-MM-DD``) of a timestamp in ``tz``."""
    return datetime.fromtimestamp(ts, tz).date().isoformat()


def _nest(stats: Mapping[str, UsageStats]) -> dict[str, dict[str, UsageStats]]:
    """``{"<day> <provider>": s}`` -> ``{day: {provider: s}}`` (days never contain a space)."""
    nested: dict[str, dict[str, UsageStats]] = {}
    for key, value in stats.items():
        day, _, provider = key.partition(" ")
        nested.setdefault(day, {})[provider] = value
    return nested


def _dicts(stats: Mapping[str, UsageStats]) -> dict[str, dict[str, Any]]:
    return {name: stats[name].to_dict() for name in sorted(stats)}
