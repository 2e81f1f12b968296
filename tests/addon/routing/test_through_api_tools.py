"""Tools through the API: capability misses, and a tool conversation that changes vendor.

A model that cannot call tools is a capability miss: skipped without blame.

Ollama's own answer for a model whose template has no tools (HTTP 400 "... does not support
tools") is what the hub meets when the traits know nothing against the model: the request
moves on to the next provider, the Ollama provider stays healthy with its breaker closed, and
only when no candidate can serve the request is the answer 422 ``no_capable_provider``. Calls
made by one vendor are answered, after a failover, on another (whose fake checks the results
against the calls).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.addon.routing.api_fixtures import Hub, HubFactory
from tests.fakes.base import Fault, Reply
from tests.fakes.tools import ToolPlan

TOOLS = [{"name": "turn_on", "parameters": {"type": "object", "properties": {}}}]
TOOLLESS = {"ollama": {"model": "tinyllama", "priority": 1}}


async def toolless_hub(make_hub: HubFactory, **options: Any) -> Hub:
    hub = await make_hub(providers=TOOLLESS, **options)
    hub.fakes.ollama.state.models.append("tinyllama:latest")
    return hub


async def test_the_next_provider_answers(make_hub: HubFactory) -> None:
    hub = await toolless_hub(make_hub, only=("ollama", "openai"))

    answer = await hub.chat("Porch light on", tools=TOOLS)

    assert answer.status == 200, answer.body
    assert answer.outcomes == [("ollama", "capability_miss"), ("openai", "ok")]


async def test_misses_count_nothing_against_the_provider(make_hub: HubFactory) -> None:
    hub = await toolless_hub(make_hub, only=("ollama", "openai"))

    for _ in range(8):  # more than enough failures to open a breaker
        assert (await hub.chat("Porch light on", tools=TOOLS)).status == 200

    health = await (await hub.client.get("/health")).json()
    state = {p["name"]: p["state"] for p in health["providers"]}["ollama"]
    assert state in ("healthy", "unknown")  # neither down nor circuit_open
    plain = await hub.chat("Hello", provider="ollama")
    assert plain.outcomes == [("ollama", "ok")]


async def test_with_no_capable_candidate_the_answer_is_422(make_hub: HubFactory) -> None:
    hub = await toolless_hub(make_hub, only=("ollama",))

    answer = await hub.chat("Porch light on", tools=TOOLS)

    assert answer.status == 422
    assert answer.key == "no_capable_provider"
    assert answer.outcomes == [("ollama", "capability_miss")]
    assert "does not support tools" in answer.error["message"]


# --- failover in the middle of a tool conversation ----------------------------------------
LIGHTS = [
    {
        "name": "turn_on",
        "parameters": {"type": "object", "properties": {"entity_id": {"type": "string"}}},
    },
    {
        "name": "get_state",
        "parameters": {"type": "object", "properties": {"entity_id": {"type": "string"}}},
    },
]


@pytest.mark.parametrize("fallback", ["anthropic", "gemini", "ollama"])
async def test_calls_from_openai_are_answered_on_another_vendor(
    make_hub: HubFactory, fallback: str
) -> None:
    # Ollama's default model here (gemma3) calls no tools; llama3.2 does.
    hub = await make_hub(only=("openai", fallback), providers={"ollama": {"model": "llama3.2"}})
    hub.fakes.openai.script_tools(
        ToolPlan("turn_on", {"entity_id": "light.porch"}),
        ToolPlan("get_state", {"entity_id": "lock.front"}),
    )
    question = {"role": "user", "content": "Porch light on; is the door locked?"}
    first = await hub.post("/api/v1/chat", {"messages": [question], "tools": LIGHTS})
    calls = first.body["tool_calls"]
    hub.fakes.openai.fail_always(Fault.SERVER_ERROR)
    hub.fakes.all[fallback].state.reply = Reply(text="The light is on and the door is locked.")
    results = [{"role": "tool", "tool_call_id": c["id"], "content": '{"ok": true}'} for c in calls]
    history = [question, {"role": "assistant", "content": "", "tool_calls": calls}, *results]

    second = await hub.post("/api/v1/chat", {"messages": history, "tools": LIGHTS})

    assert first.outcomes == [("openai", "ok")]
    assert len(calls) == 2
    assert second.status == 200, second.body
    assert second.outcomes[-1] == (fallback, "ok")
    assert second.body["text"] == "The light is on and the door is locked."
