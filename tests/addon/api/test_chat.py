"""``POST /api/v1/chat`` through the real app and the real SDKs against the simulated vendors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import AUTH, Fakes, HubClientFactory, provider_options
from tests.fakes.base import Fault, Reply


async def post_chat(client: Any, body: Any, status: int = 200) -> dict[str, Any]:
    response = await client.post("/api/v1/chat", json=body, headers=AUTH)
    payload: dict[str, Any] = await response.json()
    assert response.status == status, payload
    return payload


async def test_chat_answers_from_the_first_provider(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    response = await client.post("/api/v1/chat", json={"prompt": "Hi"}, headers=AUTH)
    body = await response.json()
    assert response.status == 200
    assert body["provider"] == "openai"
    assert body["text"] == fakes.openai.state.reply.text
    assert body["usage"] == {"input_tokens": 12, "output_tokens": 5}
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert [a["outcome"] for a in body["attempts"]] == ["ok"]
    assert body["cached"] is False
    assert len(fakes.openai.requests) == 1
    assert not fakes.anthropic.requests


async def test_system_and_messages_reach_the_wire(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    await post_chat(
        client,
        {
            "system": "Be brief.",
            "messages": [
                {"role": "user", "content": "One"},
                {"role": "assistant", "content": "Two"},
            ],
            "prompt": "Three?",
            "max_tokens": 50,
            "temperature": 0.2,
        },
    )
    sent = fakes.openai.requests[-1].body
    assert [(m["role"], m["content"]) for m in sent["messages"]] == [
        ("system", "Be brief."),
        ("user", "One"),
        ("assistant", "Two"),
        ("user", "Three?"),
    ]
    assert sent["max_completion_tokens"] == 50
    assert sent["temperature"] == 0.2


async def test_pinned_provider_and_model(hub_client: HubClientFactory, fakes: Fakes) -> None:
    client = await hub_client()
    body = await post_chat(
        client, {"prompt": "Hi", "provider": "anthropic", "model": "claude-sonnet-4-6"}
    )
    assert body["provider"] == "anthropic"
    assert fakes.anthropic.requests[-1].body["model"] == "claude-sonnet-4-6"
    assert not fakes.openai.requests


async def test_unknown_pinned_provider_is_no_capable_provider(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    body = await post_chat(client, {"prompt": "Hi", "provider": "nope"}, status=422)
    assert body["error"]["key"] == "no_capable_provider"
    assert "nope" in body["error"]["message"]


@pytest.mark.parametrize(
    ("fault", "params", "outcome"),
    [
        (Fault.SERVER_ERROR, {}, "provider_bad_response"),
        (Fault.OVERLOADED, {}, None),
        (Fault.RATE_LIMIT, {"retry_after": 3}, "provider_rate_limited"),
        (Fault.DISCONNECT, {}, "provider_connection"),
        (Fault.MALFORMED, {}, "provider_bad_response"),
        (Fault.TIMEOUT, {}, "provider_timeout"),
    ],
)
async def test_retryable_failure_fails_over(
    hub_client: HubClientFactory,
    fakes: Fakes,
    fault: Fault,
    params: dict[str, Any],
    outcome: str | None,
) -> None:
    # A hanging provider is given the smallest timeout the options allow, not the default 5 s.
    quick = [{**p, "timeout": 1} if p["name"] == "openai" else p for p in provider_options(fakes)]
    client = await hub_client(providers=quick)
    fakes.openai.fail_next(fault, **params)
    body = await post_chat(client, {"prompt": "Hi", "max_tokens": 10})
    assert body["provider"] == "anthropic"
    first, second = body["attempts"]
    assert first["provider"] == "openai"
    assert first["outcome"] != "ok"
    if outcome is not None:
        assert first["outcome"] == outcome
    assert second == {**second, "provider": "anthropic", "outcome": "ok"}
    assert len(fakes.openai.requests) == 1  # SDK retries are off: the hub owns retries


async def test_refused_connection_fails_over(hub_client: HubClientFactory, fakes: Fakes) -> None:
    await fakes.openai.stop()
    client = await hub_client()
    body = await post_chat(client, {"prompt": "Hi"})
    assert body["provider"] == "anthropic"
    assert body["attempts"][0]["outcome"] == "provider_connection"


async def test_a_request_the_provider_refuses_stops(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    fakes.openai.fail_next(Fault.BAD_REQUEST)
    body = await post_chat(client, {"prompt": "Hi"}, status=400)
    assert body["error"]["key"] == "provider_bad_request"
    assert [a["provider"] for a in body["error"]["attempts"]] == ["openai"]
    assert not fakes.anthropic.requests


async def test_a_rejected_key_fails_over_and_benches_the_provider(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    """Another provider has its own key: the household keeps an answer while one key is bad."""
    client = await hub_client()
    fakes.openai.fail_always(Fault.AUTH)
    body = await post_chat(client, {"prompt": "Hi"})
    assert [(a["provider"], a["outcome"]) for a in body["attempts"]] == [
        ("openai", "provider_auth"),
        ("anthropic", "ok"),
    ]
    assert len(fakes.openai.requests) == 1  # never tried twice
    again = await post_chat(client, {"prompt": "Hi again"})
    assert [(a["provider"], a["outcome"]) for a in again["attempts"]] == [
        ("anthropic", "ok"),
    ] or again["attempts"][0]["outcome"] == "circuit_open"
    assert len(fakes.openai.requests) == 1  # benched until the key changes or a check passes


async def test_when_every_key_is_refused_the_answer_says_so(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    for fake in fakes.all.values():
        fake.fail_always(Fault.AUTH)
    body = await post_chat(client, {"prompt": "Hi"}, status=502)
    assert body["error"]["key"] == "provider_auth"
    assert {a["outcome"] for a in body["error"]["attempts"]} == {"provider_auth"}


async def test_every_provider_failing_is_all_providers_failed(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    for fake in fakes.all.values():
        fake.fail_always(Fault.SERVER_ERROR)
    body = await post_chat(client, {"prompt": "Hi"}, status=502)
    assert body["error"]["key"] == "all_providers_failed"
    assert [a["provider"] for a in body["error"]["attempts"]] == [
        "openai",
        "anthropic",
        "gemini",
        "ollama",
    ]


async def test_every_provider_rate_limited_is_429_with_retry_after(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    for fake in fakes.all.values():
        fake.fail_always(Fault.RATE_LIMIT, retry_after=7)
    response = await client.post("/api/v1/chat", json={"prompt": "Hi"}, headers=AUTH)
    body = await response.json()
    assert response.status == 429
    assert body["error"]["key"] == "rate_limited"
    assert response.headers["Retry-After"] == "7"


async def test_total_deadline_bounds_the_request(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client(request_timeout=1.5)
    for fake in fakes.all.values():
        fake.fail_always(Fault.TIMEOUT, seconds=30)
    body = await post_chat(client, {"prompt": "Hi"}, status=504)
    assert body["error"]["key"] == "upstream_timeout"
    assert body["error"]["attempts"][0]["outcome"] == "provider_timeout"


async def test_structured_output_is_parsed(hub_client: HubClientFactory, fakes: Fakes) -> None:
    client = await hub_client()
    fakes.openai.state.reply.text = '{"person": true, "count": 2}'
    schema = {
        "type": "object",
        "properties": {"person": {"type": "boolean"}, "count": {"type": "integer"}},
        "required": ["person", "count"],
    }
    body = await post_chat(client, {"prompt": "Anyone?", "structure": schema})
    assert body["data"] == {"person": True, "count": 2}
    assert fakes.openai.requests[-1].body["response_format"]["type"] == "json_schema"


async def test_invalid_json_for_a_structure_fails_over(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    fakes.openai.state.reply.text = "Sure! Here is your JSON: {oops"
    body = await post_chat(
        client, {"prompt": "Anyone?", "structure": {"type": "object", "properties": {}}}
    )
    assert body["attempts"][0]["outcome"] == "provider_bad_response"
    assert body["provider"] == "anthropic"
    assert isinstance(body["data"], dict)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([1, 2], "JSON object"),
        ({}, "give 'prompt' or 'messages'"),
        ({"prompt": "  "}, "prompt"),
        ({"prompt": "Hi", "temperature": 5}, "temperature"),
        ({"prompt": "Hi", "max_tokens": 0}, "max_tokens"),
        ({"prompt": "Hi", "structure": {"foo": 1}}, "structure"),
        ({"prompt": "Hi", "strategy": "fastest-ever"}, "strategy"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages.0.role"),
        ({"messages": []}, "messages"),
        ({"prompt": "Hi", "tag": "has spaces"}, "tag"),
        ({"prompt": "Hi", "colour": "blue"}, "colour"),
        # JSON's true is no integer and "1" no number; a tag or tool name ends at the end.
        ({"prompt": "Hi", "max_tokens": True}, "max_tokens"),
        ({"prompt": "Hi", "max_tokens": 2.5}, "max_tokens"),
        ({"prompt": "Hi", "temperature": "1"}, "temperature"),
        ({"prompt": "Hi", "tag": "kitchen\n"}, "tag"),
        ({"prompt": "Hi", "tag": "küche"}, "tag"),
        ({"prompt": "Hi", "tools": [{"name": "lights\n"}]}, "tools.0.name"),
        ({"messages": [{"role": "system", "content": "Be brief"}]}, "besides system"),
        ({"messages": [{"role": ["user"], "content": "x"}]}, "messages.0.role"),
    ],
)
async def test_bad_input_is_invalid_request(
    hub_client: HubClientFactory, fakes: Fakes, body: Any, fragment: str
) -> None:
    client = await hub_client()
    payload = await post_chat(client, body, status=400)
    assert payload["error"]["key"] == "invalid_request"
    assert fragment in payload["error"]["message"]
    assert not fakes.openai.requests  # nothing was sent upstream


async def test_a_whole_number_written_with_a_fraction_is_that_number(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    # JSON Schema counts 64.0 as the integer 64, and so does the document.
    client = await hub_client()
    await post_chat(client, {"prompt": "Hi", "max_tokens": 64.0, "temperature": 1}, status=200)
    assert fakes.openai.requests[-1].body["max_completion_tokens"] == 64


async def test_body_that_is_not_json(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    response = await client.post(
        "/api/v1/chat", data=b"{nope", headers={**AUTH, "Content-Type": "application/json"}
    )
    body = await response.json()
    assert response.status == 400
    assert body["error"]["key"] == "invalid_request"


async def test_oversized_body_is_413(hub_client: HubClientFactory) -> None:
    client = await hub_client(max_body_bytes=1024)
    response = await client.post("/api/v1/chat", json={"prompt": "x" * 4096}, headers=AUTH)
    body = await response.json()
    assert response.status == 413
    assert body["error"]["key"] == "payload_too_large"


def parse_sse(raw: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


async def test_stream_sends_deltas_then_done(hub_client: HubClientFactory, fakes: Fakes) -> None:
    client = await hub_client()
    response = await client.post(
        "/api/v1/chat", json={"prompt": "Hi", "stream": True}, headers=AUTH
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events = parse_sse(await response.text())
    deltas = [data["text"] for name, data in events if name == "delta"]
    name, done = events[-1]
    assert name == "done"
    assert len(deltas) >= 2
    assert "".join(deltas) == done["text"] == fakes.openai.state.reply.text
    assert done["provider"] == "openai"
    assert done["usage"]["output_tokens"] > 0
    assert fakes.openai.requests[-1].body["stream"] is True


@pytest.mark.parametrize(
    ("text", "outcome"),
    [('```json\n{"colour": "red"}\n```', "ok"), ("red, I think", "provider_bad_response")],
)
async def test_a_streamed_structure_is_parsed_once_complete(
    hub_client: HubClientFactory, fakes: Fakes, text: str, outcome: str
) -> None:
    client = await hub_client()
    fakes.openai.state.reply = Reply(text=text)
    structure = {"type": "object", "properties": {"colour": {"type": "string"}}}
    response = await client.post(
        "/api/v1/chat",
        json={"prompt": "Colour?", "structure": structure, "stream": True, "provider": "openai"},
        headers=AUTH,
    )
    name, last = parse_sse(await response.text())[-1]
    if outcome == "ok":
        assert name == "done"
        assert last["data"] == {"colour": "red"}
    else:
        assert name == "error"
        assert last["error"]["key"] == outcome


async def test_stream_fails_over_before_the_first_delta(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    fakes.openai.fail_next(Fault.SERVER_ERROR)
    response = await client.post(
        "/api/v1/chat", json={"prompt": "Hi", "stream": True}, headers=AUTH
    )
    events = parse_sse(await response.text())
    name, done = events[-1]
    assert name == "done"
    assert done["provider"] == "anthropic"
    assert [a["outcome"] for a in done["attempts"]] == ["provider_bad_response", "ok"]


async def test_stream_that_stalls_ends_with_an_error_event(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    options = [{**p, "timeout": 1} for p in provider_options(fakes)]
    client = await hub_client(providers=options)
    fakes.openai.fail_next(Fault.STALL_STREAM)
    response = await client.post(
        "/api/v1/chat", json={"prompt": "Hi", "stream": True}, headers=AUTH
    )
    events = parse_sse(await response.text())
    assert events[0][0] == "delta"
    name, data = events[-1]
    assert name == "error"
    assert data["error"]["key"] == "provider_timeout"


async def test_stream_error_before_any_text_is_a_json_error(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    for fake in fakes.all.values():
        fake.fail_always(Fault.SERVER_ERROR)
    response = await client.post(
        "/api/v1/chat", json={"prompt": "Hi", "stream": True}, headers=AUTH
    )
    body = await response.json()
    assert response.status == 502
    assert body["error"]["key"] == "all_providers_failed"
