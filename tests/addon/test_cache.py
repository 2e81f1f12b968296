"""The response cache: canonical keys, hits and misses, TTL, LRU bounds, when to cache."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

import pytest

from addon.cache import ENTRY_OVERHEAD_BYTES, ResponseCache, as_cached, cache_key, estimate_size
from addon.models import (
    Attempt,
    ChatRequest,
    HubRequest,
    HubResponse,
    ImageInput,
    Message,
    RawImage,
    Role,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolSpec,
    Usage,
)

PNG_A = b"\x89PNG\r\n\x1a\n" + b"a" * 64
PNG_B = b"\x89PNG\r\n\x1a\n" + b"b" * 64


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_request(**chat: Any) -> HubRequest:
    """A deterministic one-message request; keyword arguments override chat fields."""
    hub = {k: chat.pop(k) for k in ("images", "provider", "tag", "strategy", "detail") if k in chat}
    chat.setdefault("messages", (Message(Role.USER, "Is the door locked?"),))
    chat.setdefault("temperature", 0.0)
    return HubRequest(chat=ChatRequest(**chat), request_id="req-1", **hub)


def make_response(text: str = "Yes.", **fields: Any) -> HubResponse:
    """A provider answer as the manager builds it."""
    values: dict[str, Any] = {
        "request_id": "req-1",
        "text": text,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "usage": Usage(12, 3),
        "latency_ms": 420.0,
        "attempts": (Attempt("openai", "gpt-4o-mini", "ok", 420.0),),
        "cost_usd": 0.0012,
    }
    values.update(fields)
    return HubResponse(**values)


CANDIDATES = ("openai", "ollama")


def key(request: HubRequest, candidates: tuple[str, ...] = CANDIDATES) -> str:
    """Shorthand for the cache key."""
    return cache_key(request, candidates)


# --- keys -----------------------------------------------------------------------------


def test_key_is_a_stable_sha256_hex() -> None:
    first, second = key(make_request()), key(make_request())
    assert first == second
    assert len(first) == 64
    int(first, 16)


def test_key_ignores_structure_dict_order() -> None:
    one = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "number"}}}
    props: dict[str, Any] = {"b": {"type": "number"}, "a": {"type": "string"}}
    two = {"properties": props, "type": "object"}
    proxy = MappingProxyType({"type": "object", "properties": MappingProxyType(props)})
    keys = {key(make_request(json_schema=s)) for s in (one, two, proxy)}
    assert len(keys) == 1
    assert key(make_request()) not in keys


def test_key_ignores_tool_argument_order() -> None:
    def with_call(arguments: dict[str, Any]) -> HubRequest:
        call = ToolCall("c1", "light_on", arguments)
        messages = (
            Message(Role.USER, "Lights"),
            Message(Role.ASSISTANT, "", tool_calls=(call,)),
            Message(Role.TOOL, "done", tool_call_id="c1"),
        )
        return make_request(messages=messages)

    assert key(with_call({"room": "hall", "level": 3})) == key(
        with_call({"level": 3, "room": "hall"})
    )
    assert key(with_call({"room": "hall"})) != key(with_call({"room": "kitchen"}))


def test_key_changes_with_the_tool_turns() -> None:
    """A different result, call id, tool choice or parallel switch is another question."""

    def turn(result: str = "done", call_id: str = "c1", **chat: Any) -> HubRequest:
        call = ToolCall(call_id, "light_on", {"room": "hall"})
        messages = (
            Message(Role.USER, "Lights"),
            Message(Role.ASSISTANT, "", tool_calls=(call,)),
            Message(Role.TOOL, result, tool_call_id=call_id, tool_name="light_on"),
        )
        return make_request(messages=messages, tools=(ToolSpec("light_on"),), **chat)

    keys = [
        key(turn()),
        key(turn(result="failed")),
        key(turn(call_id="c2")),
        key(turn(tool_choice=ToolChoice(ToolChoiceMode.REQUIRED))),
        key(turn(tool_choice=ToolChoice(ToolChoiceMode.TOOL, "light_on"))),
        key(turn(parallel_tool_calls=False)),
    ]
    assert len(set(keys)) == len(keys)
    assert key(turn(keep_alive="10m")) == key(turn())  # how long Ollama keeps a model loaded


def test_key_uses_image_digest_not_identity() -> None:
    same = [make_request(images=(RawImage(bytes(PNG_A), kind),)) for kind in ("image/png", None)]
    assert key(same[0]) == key(same[1])
    assert key(make_request(images=(RawImage(PNG_B),))) != key(same[0])
    assert key(make_request()) != key(same[0])


def test_key_uses_digest_of_prepared_images_on_messages() -> None:
    def with_image(data: bytes) -> HubRequest:
        message = Message(Role.USER, "Who is at the door?", images=(ImageInput(data),))
        return make_request(messages=(message,))

    assert key(with_image(PNG_A)) == key(with_image(bytes(PNG_A)))
    assert key(with_image(PNG_A)) != key(with_image(PNG_B))


def test_key_image_order_matters() -> None:
    ab = make_request(images=(RawImage(PNG_A), RawImage(PNG_B)))
    ba = make_request(images=(RawImage(PNG_B), RawImage(PNG_A)))
    assert key(ab) != key(ba)


def test_key_treats_int_and_float_temperature_alike() -> None:
    assert key(make_request(temperature=0)) == key(make_request(temperature=0.0))


@pytest.mark.parametrize(
    ("label", "changes"),
    [
        ("temperature", {"temperature": 0.7}),
        ("temperature unset", {"temperature": None}),
        ("max_tokens", {"max_tokens": 50}),
        ("stop", {"stop": ("\n",)}),
        ("model", {"model": "gpt-4o"}),
        ("provider", {"provider": "openai"}),
        ("detail", {"detail": "high"}),
        ("structure", {"json_schema": {"type": "object"}}),
        ("tools", {"tools": (ToolSpec("light_on"),)}),
        ("content", {"messages": (Message(Role.USER, "Is the door unlocked?"),)}),
        ("role", {"messages": (Message(Role.SYSTEM, "Is the door locked?"),)}),
        (
            "extra message",
            {
                "messages": (
                    Message(Role.SYSTEM, "Be brief."),
                    Message(Role.USER, "Is the door locked?"),
                )
            },
        ),
    ],
)
def test_key_changes_with_what_changes_the_answer(label: str, changes: dict[str, Any]) -> None:
    assert key(make_request(**changes)) != key(make_request()), label


@pytest.mark.parametrize(
    ("label", "changes"),
    [
        ("tag", {"tag": "doorbell"}),
        ("strategy", {"strategy": "cost"}),
    ],
)
def test_key_ignores_routing_wishes(label: str, changes: dict[str, Any]) -> None:
    assert key(make_request(**changes)) == key(make_request()), label


def test_key_ignores_request_id() -> None:
    assert key(replace(make_request(), request_id="other")) == key(make_request())


def test_key_depends_on_candidate_set_not_order() -> None:
    request = make_request()
    assert key(request, ("openai", "ollama")) == key(request, ("ollama", "openai"))
    assert key(request, ("openai", "ollama")) != key(request, ("openai",))
    assert key(request, ("openai",)) != key(request, ("ollama",))


# --- get / put ------------------------------------------------------------------------


def test_miss_then_hit_counts_both() -> None:
    cache = ResponseCache(ttl=60, clock=FakeClock())
    k = key(make_request())
    assert cache.get(k) is None
    response = make_response()
    assert cache.put(k, response)
    assert cache.get(k) is response
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 1, 1)
    assert stats.bytes == estimate_size(response)


def test_put_replaces_an_entry_without_double_counting_bytes() -> None:
    cache = ResponseCache(ttl=60, clock=FakeClock())
    cache.put("k", make_response("first"))
    cache.put("k", make_response("second answer"))
    assert cache.get("k") == make_response("second answer")
    assert cache.stats().entries == 1
    assert cache.stats().bytes == estimate_size(make_response("second answer"))


def test_ttl_expiry_with_fake_clock() -> None:
    clock = FakeClock()
    cache = ResponseCache(ttl=30, clock=clock)
    cache.put("k", make_response())
    clock.now += 29.9
    assert cache.get("k") is not None
    clock.now += 0.1
    assert cache.get("k") is None
    stats = cache.stats()
    assert (stats.entries, stats.bytes, stats.expirations, stats.misses) == (0, 0, 1, 1)


def test_hit_does_not_extend_ttl() -> None:
    clock = FakeClock()
    cache = ResponseCache(ttl=10, clock=clock)
    cache.put("k", make_response())
    clock.now += 9
    assert cache.get("k") is not None
    clock.now += 1
    assert cache.get("k") is None


def test_lru_eviction_by_entries_keeps_recently_used() -> None:
    cache = ResponseCache(ttl=60, max_entries=2, clock=FakeClock())
    cache.put("a", make_response("a"))
    cache.put("b", make_response("b"))
    assert cache.get("a") is not None  # "b" is now the least recently used
    cache.put("c", make_response("c"))
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None
    assert cache.stats().evictions == 1
    assert len(cache) == 2


def test_lru_eviction_by_bytes() -> None:
    text = "x" * 1000
    entry = estimate_size(make_response(text))
    cache = ResponseCache(ttl=60, max_bytes=entry * 2 + 10, clock=FakeClock())
    cache.put("a", make_response(text))
    cache.put("b", make_response(text))
    cache.put("c", make_response(text))
    assert cache.get("a") is None
    assert cache.get("b") is not None
    stats = cache.stats()
    assert (stats.entries, stats.evictions) == (2, 1)
    assert stats.bytes <= cache.max_bytes


def test_one_large_entry_evicts_several_small_ones() -> None:
    small = estimate_size(make_response("s"))
    big = make_response("B" * (small * 2))
    cache = ResponseCache(ttl=60, max_bytes=estimate_size(big) + small, clock=FakeClock())
    for name in ("a", "b", "c"):
        cache.put(name, make_response("s"))
    cache.put("big", big)
    assert [cache.get(n) is not None for n in ("a", "b", "c", "big")] == [False, False, True, True]
    assert cache.stats().evictions == 2


def test_expired_entries_go_before_live_ones() -> None:
    clock = FakeClock()
    cache = ResponseCache(ttl=10, max_entries=2, clock=clock)
    cache.put("old", make_response())
    clock.now += 5
    cache.put("live", make_response())
    clock.now += 6  # "old" is expired, "live" is not
    assert cache.get("live") is not None
    cache.put("new", make_response())
    assert cache.get("live") is not None
    stats = cache.stats()
    assert (stats.evictions, stats.expirations) == (0, 1)


def test_entry_larger_than_bound_is_not_stored() -> None:
    cache = ResponseCache(ttl=60, max_bytes=ENTRY_OVERHEAD_BYTES + 100, clock=FakeClock())
    cache.put("small", make_response("ok"))
    assert not cache.put("huge", make_response("x" * 10_000))
    assert cache.get("huge") is None
    assert cache.get("small") is not None


def test_size_counts_text_and_structured_data() -> None:
    plain = estimate_size(make_response("é" * 100))
    assert plain >= ENTRY_OVERHEAD_BYTES + 200  # UTF-8 bytes, not characters
    data = {"items": ["milk"] * 200}
    assert estimate_size(make_response("é" * 100, data=data)) > plain + 1000


def test_ttl_zero_disables_everything() -> None:
    cache = ResponseCache(ttl=0, clock=FakeClock())
    assert not cache.enabled
    assert not cache.put("k", make_response())
    assert cache.get("k") is None
    assert len(cache) == 0


def test_negative_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        ResponseCache(ttl=-1)


def test_clear_forgets_entries_keeps_counters() -> None:
    cache = ResponseCache(ttl=60, clock=FakeClock())
    cache.put("k", make_response())
    cache.get("k")
    cache.clear()
    assert cache.get("k") is None
    assert cache.stats().to_dict() == {
        "hits": 1,
        "misses": 1,
        "entries": 0,
        "bytes": 0,
        "evictions": 0,
        "expirations": 0,
    }


# --- when to cache ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ttl", "temperature", "explicit", "expected"),
    [
        (300, 0.0, None, True),
        (300, 0, None, True),
        (300, 0.2, None, False),
        (300, None, None, False),
        (300, 0.7, True, True),
        (300, None, True, True),
        (300, 0.0, False, False),
        (0, 0.0, None, False),
        (0, 0.0, True, False),
        (0, 0.9, True, False),
    ],
)
def test_should_cache_table(
    ttl: float, temperature: float | None, explicit: bool | None, expected: bool
) -> None:
    cache = ResponseCache(ttl=ttl, clock=FakeClock())
    assert cache.should_cache(make_request(temperature=temperature), explicit) is expected


# --- cached answers -------------------------------------------------------------------


def test_as_cached_marks_the_hit() -> None:
    original = make_response(data={"locked": True})
    hit = as_cached(original, "req-2")
    assert hit.request_id == "req-2"
    assert hit.cached is True
    assert hit.cost_usd == 0.0
    assert hit.attempts == ()
    assert hit.latency_ms == 0.0
    assert (hit.text, hit.data, hit.provider, hit.model, hit.usage) == (
        original.text,
        original.data,
        original.provider,
        original.model,
        original.usage,
    )
    assert original.cached is False  # the stored answer is untouched
    body = hit.to_dict()
    assert (body["cached"], body["cost_usd"], body["attempts"]) == (True, 0.0, [])
