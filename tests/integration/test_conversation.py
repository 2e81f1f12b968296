"""The conversation agent answers through the hub and keeps the conversation's history."""

from __future__ import annotations

import pytest
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent

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
