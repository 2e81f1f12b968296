"""Every request says who made it: the automation or script, else the entity, else nothing."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.ai_provider_hub.caller import sanitize_tag

from .fake_hub import FakeHub

CHAT = {"action": "ai_provider_hub.chat", "data": {"prompt": "Hi"}}
CONVERSE = {
    "action": "conversation.process",
    "data": {"text": "Hi", "agent_id": "conversation.ai_provider_hub_conversation"},
}
TASK = {
    "action": "ai_task.generate_data",
    "data": {
        "task_name": "Summary",
        "instructions": "Sum up",
        "entity_id": "ai_task.ai_provider_hub_ai_task",
    },
    "response_variable": "result",
}

IMAGE = {
    "action": "ai_task.generate_image",
    "data": {
        "task_name": "Poster",
        "instructions": "A cat",
        "entity_id": "ai_task.ai_provider_hub_ai_task",
    },
    "response_variable": "result",
}
EMBED = {
    "action": "ai_provider_hub.embed",
    "data": {"text": "The key is in the vase"},
    "response_variable": "result",
}


async def run_automation(hass: HomeAssistant, action: dict[str, Any], **extra: Any) -> None:
    config = {
        "id": "1712345678901",
        "alias": "Kitchen summary",
        "triggers": [{"trigger": "event", "event_type": "run_it"}],
        "actions": [action],
        **extra,
    }
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    hass.bus.async_fire("run_it")
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    "action",
    [CHAT, CONVERSE, TASK, IMAGE, EMBED],
    ids=["chat", "conversation", "ai_task", "generate_image", "embed"],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_automation_is_the_caller(
    hass: HomeAssistant, fake_hub: FakeHub, action: dict[str, Any]
) -> None:
    await run_automation(hass, action)
    [sent] = fake_hub.calls()
    # The trace names the automation by its configuration id; the tag is its entity ID.
    assert sent.body["tag"] == "automation.kitchen_summary"


@pytest.mark.usefixtures("loaded_entry")
async def test_script_is_the_caller(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    assert await async_setup_component(
        hass, "script", {"script": {"morning_brief": {"sequence": [CHAT]}}}
    )
    await hass.services.async_call("script", "morning_brief", blocking=True)
    [sent] = fake_hub.generation_requests()
    assert sent.body["tag"] == "script.morning_brief"


@pytest.mark.usefixtures("loaded_entry")
async def test_explicit_tag_wins(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    await run_automation(
        hass, {"action": "ai_provider_hub.chat", "data": {"prompt": "Hi", "tag": "mine"}}
    )
    [sent] = fake_hub.generation_requests()
    assert sent.body["tag"] == "mine"


@pytest.mark.usefixtures("loaded_entry")
async def test_action_outside_automations_has_no_tag(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    await hass.services.async_call(
        "ai_provider_hub", "chat", {"prompt": "Hi"}, blocking=True, return_response=True
    )
    [sent] = fake_hub.generation_requests()
    assert "tag" not in sent.body


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("automation.kitchen", "automation.kitchen"),
        ("automation.my automation!", "automation.my_automation_"),
        ("script.küche_licht", "script.k_che_licht"),  # the add-on takes ASCII tags only
        ("automation." + "x" * 80, "automation." + "x" * 53),
    ],
)
def test_sanitize_tag(raw: str, tag: str) -> None:
    assert sanitize_tag(raw) == tag
