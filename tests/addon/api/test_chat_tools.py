"""Tools on the native API (``/api/v1/chat``): definitions, calls, results, capability, ledger."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from addon.api.chat import _sse
from addon.api.schemas import CHAT_SCHEMA, to_hub_request, validate
from addon.errors import InvalidRequestError
from addon.models import HubResponse, Role, StreamDelta, ToolCall, Usage
from tests.conftest import AUTH, Fakes, HubClientFactory, provider_options
from tests.fakes.base import Fault
from tests.fakes.tools import ToolPlan

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
    with closing(sqlite3.connect(data_dir / "ledger.sqlite3")) as conn, conn:
        rows = conn.execute("SELECT provider, outcome, tool_calls FROM attempts ORDER BY id")
        return [(str(p), str(o), int(n)) for p, o, n in rows]


# --- a tool loop, as the Home Assistant integration runs it -------------------------------
# Vendors whose fakes are steered with ``script_tools`` and whose providers stream tool calls.
VENDORS = ["openai", "anthropic", "gemini", "ollama"]
# The configured Ollama model (gemma3:4b) calls no tools: the loop pins one that does.
TOOL_MODELS = {"ollama": "llama3.2"}
KITCHEN = ToolPlan("HassTurnOn", {"name": "kitchen light"})
HALL = ToolPlan("HassTurnOff", {"name": "hall light"})


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


async def ask(client: Any, body: dict[str, Any], *, stream: bool) -> dict[str, Any]:
    """The answer as JSON; streamed, the ``done`` event after checking the ``tool_call`` ones."""
    if not stream:
        return await post_chat(client, body)
    response = await client.post("/api/v1/chat", json={**body, "stream": True}, headers=AUTH)
    assert response.status == 200
    events = parse_sse(await response.text())
    assert [name for name, _ in events][-1] == "done"
    done = events[-1][1]
    assert [data for name, data in events if name == "tool_call"] == done["tool_calls"]
    assert "".join(data["text"] for name, data in events if name == "delta") == done["text"]
    return done


@pytest.mark.parametrize("plans", [(KITCHEN,), (KITCHEN, HALL)], ids=["single", "parallel"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("vendor", VENDORS)
async def test_tool_loop_round_trip(
    hub_client: HubClientFactory,
    fakes: Fakes,
    tmp_path: Path,
    vendor: str,
    stream: bool,
    plans: tuple[ToolPlan, ...],
) -> None:
    client = await hub_client()
    fake = fakes.all[vendor]
    fake.script_tools(*plans)
    pin = {"provider": vendor, "model": TOOL_MODELS.get(vendor)}
    body: dict[str, Any] = {"prompt": "Kitchen on, hall off", "tools": TOOLS, **pin}
    first = await ask(client, body, stream=stream)
    assert first["finish_reason"] == "tool_calls"
    calls = first["tool_calls"]
    assert [(c["name"], c["arguments"]) for c in calls] == [(p.name, p.arguments) for p in plans]
    assert len({c["id"] for c in calls}) == len(plans)

    history = [
        {"role": "user", "content": "Kitchen on, hall off"},
        {"role": "assistant", "content": first["text"], "tool_calls": calls},
        *[{"role": "tool", "tool_call_id": c["id"], "content": '{"success": true}'} for c in calls],
    ]
    final = await ask(client, {"messages": history, "tools": TOOLS, **pin}, stream=stream)
    assert final["finish_reason"] == "stop"
    assert final["text"] == fake.state.reply.text
    assert final["tool_calls"] == []
    assert ledger_tool_calls(tmp_path) == [(vendor, "ok", len(plans)), (vendor, "ok", 0)]


async def test_a_call_from_openai_is_answered_on_anthropic_after_failover(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    fakes.openai.script_tools(KITCHEN)
    first = await post_chat(client, {"prompt": "Kitchen light on", "tools": TOOLS})
    assert first["provider"] == "openai"
    [call] = first["tool_calls"]
    fakes.openai.fail_always(Fault.SERVER_ERROR)
    history = [
        {"role": "user", "content": "Kitchen light on"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": '{"success": true}'},
    ]
    final = await post_chat(client, {"messages": history, "tools": TOOLS})
    assert final["provider"] == "anthropic"
    assert [a["provider"] for a in final["attempts"]][-1] == "anthropic"
    wire = fakes.anthropic.requests[-1].body["messages"]
    [tool_use] = [b for b in wire[1]["content"] if b["type"] == "tool_use"]
    [result] = [b for b in wire[2]["content"] if b["type"] == "tool_result"]
    assert result["tool_use_id"] == tool_use["id"]
    assert (tool_use["name"], tool_use["input"]) == ("HassTurnOn", {"name": "kitchen light"})


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
