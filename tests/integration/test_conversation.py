"""The conversation agent answers through the hub and keeps the conversation's history."""

from __future__ import annotations

import pytest
from homeassistant.components import conversation
from homeassistant.components.conversation.const import DATA_COMPONENT as CONVERSATION_ENTITIES
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import chat_session, intent

from custom_components.ai_provider_hub.conversation import HubConversationEntity

from .fake_hub import FakeHub

AGENT = "conversation.ai_provider_hub"


async def converse(hass: HomeAssistant, text: str, conversation_id: str | None = None) -> object:
    return await conversation.async_converse(hass, text, conversation_id, Context(), agent_id=AGENT)


@pytest.mark.parametrize(
    "entry_options", [{"provider": "openai", "prompt": "You are {{ 'Jarvis' }}."}]
)
@pytest.mark.usefixtures("loaded_entry")
async def test_answers_and_keeps_history(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    first = await converse(hass, "Hello")
    assert isinstance(first, conversation.ConversationResult)
    assert first.response.speech["plain"]["speech"] == "Hello there!"
    second = await converse(hass, "And again?", first.conversation_id)
    assert isinstance(second, conversation.ConversationResult)
    assert second.conversation_id == first.conversation_id
    sent = fake_hub.generation_requests()
    assert len(sent) == 2
    assert sent[1].body["stream"] is True
    assert sent[1].body["provider"] == "openai"
    assert sent[1].body["system"].startswith("You are Jarvis.")
    assert sent[1].body["messages"] == [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hello there!"},
        {"role": "user", "content": "And again?"},
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_hub_error_is_an_error_response(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    fake_hub.fail("/api/v1/chat", 502, "all_providers_failed", "every provider failed")
    result = await converse(hass, "Hello")
    assert isinstance(result, conversation.ConversationResult)
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert "every provider failed" in result.response.speech["plain"]["speech"]


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
    assert isinstance(result, conversation.ConversationResult)
    assert deltas == [
        {"role": "assistant"},
        {"content": "Hello"},
        {"content": " there"},
        {"content": "!"},
    ]
    assert result.response.speech["plain"]["speech"] == "Hello there!"


@pytest.mark.usefixtures("loaded_entry")
async def test_error_mid_stream_keeps_no_partial_answer(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    fake_hub.stream_error = {"key": "upstream_timeout", "message": "the deadline passed"}
    first = await converse(hass, "Hello")
    assert isinstance(first, conversation.ConversationResult)
    assert first.response.response_type is intent.IntentResponseType.ERROR
    assert "the deadline passed" in first.response.speech["plain"]["speech"]
    assert "Hello there" not in first.response.speech["plain"]["speech"]

    fake_hub.stream_error = None
    await converse(hass, "Again?", first.conversation_id)
    sent = fake_hub.generation_requests()[-1].body["messages"]
    assert [m["role"] for m in sent if m["role"] == "assistant"] == []
    assert sent[-1] == {"role": "user", "content": "Again?"}


@pytest.mark.usefixtures("loaded_entry")
async def test_agent_declares_streaming(hass: HomeAssistant) -> None:
    entity = hass.data[CONVERSATION_ENTITIES].get_entity(AGENT)
    assert isinstance(entity, HubConversationEntity)
    # Cores that stream to the pipeline read this (2025.4 streams whatever the log gets).
    assert entity._attr_supports_streaming is True


@pytest.mark.parametrize("entry_options", [{"prompt": "You are {{ nothing | no_such_filter }}"}])
@pytest.mark.usefixtures("loaded_entry")
async def test_broken_prompt_template(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    result = await converse(hass, "Hello")
    assert isinstance(result, conversation.ConversationResult)
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert fake_hub.generation_requests() == []


@pytest.mark.usefixtures("loaded_entry")
async def test_extra_system_prompt_is_appended(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    await conversation.async_converse(
        hass, "Hello", None, Context(), agent_id=AGENT, extra_system_prompt="The door is open."
    )
    [sent] = fake_hub.generation_requests()
    assert sent.body["system"].endswith("\nThe door is open.")
    assert sent.body["tag"] == "conversation"
