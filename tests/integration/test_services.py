"""The ``analyze_image`` and ``chat`` actions: validation, requests, responses, errors."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any
from unittest.mock import call as call_args
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.ai_provider_hub.const import DOMAIN, EVENT_RESPONSE

from .fake_hub import PNG, RESULT, FakeHub
from .helpers import ADD_ON_ERRORS, JPEG, add_fake_camera, add_fake_image, exception_message


async def call(
    hass: HomeAssistant, action: str, data: dict[str, Any], *, response: bool = True
) -> Any:
    return await hass.services.async_call(
        DOMAIN, action, data, blocking=True, return_response=response
    )


@pytest.mark.usefixtures("loaded_entry")
async def test_chat_returns_response_and_fires_event(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    events = async_capture_events(hass, EVENT_RESPONSE)
    result = await call(
        hass, "chat", {"prompt": "Hi", "system": "Be brief", "max_tokens": 50, "tag": "test.tag"}
    )
    assert result == RESULT
    [sent] = fake_hub.generation_requests()
    assert sent.path == "/api/v1/chat"
    assert sent.headers["Authorization"] == f"Bearer {fake_hub.token}"
    assert sent.body == {
        "prompt": "Hi",
        "system": "Be brief",
        "max_tokens": 50,
        "tag": "test.tag",
        "stream": False,
    }
    assert len(events) == 1
    assert events[0].data == {"action": "chat", "tag": "test.tag", **RESULT}


@pytest.mark.parametrize(
    "ai_task_data", [{"provider": "ollama", "model": "gemma3:4b", "tag": "default-tag"}]
)
@pytest.mark.usefixtures("loaded_entry")
async def test_ai_task_subentry_gives_defaults(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    await call(hass, "chat", {"prompt": "Hi", "provider": "openai"})
    [sent] = fake_hub.generation_requests()
    assert sent.body["provider"] == "openai"  # the call wins
    assert sent.body["model"] == "gemma3:4b"
    assert sent.body["tag"] == "default-tag"


@pytest.mark.usefixtures("loaded_entry")
async def test_chat_messages_and_structure(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    fake_hub.bodies["/api/v1/chat"]["data"] = {"person": True}
    messages = [
        {"role": "user", "content": "Is someone there?"},
        {"role": "assistant", "content": "Where?"},
        {"role": "user", "content": "At the door."},
    ]
    result = await call(
        hass,
        "chat",
        {"messages": messages, "structure": '{"type": "object", "properties": {}}'},
    )
    assert result["data"] == {"person": True}
    [sent] = fake_hub.generation_requests()
    assert sent.body["messages"] == messages
    assert sent.body["structure"] == {"type": "object", "properties": {}}


@pytest.mark.usefixtures("loaded_entry")
async def test_without_response_still_fires_event(hass: HomeAssistant) -> None:
    events = async_capture_events(hass, EVENT_RESPONSE)
    assert await call(hass, "chat", {"prompt": "Hi"}, response=False) is None
    assert events[0].data["text"] == RESULT["text"]


@pytest.mark.usefixtures("loaded_entry")
async def test_analyze_camera_frames(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    camera = await add_fake_camera(hass)
    result = await call(
        hass,
        "analyze_image",
        {
            "prompt": "What moved?",
            "camera_entity_id": "camera.front_door",
            "frames": 3,
            "interval": 0,
            "detail": "low",
        },
    )
    assert result["text"] == RESULT["text"]
    assert camera.snapshots == 3
    [sent] = fake_hub.generation_requests()
    assert sent.path == "/api/v1/vision"
    assert sent.body["detail"] == "low"
    assert (
        sent.body["images"]
        == [{"data": base64.b64encode(JPEG).decode(), "mime_type": "image/jpeg"}] * 3
    )


@pytest.mark.usefixtures("loaded_entry")
async def test_analyze_image_entity_file_and_url(
    hass: HomeAssistant, fake_hub: FakeHub, tmp_path: Path
) -> None:
    await add_fake_image(hass)
    picture = tmp_path / "door.png"
    picture.write_bytes(PNG)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    await call(
        hass,
        "analyze_image",
        {
            "prompt": "Describe",
            "image_entity_id": ["image.doorbell"],
            "file_path": str(picture),
            "url": f"{fake_hub.url}/image.png",
        },
    )
    [sent] = fake_hub.generation_requests()
    png = base64.b64encode(PNG).decode()
    assert sent.body["images"] == [{"data": png, "mime_type": "image/png"}] * 3


@pytest.mark.parametrize(
    ("action", "data", "key"),
    [
        ("chat", {"prompt": "   "}, "empty_prompt"),
        ("chat", {}, "prompt_or_messages"),
        ("chat", {"messages": [{"role": "user", "content": " "}]}, "empty_message"),
        ("chat", {"prompt": "Hi", "structure": "not json"}, "invalid_structure"),
        ("chat", {"prompt": "Hi", "structure": {"title": "no type"}}, "invalid_structure"),
        ("chat", {"prompt": "Hi", "config_entry_id": "nope"}, "entry_not_found"),
        ("analyze_image", {"prompt": "Hi"}, "no_images"),
        ("analyze_image", {"prompt": "", "url": "http://127.0.0.1/x.png"}, "empty_prompt"),
        ("analyze_image", {"prompt": "Hi", "camera_entity_id": "camera.gone"}, "entity_not_found"),
        ("analyze_image", {"prompt": "Hi", "image_entity_id": "image.gone"}, "entity_not_found"),
        ("analyze_image", {"prompt": "Hi", "file_path": "/etc/passwd"}, "path_not_allowed"),
        ("analyze_image", {"prompt": "Hi", "file_path": "relative.png"}, "path_not_allowed"),
        (
            "analyze_image",
            {"prompt": "Hi", "url": ["http://127.0.0.1/a.png"] * 11},
            "too_many_images",
        ),
    ],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_validation_before_any_request(
    hass: HomeAssistant, fake_hub: FakeHub, action: str, data: dict[str, Any], key: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, action, data)
    assert err.value.translation_key == key
    assert fake_hub.generation_requests() == []


@pytest.mark.usefixtures("loaded_entry")
async def test_missing_file_in_allowed_dir(
    hass: HomeAssistant, fake_hub: FakeHub, tmp_path: Path
) -> None:
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "analyze_image", {"prompt": "Hi", "file_path": str(tmp_path / "x.png")})
    assert err.value.translation_key == "file_not_found"
    assert fake_hub.generation_requests() == []


@pytest.mark.usefixtures("loaded_entry")
async def test_url_that_is_not_an_image(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "analyze_image", {"prompt": "Hi", "url": f"{fake_hub.url}/page.html"})
    assert err.value.translation_key == "url_fetch_failed"
    assert fake_hub.generation_requests() == []


@pytest.mark.usefixtures("loaded_entry")
async def test_schema_rejects_bad_input(hass: HomeAssistant) -> None:
    with pytest.raises(Exception, match="frames"):
        await call(
            hass, "analyze_image", {"prompt": "Hi", "camera_entity_id": "camera.x", "frames": 11}
        )
    with pytest.raises(Exception, match="camera_entity_id"):
        await call(hass, "analyze_image", {"prompt": "Hi", "camera_entity_id": "light.kitchen"})


@pytest.mark.parametrize("tag", ["küche", "kitchen\n", "a b"])
@pytest.mark.usefixtures("loaded_entry")
async def test_a_tag_the_add_on_would_refuse_is_refused_here(
    hass: HomeAssistant, fake_hub: FakeHub, tag: str
) -> None:
    """Tags follow the add-on's rule (ASCII letters, digits, ``_.:/-``) before any request."""
    with pytest.raises(Exception, match="tag"):
        await call(hass, "chat", {"prompt": "Hi", "tag": tag})
    assert fake_hub.generation_requests() == []


@pytest.mark.parametrize(("status", "key", "expected"), ADD_ON_ERRORS)
@pytest.mark.usefixtures("loaded_entry")
async def test_add_on_errors_are_translated(
    hass: HomeAssistant,
    fake_hub: FakeHub,
    status: int,
    key: str,
    expected: type[HomeAssistantError],
) -> None:
    events = async_capture_events(hass, EVENT_RESPONSE)
    fake_hub.fail("/api/v1/chat", status, key, "details from the hub", retry_after=3)
    with pytest.raises(expected) as err:
        await call(hass, "chat", {"prompt": "Hi"})
    assert type(err.value) is expected
    known = key if key != "something_new" else "unknown_error"
    assert err.value.translation_key == known
    assert str(err.value) == exception_message(known, message="details from the hub")
    assert events == []


@pytest.mark.usefixtures("loaded_entry")
async def test_rejected_token_during_action_starts_reauth(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    fake_hub.token = "rotated"
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "chat", {"prompt": "Hi"})
    assert err.value.translation_key == "unauthorized"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


@pytest.mark.usefixtures("fake_hub")
async def test_entry_choice(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    second = MockConfigEntry(domain=DOMAIN, unique_id="other:1", data=dict(loaded_entry.data))
    second.add_to_hass(hass)
    assert await hass.config_entries.async_setup(second.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "chat", {"prompt": "Hi"})
    assert err.value.translation_key == "entry_required"
    result = await call(hass, "chat", {"prompt": "Hi", "config_entry_id": second.entry_id})
    assert result["text"] == RESULT["text"]
    await hass.config_entries.async_unload(second.entry_id)
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "chat", {"prompt": "Hi", "config_entry_id": second.entry_id})
    assert err.value.translation_key == "entry_not_loaded"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "chat", {"prompt": "Hi"})
    assert err.value.translation_key == "no_loaded_entry"


@pytest.mark.usefixtures("loaded_entry")
async def test_frames_wait_the_interval(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    camera = await add_fake_camera(hass)
    with patch("custom_components.ai_provider_hub.images.asyncio.sleep") as sleep:
        await call(
            hass,
            "analyze_image",
            {"prompt": "What moved?", "camera_entity_id": "camera.front_door", "frames": 3},
        )
        assert sleep.await_args_list == [call_args(1.0), call_args(1.0)]
        await call(
            hass,
            "analyze_image",
            {
                "prompt": "What moved?",
                "camera_entity_id": "camera.front_door",
                "frames": 2,
                "interval": 2.5,
            },
        )
        assert sleep.await_args_list[2:] == [call_args(2.5)]
    assert camera.snapshots == 5
    assert [len(r.body["images"]) for r in fake_hub.generation_requests()] == [3, 2]


@pytest.mark.usefixtures("loaded_entry")
async def test_camera_without_snapshot_sends_nothing(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    await add_fake_camera(hass, None)
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "analyze_image", {"prompt": "Hi", "camera_entity_id": "camera.front_door"})
    assert err.value.translation_key == "camera_snapshot_failed"
    assert str(err.value) == exception_message(
        "camera_snapshot_failed", entity_id="camera.front_door"
    )
    assert fake_hub.generation_requests() == []


@pytest.mark.parametrize("path", ["/image.png", "/chunked.png"])
@pytest.mark.usefixtures("loaded_entry")
async def test_url_over_the_size_limit(hass: HomeAssistant, fake_hub: FakeHub, path: str) -> None:
    with (
        patch("custom_components.ai_provider_hub.images.MAX_IMAGE_BYTES", len(PNG) - 1),
        pytest.raises(HomeAssistantError) as err,
    ):
        await call(hass, "analyze_image", {"prompt": "Hi", "url": f"{fake_hub.url}{path}"})
    assert err.value.translation_key == "url_fetch_failed"
    assert fake_hub.generation_requests() == []


@pytest.mark.usefixtures("loaded_entry")
async def test_chunked_url_within_the_limit(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    await call(hass, "analyze_image", {"prompt": "Hi", "url": f"{fake_hub.url}/chunked.png"})
    [sent] = fake_hub.generation_requests()
    png = base64.b64encode(PNG).decode()
    assert sent.body["images"] == [{"data": png, "mime_type": "image/png"}]


@pytest.mark.usefixtures("loaded_entry")
async def test_image_entity_without_image(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    image = await add_fake_image(hass)
    image.content = None
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "analyze_image", {"prompt": "Hi", "image_entity_id": "image.doorbell"})
    assert err.value.translation_key == "image_entity_failed"
    assert fake_hub.generation_requests() == []


@pytest.mark.usefixtures("loaded_entry")
async def test_file_over_the_size_limit(
    hass: HomeAssistant, fake_hub: FakeHub, tmp_path: Path
) -> None:
    picture = tmp_path / "door.png"
    picture.write_bytes(PNG)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    with (
        patch("custom_components.ai_provider_hub.images.MAX_IMAGE_BYTES", len(PNG) - 1),
        pytest.raises(HomeAssistantError) as err,
    ):
        await call(hass, "analyze_image", {"prompt": "Hi", "file_path": str(picture)})
    assert err.value.translation_key == "file_read_failed"
    assert fake_hub.generation_requests() == []


@pytest.mark.usefixtures("loaded_entry")
async def test_url_answering_an_error(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "analyze_image", {"prompt": "Hi", "url": f"{fake_hub.url}/missing.png"})
    assert err.value.translation_key == "url_fetch_failed"
    assert fake_hub.generation_requests() == []
