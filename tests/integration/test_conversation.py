"""The conversation agents answer through the hub, keep history, and run Home Assistant's tools."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.components import conversation
from homeassistant.components.conversation.const import DATA_COMPONENT as CONVERSATION_ENTITIES
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.const import CONF_LLM_HASS_API
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import chat_session, intent, llm
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.ai_provider_hub.const import CONF_MAX_TOOL_ITERATIONS
from custom_components.ai_provider_hub.conversation import HubConversationEntity

from .fake_hub import FakeHub
from .helpers import assist_tool, exception_message

AGENT = "conversation.ai_provider_hub_conversation"
ASSIST = {CONF_LLM_HASS_API: [llm.LLM_API_ASSIST]}


async def converse(
    hass: HomeAssistant, text: str, conversation_id: str | None = None
) -> conversation.ConversationResult:
    result = await conversation.async_converse(
        hass, text, conversation_id, Context(), agent_id=AGENT
    )
    assert isinstance(result, conversation.ConversationResult)
    return result


def speech(result: conversation.ConversationResult) -> str:
    text: str = result.response.speech["plain"]["speech"]
    return text


@pytest.mark.parametrize(
    "conversation_data", [{"provider": "openai", "prompt": "You are {{ 'Jarvis' }}."}]
)
@pytest.mark.usefixtures("loaded_entry")
async def test_answers_and_keeps_history(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    first = await converse(hass, "Hello")
    assert speech(first) == "Hello there!"
    second = await converse(hass, "And again?", first.conversation_id)
    assert second.conversation_id == first.conversation_id
    sent = fake_hub.generation_requests()
    assert len(sent) == 2
    assert sent[1].body["stream"] is True
    assert sent[1].body["provider"] == "openai"
    assert sent[1].body["system"].startswith("You are Jarvis.")
    assert "tools" not in sent[1].body  # no LLM API chosen: the agent only talks
    assert sent[1].body["messages"] == [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hello there!"},
        {"role": "user", "content": "And again?"},
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_hub_error_is_an_error_response(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    fake_hub.fail("/api/v1/chat", 502, "all_providers_failed", "every provider failed")
    result = await converse(hass, "Hello")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert speech(result) == exception_message(
        "all_providers_failed", message="every provider failed"
    )


@pytest.mark.usefixtures("loaded_entry")
async def test_answer_streams_into_the_chat_log(hass: HomeAssistant) -> None:
    """The pipeline's way: a chat log with a delta listener sees each piece as it arrives."""
    deltas: list[dict[str, object]] = []
    with (
        chat_session.async_get_chat_session(hass) as session,
        conversation.async_get_chat_log(
            hass, session, chat_log_delta_listener=lambda _log, delta: deltas.append(delta)
        ),
    ):
        result = await converse(hass, "Hello", session.conversation_id)
    assert deltas == [
        {"role": "assistant"},
        {"content": "Hello"},
        {"content": " there"},
        {"content": "!"},
    ]
    assert speech(result) == "Hello there!"


@pytest.mark.usefixtures("loaded_entry")
async def test_error_mid_stream_keeps_no_partial_answer(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    fake_hub.stream_error = {"key": "upstream_timeout", "message": "the deadline passed"}
    first = await converse(hass, "Hello")
    assert first.response.response_type is intent.IntentResponseType.ERROR
    assert "the deadline passed" in speech(first)
    assert "Hello there" not in speech(first)

    fake_hub.stream_error = None
    await converse(hass, "Again?", first.conversation_id)
    sent = fake_hub.generation_requests()[-1].body["messages"]
    assert [m["role"] for m in sent if m["role"] == "assistant"] == []
    assert sent[-1] == {"role": "user", "content": "Again?"}


@pytest.mark.usefixtures("loaded_entry")
async def test_agent_declares_streaming(hass: HomeAssistant) -> None:
    entity = hass.data[CONVERSATION_ENTITIES].get_entity(AGENT)
    assert isinstance(entity, HubConversationEntity)
    assert entity.supports_streaming is True
    assert not (entity.supported_features or 0) & conversation.ConversationEntityFeature.CONTROL


@pytest.mark.parametrize("conversation_data", [{"prompt": "You are {{ nothing | no_filter }}"}])
@pytest.mark.usefixtures("loaded_entry")
async def test_broken_prompt_template(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    result = await converse(hass, "Hello")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert fake_hub.generation_requests() == []


@pytest.mark.usefixtures("loaded_entry")
async def test_extra_system_prompt_and_own_tag(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    await conversation.async_converse(
        hass, "Hello", None, Context(), agent_id=AGENT, extra_system_prompt="The door is open."
    )
    [sent] = fake_hub.generation_requests()
    assert sent.body["system"].rstrip().endswith("The door is open.")
    assert sent.body["tag"] == AGENT  # the agent is the caller


@pytest.mark.parametrize("conversation_data", [{"tag": "voice"}])
@pytest.mark.usefixtures("loaded_entry")
async def test_explicit_tag_wins(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    await converse(hass, "Hello")
    assert fake_hub.generation_requests()[0].body["tag"] == "voice"


# --- Device control: Home Assistant's tools through the hub -------------------------------


@pytest.fixture
async def kitchen_light(hass: HomeAssistant) -> list[Any]:
    """An exposed ``light.kitchen`` whose turn_on calls are recorded."""
    assert await async_setup_component(hass, "intent", {})
    hass.states.async_set("light.kitchen", "off", {"friendly_name": "Kitchen light"})
    async_expose_entity(hass, conversation.DOMAIN, "light.kitchen", True)
    calls: list[Any] = async_mock_service(hass, "light", "turn_on")
    return calls


@pytest.fixture
async def turn_on(hass: HomeAssistant, kitchen_light: list[Any]) -> str:  # noqa: ARG001 - the light must exist
    """The name Assist gives the HassTurnOn tool."""
    return await assist_tool(hass, "HassTurnOn")


def turn_on_call(name: str, call_id: str = "call_1") -> dict[str, Any]:
    return {"id": call_id, "name": name, "arguments": {"name": "Kitchen light"}}


@pytest.mark.parametrize("conversation_data", [ASSIST])
@pytest.mark.usefixtures("loaded_entry")
async def test_tool_call_turns_on_the_light(
    hass: HomeAssistant, fake_hub: FakeHub, kitchen_light: list[Any], turn_on: str
) -> None:
    fake_hub.turns = [{"tool_calls": [turn_on_call(turn_on)]}, {"chunks": ["The light is on."]}]
    result = await converse(hass, "Turn on the kitchen light")
    assert speech(result) == "The light is on."
    assert [call.data["entity_id"] for call in kitchen_light] == [["light.kitchen"]]
    first, second = (r.body for r in fake_hub.generation_requests())
    tools = {tool["name"]: tool for tool in first["tools"]}
    assert turn_on in tools
    assert tools[turn_on]["parameters"]["type"] == "object"
    assert second["messages"][-2] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [turn_on_call(turn_on)],
    }
    result_message = second["messages"][-1]
    assert result_message["role"] == "tool"
    assert result_message["tool_call_id"] == "call_1"
    assert result_message["name"] == turn_on
    assert '"light.kitchen"' in result_message["content"]
    assert second["tools"] == first["tools"]


@pytest.mark.parametrize("conversation_data", [ASSIST])
@pytest.mark.usefixtures("loaded_entry")
async def test_agent_with_assist_controls(hass: HomeAssistant) -> None:
    entity = hass.data[CONVERSATION_ENTITIES].get_entity(AGENT)
    assert entity is not None
    assert (entity.supported_features or 0) & conversation.ConversationEntityFeature.CONTROL


@pytest.mark.parametrize("conversation_data", [{**ASSIST, CONF_MAX_TOOL_ITERATIONS: 2}])
@pytest.mark.usefixtures("loaded_entry")
async def test_tool_rounds_are_bounded(
    hass: HomeAssistant, fake_hub: FakeHub, kitchen_light: list[Any], turn_on: str
) -> None:
    fake_hub.turns = [{"tool_calls": [turn_on_call(turn_on, f"call_{n}")]} for n in range(5)]
    result = await converse(hass, "Keep turning it on")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert speech(result) == exception_message("max_tool_iterations", count="2")
    assert len(fake_hub.generation_requests()) == 2
    assert len(kitchen_light) == 2
