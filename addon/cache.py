"""Exact-match response cache: canonical request keys, LRU order, TTL and a memory bound.

The cache answers only a request identical in every way that can change the answer: the
messages (images by the SHA-256 of their bytes), the pinned provider and model, the sampling
parameters, the requested structure and tools, and the set of candidate providers (so a route
change never serves a stale provider). A media request (embeddings...) counts by its whole body
(audio by the SHA-256 of its bytes), its pinned provider and the candidates. The tag, the
strategy and the request id do not count. It is used from the event loop only, so it needs no
lock.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from addon.models import (
    HubRequest,
    HubResponse,
    MediaRequest,
    MediaResponse,
    Message,
    ToolCall,
    ToolSpec,
)

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_ENTRIES: Final = 512
DEFAULT_MAX_BYTES: Final = 16 * 1024 * 1024
# Bookkeeping per entry (key, dataclasses, dict slot) on top of its text and data.
ENTRY_OVERHEAD_BYTES: Final = 512
KEY_VERSION: Final = 1


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _plain(value: Any) -> Any:
    """Mappings to dicts and sequences to lists, recursively, so any mapping type serialises."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace, so dict order never changes a key."""
    return json.dumps(
        _plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr
    )


def _tool_call(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def _tool_spec(spec: ToolSpec) -> dict[str, Any]:
    return {"name": spec.name, "description": spec.description, "parameters": spec.parameters}


def _message(message: Message) -> dict[str, Any]:
    return {
        "role": str(message.role),
        "content": message.content,
        "images": [_digest(image.data) for image in message.images],
        "tool_calls": [_tool_call(call) for call in message.tool_calls],
        "tool_call_id": message.tool_call_id,
        "tool_name": message.tool_name,
    }


def _number(value: float | None) -> float | None:
    """``0`` and ``0.0`` are the same temperature."""
    return None if value is None else float(value)


def cache_key(request: HubRequest, candidates: Sequence[str]) -> str:
    """The canonical SHA-256 key of ``request`` answered by one of ``candidates``.

    Candidates count as a set: the strategy's ordering does not change the key.
    """
    chat = request.chat
    payload = {
        "v": KEY_VERSION,
        "messages": [_message(message) for message in chat.messages],
        "images": [_digest(image.data) for image in request.images],
        "detail": request.detail,
        "provider": request.provider,
        "model": chat.model,
        "max_tokens": chat.max_tokens,
        "temperature": _number(chat.temperature),
        "stop": list(chat.stop),
        "structure": chat.json_schema,
        "tools": [_tool_spec(spec) for spec in chat.tools],
        "tool_choice": None
        if chat.tool_choice is None
        else [str(chat.tool_choice.mode), chat.tool_choice.name],
        "parallel_tool_calls": chat.parallel_tool_calls,
        "candidates": sorted(set(candidates)),
    }
    return _digest(_canonical_json(payload).encode("utf-8"))


def media_cache_key(request: MediaRequest[Any], candidates: Sequence[str]) -> str:
    """The canonical SHA-256 key of a media ``request`` answered by one of ``candidates``."""
    payload = {
        "v": KEY_VERSION,
        "capability": str(request.capability),
        "body": _fields(request.body),
        "provider": request.provider,
        "candidates": sorted(set(candidates)),
    }
    return _digest(_canonical_json(payload).encode("utf-8"))


def _fields(value: Any) -> Any:
    """A dataclass as plain values; bytes by their digest."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _fields(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        return _digest(value)
    if isinstance(value, (list, tuple)):
        return [_fields(item) for item in value]
    return value


type Cached = HubResponse | MediaResponse[Any]
"""What the cache holds: chat answers and media answers."""


def estimate_size(response: Cached) -> int:
    """Approximate memory of one cached response in bytes (text, data, names, overhead)."""
    if isinstance(response, MediaResponse):
        return ENTRY_OVERHEAD_BYTES + len(response.provider) + _footprint(response.result)
    size = ENTRY_OVERHEAD_BYTES + len(response.text.encode("utf-8"))
    size += len(response.provider) + len(response.model) + len(response.finish_reason)
    if response.data is not None:
        size += len(_canonical_json(response.data).encode("utf-8"))
    if response.tool_calls:
        size += sum(len(repr(call).encode("utf-8")) for call in response.tool_calls)
    return size


def _footprint(value: Any) -> int:
    """Rough bytes of a result: its bytes and strings, 32 per number (a float and its slot)."""
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, (int, float)) or value is None:
        return 32
    if isinstance(value, (list, tuple)):
        return 56 + sum(_footprint(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return 64 + sum(_footprint(getattr(value, f.name)) for f in dataclasses.fields(value))
    return 64


def as_cached[R: Cached](response: R, request_id: str, *, latency_ms: float = 0.0) -> R:
    """A cached answer for a new request: its own id, ``cached``, no cost and no attempts."""
    return replace(
        response,
        request_id=request_id,
        cached=True,
        cost_usd=0.0,
        attempts=(),
        latency_ms=latency_ms,
    )


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters and current occupancy of a ``ResponseCache``."""

    hits: int
    misses: int
    entries: int
    bytes: int
    evictions: int
    expirations: int

    def to_dict(self) -> dict[str, int]:
        """JSON form for status endpoints."""
        return {
            "hits": self.hits,
            "misses": self.misses,
            "entries": self.entries,
            "bytes": self.bytes,
            "evictions": self.evictions,
            "expirations": self.expirations,
        }


@dataclass(frozen=True, slots=True)
class _Entry:
    response: Cached
    size: int
    expires_at: float


class ResponseCache:
    """LRU cache of hub responses with a TTL, an entry cap and a byte cap."""

    def __init__(
        self,
        *,
        ttl: float,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl < 0 or max_entries < 0 or max_bytes < 0:
            raise ValueError("ttl, max_entries and max_bytes must not be negative")
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._evictions = 0
        self._expirations = 0

    @property
    def enabled(self) -> bool:
        """False when the TTL or a bound is zero: nothing is ever stored."""
        return self.ttl > 0 and self.max_entries > 0 and self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    def should_cache(self, request: HubRequest, explicit: bool | None = None) -> bool:
        """Whether to look up and store ``request``.

        Never when the cache is disabled; otherwise the caller's ``cache`` flag decides, and
        without one only deterministic requests (temperature 0) are cached.
        """
        if not self.enabled:
            return False
        if explicit is not None:
            return explicit
        temperature = request.chat.temperature
        return temperature is not None and temperature == 0

    def get(self, key: str) -> Cached | None:
        """The stored response for ``key`` (marking it recently used), or None."""
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at <= self._clock():
            self._drop(key)
            self._expirations += 1
            entry = None
        if entry is None:
            self._misses += 1
            return None
        self._entries.move_to_end(key)
        self._hits += 1
        return entry.response

    def put(self, key: str, response: Cached) -> bool:
        """Store ``response`` under ``key``; False when it cannot be stored at all."""
        if not self.enabled:
            return False
        size = estimate_size(response)
        if size > self.max_bytes:
            _LOGGER.debug("Response of %d bytes exceeds the cache bound; not cached", size)
            return False
        if key in self._entries:
            self._drop(key)
        self._entries[key] = _Entry(response, size, self._clock() + self.ttl)
        self._bytes += size
        self._evict()
        return True

    def clear(self) -> None:
        """Forget every entry (counters stay)."""
        self._entries.clear()
        self._bytes = 0

    def stats(self) -> CacheStats:
        """Hits, misses, entries, bytes, evictions and expirations so far."""
        return CacheStats(
            hits=self._hits,
            misses=self._misses,
            entries=len(self._entries),
            bytes=self._bytes,
            evictions=self._evictions,
            expirations=self._expirations,
        )

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size

    def _evict(self) -> None:
        """Drop expired entries first, then least recently used ones, until within bounds."""
        if not self._over_bounds():
            return
        now = self._clock()
        for key in [k for k, e in self._entries.items() if e.expires_at <= now]:
            self._drop(key)
            self._expirations += 1
        while self._over_bounds():
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self._evictions += 1

    def _over_bounds(self) -> bool:
        return len(self._entries) > self.max_entries or self._bytes > self.max_bytes
