"""The ``embed`` action: texts in, vectors out as response data; validation and errors."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.ai_provider_hub.const import DOMAIN, EVENT_RESPONSE

from .fake_hub import EMBEDDINGS, FakeHub
from .helpers import ADD_ON_ERRORS, exception_message

PATH = "/api/v1/embeddings"


async def embed(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    result = await hass.services.async_call(
        DOMAIN, "embed", data, blocking=True, return_response=True
    )
    assert result is not None
    return dict(result)


@pytest.mark.usefixtures("loaded_entry")
async def test_vectors_come_back_as_response_data(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    events = async_capture_events(hass, EVENT_RESPONSE)
    result = await embed(
        hass,
        text=["The spare key is in the blue vase.", "The bins go out on Tuesday."],
        dimensions=3,
        provider="openai",
        model="text-embedding-3-small",
        strategy="cost",
        tag="notes",
        cache=False,
    )
    assert result == EMBEDDINGS
    assert result["vectors"] == [[0.6, 0.8, 0.0], [0.0, 0.6, 0.8]]
    [sent] = fake_hub.sent(PATH)
    assert sent.headers["Authorization"] == f"Bearer {fake_hub.token}"
    assert sent.body == {
        "input": ["The spare key is in the blue vase.", "The bins go out on Tuesday."],
        "dimensions": 3,
        "provider": "openai",
        "model": "text-embedding-3-small",
        "strategy": "cost",
        "tag": "notes",
        "cache": False,
    }
    assert events == []  # vectors are response data, not event payload


@pytest.mark.parametrize(
    "ai_task_data", [{"provider": "ollama", "model": "gemma3:4b", "strategy": "cost"}]
)
@pytest.mark.usefixtures("loaded_entry")
async def test_one_text_and_no_chat_routing(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    """A chat model from the AI Task subentry would not embed: only the call routes."""
    await embed(hass, text="Where is the spare key?")
    [sent] = fake_hub.sent(PATH)
    assert sent.body == {"input": ["Where is the spare key?"]}


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"text": []}, "text"),
        ({"text": ["a"] * 2049}, "text"),
        ({"text": "a", "dimensions": 0}, "dimensions"),
        ({"text": "a", "dimensions": 8193}, "dimensions"),
        ({"text": "a", "tag": "not a tag"}, "tag"),
        ({"text": "a", "strategy": "random"}, "strategy"),
    ],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_schema_rejects_bad_input(
    hass: HomeAssistant, fake_hub: FakeHub, data: dict[str, Any], match: str
) -> None:
    with pytest.raises(Exception, match=match):
        await embed(hass, **data)
    assert fake_hub.sent(PATH) == []


@pytest.mark.usefixtures("loaded_entry")
async def test_empty_text_is_refused_before_sending(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await embed(hass, text=["fine", "  "])
    assert err.value.translation_key == "empty_text"
    assert str(err.value) == exception_message("empty_text")
    assert fake_hub.sent(PATH) == []


@pytest.mark.usefixtures("loaded_entry")
async def test_needs_the_response(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(DOMAIN, "embed", {"text": "a"}, blocking=True)
    assert fake_hub.sent(PATH) == []


@pytest.mark.parametrize(("status", "key", "expected"), ADD_ON_ERRORS)
@pytest.mark.usefixtures("loaded_entry")
async def test_add_on_errors_are_translated(
    hass: HomeAssistant,
    fake_hub: FakeHub,
    status: int,
    key: str,
    expected: type[HomeAssistantError],
) -> None:
    fake_hub.fail(PATH, status, key, "details from the hub")
    with pytest.raises(expected) as err:
        await embed(hass, text="a")
    assert type(err.value) is expected
    known = key if key != "something_new" else "unknown_error"
    assert str(err.value) == exception_message(known, message="details from the hub")


@pytest.mark.usefixtures("loaded_entry")
async def test_misshapen_answer(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    fake_hub.bodies[PATH] = {**EMBEDDINGS, "vectors": "not vectors"}
    with pytest.raises(HomeAssistantError) as err:
        await embed(hass, text="a")
    assert err.value.translation_key == "invalid_response"
    assert "vectors" in str(err.value)


@pytest.mark.usefixtures("loaded_entry")
async def test_rejected_token_starts_reauth(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    fake_hub.token = "rotated"
    with pytest.raises(HomeAssistantError) as err:
        await embed(hass, text="a")
    assert err.value.translation_key == "unauthorized"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
