"""End to end, the house's AI: Assist controls a light, AI Task, caller tags, repairs.

Home Assistant -> this integration -> the real add-on (``addon_process`` fixtures) -> the
simulated vendors, which speak each vendor's tool-calling wire format.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.ai_provider_hub.const import DOMAIN, EVENT_ALERT

from .addon_process import SAMPLE, Hub, act, refresh
from .helpers import add_fake_camera, add_fake_light, assist_tool, state

AGENT = "conversation.ai_provider_hub_conversation"
ASSIST = {"llm_hass_api": ["assist"]}
TURN_ON = "HassTurnOn"
# A second, tool-capable vendor behind the hub (the first Ollama model has no tools).
OLLAMA_TOOLS = {
    "name": "ollama-tools",
    "type": "ollama",
    "base_url": "{ollama}",
    "model": "llama3.2:latest",
    "priority": 50,
}


async def converse(hass: HomeAssistant, text: str) -> conversation.ConversationResult:
    result = await conversation.async_converse(hass, text, None, Context(), agent_id=AGENT)
    assert isinstance(result, conversation.ConversationResult)
    return result


def issue_kinds(hass: HomeAssistant) -> set[str]:
    registry = ir.async_get(hass)
    return {str(i.translation_key) for (d, _), i in registry.issues.items() if d == DOMAIN}


async def completions(hub: Hub) -> list[dict[str, Any]]:
    rows = await hub.received("openai")
    return [r["body"] for r in rows if r["path"].endswith("/chat/completions")]


@pytest.mark.parametrize("conversation_data", [ASSIST])
@pytest.mark.usefixtures("hub_entry")
async def test_assist_turns_on_the_light(hass: HomeAssistant, hub: Hub) -> None:
    await add_fake_light(hass)
    turn_on = await assist_tool(hass, TURN_ON)
    await hub.script_tools("openai", {"name": turn_on, "arguments": {"name": "Kitchen light"}})
    result = await converse(hass, "Turn on the kitchen light")
    assert result.response.response_type is not intent.IntentResponseType.ERROR
    assert state(hass, "light.kitchen_light") == "on"
    assert result.response.speech["plain"]["speech"] == "Hello from the fake."
    first, second = await completions(hub)
    assert turn_on in [tool["function"]["name"] for tool in first["tools"]]
    [call] = second["messages"][-2]["tool_calls"]
    assert call["function"]["name"] == turn_on
    [answer] = [m for m in second["messages"] if m["role"] == "tool"]
    assert answer["tool_call_id"] == call["id"]
    assert "light.kitchen_light" in answer["content"]
    usage = await hub.usage()
    assert usage["by_tag"][AGENT]["requests"] == 2  # both rounds, filed under the agent


@pytest.mark.parametrize("extra_options", [{"extra_providers": [OLLAMA_TOOLS]}])
@pytest.mark.parametrize("conversation_data", [ASSIST])
@pytest.mark.usefixtures("hub_entry")
async def test_assist_fails_over_mid_loop(hass: HomeAssistant, hub: Hub) -> None:
    """OpenAI asks for the tool, then fails: the hub finishes the conversation on Ollama."""
    light = await add_fake_light(hass)
    turn_on = await assist_tool(hass, TURN_ON)
    await hub.script_tools("openai", {"name": turn_on, "arguments": {"name": "Kitchen light"}})

    async def openai_breaks() -> None:
        await hub.fault("openai", "server_error")

    light.before_turn_on = openai_breaks  # between the two rounds
    result = await converse(hass, "Turn on the kitchen light")
    assert state(hass, "light.kitchen_light") == "on"
    assert result.response.speech["plain"]["speech"]
    assert len(await completions(hub)) >= 2  # the call, then the failed second round
    [chat] = [r["body"] for r in await hub.received("ollama") if r["path"] == "/api/chat"]
    assert chat["model"] == "llama3.2:latest"
    roles = [m["role"] for m in chat["messages"]]
    assert roles[-2:] == ["assistant", "tool"]
    assert chat["messages"][-2]["tool_calls"][0]["function"]["name"] == turn_on
    by_provider = (await hub.usage())["by_provider"]
    assert by_provider["ollama-tools"]["succeeded"] == 1


@pytest.mark.usefixtures("hub_entry")
async def test_ai_task_camera_and_structure(hass: HomeAssistant, hub: Hub) -> None:
    camera = await add_fake_camera(hass, SAMPLE.read_bytes())
    async with hub.session.post(
        f"{hub.fakes['openai']}/_fake/reply",
        json={"text": '{"visitor": "postman", "parcel": true}'},
    ) as resp:
        resp.raise_for_status()
    result = await hass.services.async_call(
        "ai_task",
        "generate_data",
        {
            "task_name": "Front door",
            "entity_id": "ai_task.ai_provider_hub_ai_task",
            "instructions": "Who is at the door?",
            "structure": {
                "visitor": {"selector": {"text": None}, "required": True},
                "parcel": {"selector": {"boolean": None}},
            },
            "attachments": [
                {
                    "media_content_id": "media-source://camera/camera.front_door",
                    "media_content_type": "",
                }
            ],
        },
        blocking=True,
        return_response=True,
    )
    assert result is not None
    assert result["data"] == {"visitor": "postman", "parcel": True}
    assert camera.snapshots == 1
    [body] = await completions(hub)
    parts = body["messages"][-1]["content"]
    assert [p["type"] for p in parts].count("image_url") == 1
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["visitor"]
    assert (await hub.usage())["by_tag"]["ai_task.ai_provider_hub_ai_task"]["requests"] == 1


@pytest.mark.usefixtures("hub_entry")
async def test_automation_tag_reaches_the_ledger(hass: HomeAssistant, hub: Hub) -> None:
    automation = {
        "id": "doorbell_1",
        "alias": "Doorbell describe",
        "triggers": [{"trigger": "event", "event_type": "doorbell"}],
        "actions": [{"action": "ai_provider_hub.chat", "data": {"prompt": "Who rang?"}}],
    }
    assert await async_setup_component(hass, "automation", {"automation": [automation]})
    hass.bus.async_fire("doorbell")
    await hass.async_block_till_done()
    tag = "automation.doorbell_describe"
    by_tag = (await hub.usage())["by_tag"]
    assert by_tag[tag]["requests"] == 1
    await refresh(hass)
    spend = hass.states.get("sensor.ai_provider_hub_spend_today")
    assert spend is not None
    assert spend.attributes["by_caller"][tag] == pytest.approx(by_tag[tag]["cost_usd"])


@pytest.mark.usefixtures("hub_entry")
async def test_budget_repair_raised_and_cleared(hass: HomeAssistant, hub: Hub) -> None:
    """Spend; the add-on restarts with a budget that makes it 90 % spent, then without.

    (As the Supervisor restarts it when its options change; the ledger seeds the spend.)
    """
    events = async_capture_events(hass, EVENT_ALERT)
    cost = (await act(hass, "chat", prompt="Hello", provider="openai"))["cost_usd"]
    assert cost > 0
    await hub.restart({"budget_daily_usd": cost / 0.9})
    await refresh(hass)
    [issue] = [i for (d, _), i in ir.async_get(hass).issues.items() if d == DOMAIN]
    assert issue.translation_key == "budget_warning"
    assert issue.translation_placeholders is not None
    # The answer shows its cost rounded; the ledger keeps it exact.
    assert int(issue.translation_placeholders["percent"]) == pytest.approx(90, abs=2)
    await hub.restart({})
    await refresh(hass)
    assert issue_kinds(hass) == set()
    assert [(e.data["alert"], e.data["active"], e.data["scope"]) for e in events] == [
        ("budget_warning", True, "hub"),
        ("budget_warning", False, "hub"),
    ]


@pytest.mark.parametrize("extra_options", [{"health_check_interval": 5}])
@pytest.mark.usefixtures("hub_entry")
async def test_outage_repair_raised_and_cleared(hass: HomeAssistant, hub: Hub) -> None:
    events = async_capture_events(hass, EVENT_ALERT)
    await hub.fault("openai", "server_error")
    await act(hass, "chat", prompt="Hello")  # OpenAI fails, Ollama answers
    await refresh(hass)
    assert state(hass, "sensor.openai_status") == "down"
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=6))
    await hass.async_block_till_done()
    assert issue_kinds(hass) == {"provider_down"}

    await hub.fault("openai", None)  # it recovers; the next health check sees it
    await wait_for(hass, lambda: "provider_down" not in issue_kinds(hass))
    assert [(e.data["alert"], e.data["active"], e.data["provider"]) for e in events] == [
        ("provider_down", True, "openai"),
        ("provider_down", False, "openai"),
    ]


async def wait_for(hass: HomeAssistant, condition: Callable[[], bool], attempts: int = 60) -> None:
    """Poll the add-on until ``condition()`` holds (its health checks run every 5 s)."""
    for _ in range(attempts):
        await refresh(hass)
        if condition():
            return
        await asyncio.sleep(0.5)
    pytest.fail("the condition never held")
