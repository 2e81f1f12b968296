"""Tools on the native API (``/api/v1/chat``): definitions, calls, results, capability, ledger."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from addon.api.chat import _sse
from addon.api.schemas import CHAT_SCHEMA, to_hub_request, validate
from addon.errors import InvalidRequestError
from addon.models import HubResponse, Role, StreamDelta, ToolCall, Usage
from tests.conftest import AUTH, Fakes, HubClientFactory, provider_options

LIGHT_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Name of the device"},
        "domain": {"type": "array", "items": {"type": "string", "enum": ["light", "switch"]}},
        "brightness": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
    },
    "required": ["name"],
    "additionalProperties": False,
}
TOOLS: list[dict[str, Any]] = [
    {"name": "HassTurnOn", "description": "Turns on a device", "parameters": LIGHT_PARAMETERS},
    {"name": "HassTurnOff", "description": "Turns off a device", "parameters": LIGHT_PARAMETERS},
    {"name": "GetLiveContext"},
]
CALL = {"id": "call_1", "name": "HassTurnOn", "arguments": {"name": "kitchen light"}}
CALLED = [
    {"role": "user", "content": "Kitchen light on"},
    {"role": "assistant", "content": "", "tool_calls": [CALL]},
]


async def post_chat(client: Any, body: Any, status: int = 200) -> dict[str, Any]:
    response = await client.post("/api/v1/chat", json=body, headers=AUTH)
    payload: dict[str, Any] = await response.json()
    assert response.status == status, payload
    return payload


def ledger_tool_calls(data_dir: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(data_dir / "ledger.sqlite3") as conn:
        rows = conn.execute("SELECT provider, outcome, tool_calls FROM attempts ORDER BY id")
        return [(str(p), str(o), int(n)) for p, o, n in rows]


# --- a tool loop, as the Home Assistant integration runs it -------------------------------
async def test_tool_call_and_result_round_trip_on_anthropic(
    hub_client: HubClientFactory, fakes: Fakes, tmp_path: Path
) -> None:
    client = await hub_client()
    fakes.anthropic.tool_uses = [("HassTurnOn", {"name": "kitchen light"})]
    body = {"prompt": "Kitchen light on", "provider": "anthropic", "tools": TOOLS}
    first = await post_chat(client, body)
    assert first["finish_reason"] == "tool_calls"
    assert first["tool_calls"] == [
        {"id": "toolu_fake0001", "name": "HassTurnOn", "arguments": {"name": "kitchen light"}}
    ]
    sent = fakes.anthropic.requests[-1].body
    assert [t["name"] for t in sent["tools"]] == ["HassTurnOn", "HassTurnOff", "GetLiveContext"]
    assert sent["tools"][0]["input_schema"] == LIGHT_PARAMETERS
    assert sent["tools"][0]["description"] == "Turns on a device"

    fakes.anthropic.tool_uses = []
    history = [
        {"role": "user", "content": "Kitchen light on"},
        {"role": "assistant", "content": first["text"], "tool_calls": first["tool_calls"]},
        {"role": "tool", "tool_call_id": "toolu_fake0001", "content": '{"success": true}'},
    ]
    second = await post_chat(client, {"messages": history, "provider": "anthropic", "tools": TOOLS})
    assert second["finish_reason"] == "stop"
    assert second["text"] == fakes.anthropic.state.reply.text
    assert second["tool_calls"] == []
    wire = fakes.anthropic.requests[-1].body["messages"]
    assert wire[1]["content"][-1] == {
        "type": "tool_use",
        "id": "toolu_fake0001",
        "name": "HassTurnOn",
        "input": {"name": "kitchen light"},
    }
    assert wire[2]["role"] == "user"
    assert wire[2]["content"][0]["type"] == "tool_result"
    assert wire[2]["content"][0]["tool_use_id"] == "toolu_fake0001"
    assert ledger_tool_calls(tmp_path) == [("anthropic", "ok", 1), ("anthropic", "ok", 0)]


async def test_parallel_tool_calls_come_back_together(
    hub_client: HubClientFactory, fakes: Fakes, tmp_path: Path
) -> None:
    client = await hub_client()
    fakes.anthropic.tool_uses = [
        ("HassTurnOn", {"name": "kitchen light"}),
        ("HassTurnOff", {"name": "hall light"}),
    ]
    body = await post_chat(
        client,
        {"prompt": "Kitchen on, hall off", "provider": "anthropic", "tools": TOOLS},
    )
    assert [(c["name"], c["arguments"]["name"]) for c in body["tool_calls"]] == [
        ("HassTurnOn", "kitchen light"),
        ("HassTurnOff", "hall light"),
    ]
    assert len({c["id"] for c in body["tool_calls"]}) == 2
    assert ledger_tool_calls(tmp_path) == [("anthropic", "ok", 2)]


# --- capability --------------------------------------------------------------------------
async def test_tools_skip_models_that_cannot_call_them(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    providers = provider_options(fakes)
    providers[0]["model"] = "o1-mini"  # traits: no tools
    client = await hub_client(providers=providers)
    with_tools = await post_chat(client, {"prompt": "Lights?", "tools": TOOLS})
    assert with_tools["provider"] == "anthropic"
    assert not fakes.openai.requests
    continued = await post_chat(
        client, {"messages": [*CALLED, {"role": "tool", "content": "done"}]}
    )
    assert continued["provider"] == "anthropic"
    assert not fakes.openai.requests
    plain = await post_chat(client, {"prompt": "Hi"})
    assert plain["provider"] == "openai"


async def test_no_tool_capable_model_is_422(hub_client: HubClientFactory, fakes: Fakes) -> None:
    ollama = [p for p in provider_options(fakes) if p["type"] == "ollama"]  # gemma3:4b: no tools
    client = await hub_client(providers=ollama)
    body = await post_chat(client, {"prompt": "Lights?", "tools": TOOLS}, status=422)
    assert body["error"]["key"] == "no_capable_provider"
    assert "tools" in body["error"]["message"]
    assert not fakes.ollama.requests


# --- bad input: 400 naming the field, nothing sent ---------------------------------------
def _tools(*changes: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**TOOLS[0], **change} for change in changes]


BAD_REQUESTS: list[tuple[str, dict[str, Any], str]] = [
    ("name with a space", {"tools": _tools({"name": "turn on"})}, "tools.0.name"),
    ("name too long", {"tools": _tools({"name": "x" * 65})}, "tools.0.name"),
    ("duplicate names", {"tools": _tools({}, {})}, "tools.1.name"),
    ("parameters not an object schema", {"tools": _tools({"parameters": {"type": "string"}})},
     "tools.0.parameters"),
    ("parameters a list", {"tools": _tools({"parameters": ["name"]})}, "tools.0.parameters"),
    ("parameters an invalid schema",
     {"tools": _tools({"parameters": {"type": "object", "required": "name"}})},
     "tools.0.parameters.required"),
    ("tool without a name", {"tools": [{"description": "x"}]}, "tools.0.name"),
    ("unknown tool choice", {"tools": TOOLS, "tool_choice": "always"}, "tool_choice"),
    ("choice names an unknown tool", {"tools": TOOLS, "tool_choice": {"name": "Nope"}},
     "tool_choice"),
    ("required without tools", {"tool_choice": "required"}, "tool_choice"),
    ("parallel_tool_calls not a bool", {"parallel_tool_calls": "yes"}, "parallel_tool_calls"),
    ("tool result without a call", {"messages": [{"role": "tool", "content": "42"}]},
     "messages.0"),
    ("tool result for an unknown id",
     {"messages": [*CALLED, {"role": "tool", "tool_call_id": "call_9", "content": "ok"}]},
     "messages.2.tool_call_id"),
    ("call left unanswered", {"messages": [*CALLED, {"role": "user", "content": "and?"}]},
     "messages.1.tool_calls"),
    ("call answered twice",
     {"messages": [*CALLED, *[{"role": "tool", "tool_call_id": "call_1", "content": "ok"}] * 2]},
     "messages.3.tool_call_id"),
    ("result names another tool",
     {"messages": [*CALLED, {"role": "tool", "tool_call_id": "call_1", "name": "HassTurnOff",
                             "content": "ok"}]},
     "messages.2.name"),
    ("arguments as a string",
     {"messages": [CALLED[0], {"role": "assistant", "tool_calls": [
         {**CALL, "arguments": '{"name": "kitchen light"}'}]}]},
     "messages.1.tool_calls.0.arguments"),
    ("duplicate call ids",
     {"messages": [CALLED[0], {"role": "assistant", "tool_calls": [CALL, CALL]}]},
     "messages.1.tool_calls"),
    ("call without an id",
     {"messages": [CALLED[0], {"role": "assistant", "tool_calls": [{"name": "HassTurnOn"}]}]},
     "messages.1.tool_calls.0.id"),
    ("tool calls on a user message",
     {"messages": [{"role": "user", "content": "x", "tool_calls": [CALL]}]},
     "messages.0.tool_calls"),
    ("tool_call_id on a user message",
     {"messages": [{"role": "user", "content": "x", "tool_call_id": "call_1"}]},
     "messages.0.tool_call_id"),
    ("user message without content", {"messages": [{"role": "user"}]}, "messages.0.content"),
    ("tool result without content",
     {"messages": [*CALLED, {"role": "tool", "tool_call_id": "call_1"}]},
     "messages.2.content"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"), [(b, f) for _, b, f in BAD_REQUESTS], ids=[i for i, _, _ in BAD_REQUESTS]
)
async def test_bad_tool_input_is_400_naming_the_field(
    hub_client: HubClientFactory, fakes: Fakes, body: dict[str, Any], field: str
) -> None:
    client = await hub_client()
    request = {"prompt": "Hi", **body} if "messages" not in body else body
    payload = await post_chat(client, request, status=400)
    assert payload["error"]["key"] == "invalid_request"
    assert field in payload["error"]["message"]
    assert not any(fake.requests for fake in fakes.all.values())


# --- conversion details ------------------------------------------------------------------
def test_tool_results_are_linked_to_their_calls() -> None:
    data = validate(
        CHAT_SCHEMA,
        {
            "system": "You control a home.",
            "messages": [
                CALLED[0],
                {"role": "assistant", "tool_calls": [CALL, {**CALL, "id": "call_2"}]},
                {"role": "tool", "content": "first"},
                {"role": "tool", "content": "second", "name": "HassTurnOn"},
            ],
            "tools": TOOLS,
            "tool_choice": {"name": "HassTurnOn"},
            "parallel_tool_calls": False,
        },
    )
    chat = to_hub_request(data, "r1").chat
    results = [m for m in chat.messages if m.role is Role.TOOL]
    assert [(m.tool_call_id, m.tool_name, m.content) for m in results] == [
        ("call_1", "HassTurnOn", "first"),
        ("call_2", "HassTurnOn", "second"),
    ]
    assert chat.messages[0].role is Role.SYSTEM
    assert chat.messages[2].content == ""  # an assistant turn of calls only
    assert chat.tool_choice is not None
    assert (chat.tool_choice.mode, chat.tool_choice.name) == ("tool", "HassTurnOn")
    assert chat.parallel_tool_calls is False
    assert chat.tools[2].parameters == {}
    assert chat.uses_tools


def test_invalid_conversation_names_positions_after_system() -> None:
    data = validate(CHAT_SCHEMA, {"system": "s", "messages": [{"role": "tool", "content": "x"}]})
    with pytest.raises(InvalidRequestError, match=r"messages\.0"):
        to_hub_request(data, "r1")


def test_stream_events_for_text_tool_calls_and_done() -> None:
    calls = (ToolCall("c1", "HassTurnOn", {"name": "kitchen"}), ToolCall("c2", "GetLiveContext"))
    assert _sse(StreamDelta(text="On it. ")) == [b'event: delta\ndata: {"text":"On it. "}\n\n']
    assert _sse(StreamDelta(tool_calls=calls)) == [
        b'event: tool_call\ndata: {"id":"c1","name":"HassTurnOn","arguments":{"name":"kitchen"}}'
        b"\n\n",
        b'event: tool_call\ndata: {"id":"c2","name":"GetLiveContext","arguments":{}}\n\n',
    ]
    done = HubResponse(
        "r1", "", "openai", "gpt-4.1-mini", Usage(1, 2), 3.0, (), finish_reason="tool_calls",
        tool_calls=calls,
    )  # fmt: skip
    [event] = _sse(done)
    assert event.startswith(b"event: done\n")
    assert b'"finish_reason":"tool_calls"' in event
    assert b'"tool_calls":[{"id":"c1"' in event
