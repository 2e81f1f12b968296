"""The AI Task entity: ``ai_task.generate_data`` through the hub (text, structure, images)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from custom_components.ai_provider_hub.chat_log import read_images

from .fake_hub import PNG, FakeHub
from .helpers import JPEG, add_fake_camera, add_fake_image, exception_message

TASK_ENTITY = "ai_task.ai_provider_hub_ai_task"
STRUCTURE = {
    "visitor": {"selector": {"text": None}, "required": True},
    "count": {"selector": {"number": {"min": 0, "max": 10}}},
}
SCHEMA = {
    "type": "object",
    "properties": {
        "visitor": {"type": "string"},
        "count": {"type": "number", "minimum": 0, "maximum": 10},
    },
    "required": ["visitor"],
}
CAMERA = {"media_content_id": "media-source://camera/camera.front_door", "media_content_type": ""}


async def generate(hass: HomeAssistant, **data: Any) -> Any:
    result = await hass.services.async_call(
        "ai_task",
        "generate_data",
        {"task_name": "Door check", "entity_id": TASK_ENTITY, **data},
        blocking=True,
        return_response=True,
    )
    assert result is not None
    return result["data"]


@pytest.mark.parametrize("ai_task_data", [{"provider": "openai", "strategy": "cost"}])
@pytest.mark.usefixtures("loaded_entry")
async def test_text_task(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    assert await generate(hass, instructions="Say hello") == "Hello there!"
    [sent] = fake_hub.generation_requests()
    assert sent.path == "/api/v1/chat"
    body = sent.body
    assert (body["provider"], body["strategy"], body["stream"]) == ("openai", "cost", True)
    assert body["tag"] == TASK_ENTITY  # the entity is the caller
    assert body["messages"][-1] == {"role": "user", "content": "Say hello"}
    assert "structure" not in body
    assert "tools" not in body


@pytest.mark.usefixtures("loaded_entry")
async def test_structured_task_with_camera_snapshot(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    camera = await add_fake_camera(hass)
    fake_hub.bodies["/api/v1/vision"]["data"] = {"visitor": "postman", "count": 1}
    data = await generate(
        hass, instructions="Who is at the door?", structure=STRUCTURE, attachments=[CAMERA]
    )
    assert data == {"visitor": "postman", "count": 1}
    assert camera.snapshots == 1
    [sent] = fake_hub.generation_requests()
    assert sent.path == "/api/v1/vision"
    assert sent.body["images"] == [
        {"data": base64.b64encode(JPEG).decode(), "mime_type": "image/jpeg"}
    ]
    # Newer releases (probatio's codec) also say the object is closed; older ones leave it out.
    structure = dict(sent.body["structure"])
    assert structure.pop("additionalProperties", False) is False
    assert structure == SCHEMA
    assert sent.body["messages"][-1] == {"role": "user", "content": "Who is at the door?"}


@pytest.mark.usefixtures("loaded_entry")
async def test_structured_answer_from_text(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    """A hub answer without parsed ``data`` is read from its text."""
    fake_hub.turns = [{"chunks": ['{"visitor": ', '"cat"}']}]
    assert await generate(hass, instructions="Who?", structure=STRUCTURE) == {"visitor": "cat"}


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ({"count": 3}, None),  # the required field is missing
        ({"visitor": "cat", "count": 99}, None),  # out of the selector's range
        (None, "not json"),
    ],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_answer_that_does_not_fit_is_an_error(
    hass: HomeAssistant, fake_hub: FakeHub, data: Any, text: str | None
) -> None:
    fake_hub.bodies["/api/v1/chat"]["data"] = data
    if text is not None:
        fake_hub.turns = [{"chunks": [text]}]
    with pytest.raises(HomeAssistantError) as err:
        await generate(hass, instructions="Who?", structure=STRUCTURE)
    assert err.value.translation_key == "invalid_structured_answer"
    assert err.value.translation_placeholders is not None
    message = err.value.translation_placeholders["message"]
    assert str(err.value) == exception_message("invalid_structured_answer", message=message)


@pytest.mark.usefixtures("loaded_entry")
async def test_hub_error_is_translated(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    fake_hub.fail("/api/v1/chat", 429, "budget_exceeded", "the daily budget is spent")
    with pytest.raises(HomeAssistantError) as err:
        await generate(hass, instructions="Say hello")
    assert err.value.translation_key == "budget_exceeded"
    assert str(err.value) == exception_message(
        "budget_exceeded", message="the daily budget is spent"
    )


@pytest.mark.usefixtures("loaded_entry")
async def test_image_entity_attachment(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    await add_fake_image(hass)
    image = {"media_content_id": "media-source://image/image.doorbell", "media_content_type": ""}
    await generate(hass, instructions="What is shown?", attachments=[image])
    [sent] = fake_hub.generation_requests()
    assert sent.path == "/api/v1/vision"
    assert sent.body["images"] == [
        {"data": base64.b64encode(PNG).decode(), "mime_type": "image/png"}
    ]


def test_only_images_are_sent(tmp_path: Path) -> None:
    """A PDF or text file (a media-source file) is refused before anything is sent."""
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    attachment = conversation.Attachment(
        media_content_id="media-source://media_source/local/notes.txt",
        mime_type="text/plain",
        path=text,
    )
    with pytest.raises(ServiceValidationError) as err:
        read_images([attachment])
    assert err.value.translation_key == "unsupported_attachment"
    picture = tmp_path / "door.jpg"
    picture.write_bytes(JPEG)
    ok = conversation.Attachment(media_content_id="x", mime_type="image/jpeg", path=picture)
    assert read_images([ok]) == [
        {"data": base64.b64encode(JPEG).decode(), "mime_type": "image/jpeg"}
    ]


async def generate_image(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    result = await hass.services.async_call(
        "ai_task",
        "generate_image",
        {"task_name": "Poster", "entity_id": TASK_ENTITY, **data},
        blocking=True,
        return_response=True,
    )
    assert result is not None
    return dict(result)


def saved_images(hass: HomeAssistant) -> list[bytes]:
    """The pictures ``ai_task.generate_image`` stored in the test's media folder."""
    folder = Path(hass.config.media_dirs["local"]) / "ai_task"
    return [p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()]


@pytest.mark.usefixtures("loaded_entry")
async def test_generate_image(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    result = await generate_image(hass, instructions="A cat on a sofa, watercolour")
    [sent] = fake_hub.sent("/api/v1/images")
    assert sent.body == {
        "prompt": "A cat on a sofa, watercolour",
        "count": 1,
        "tag": TASK_ENTITY,  # the entity is the caller
    }
    assert (result["mime_type"], result["width"], result["height"]) == ("image/png", 1, 1)
    assert result["model"] == "openai/gpt-image-1"
    assert result["revised_prompt"] == "A cat on a sofa, watercolour"  # none from the hub
    assert result["media_source_id"].startswith("media-source://ai_task/")
    assert saved_images(hass) == [PNG]


@pytest.mark.parametrize(
    "ai_task_data",
    [{"provider": "openai", "model": "gpt-4.1", "image_model": "dall-e-3", "strategy": "cost"}],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_image_routing_from_the_subentry(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    """The subentry's image model is asked for, never its chat model."""
    fake_hub.bodies["/api/v1/images"]["images"][0]["revised_prompt"] = "A tabby cat, watercolour"
    result = await generate_image(hass, instructions="A cat")
    [sent] = fake_hub.sent("/api/v1/images")
    assert sent.body == {
        "prompt": "A cat",
        "count": 1,
        "provider": "openai",
        "strategy": "cost",
        "model": "dall-e-3",
        "tag": TASK_ENTITY,
    }
    assert result["revised_prompt"] == "A tabby cat, watercolour"


@pytest.mark.usefixtures("loaded_entry")
async def test_image_attachments_are_refused(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    await add_fake_camera(hass)
    with pytest.raises(ServiceValidationError) as err:
        await generate_image(hass, instructions="Make it blue", attachments=[CAMERA])
    assert err.value.translation_key == "image_attachments_unsupported"
    assert str(err.value) == exception_message("image_attachments_unsupported")
    assert fake_hub.sent("/api/v1/images") == []


@pytest.mark.parametrize(
    ("status", "key", "expected"),
    [
        (422, "no_capable_provider", ServiceValidationError),
        (400, "provider_bad_request", ServiceValidationError),
        (429, "budget_exceeded", HomeAssistantError),
        (502, "all_providers_failed", HomeAssistantError),
    ],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_image_errors_are_translated(
    hass: HomeAssistant,
    fake_hub: FakeHub,
    status: int,
    key: str,
    expected: type[HomeAssistantError],
) -> None:
    fake_hub.fail("/api/v1/images", status, key, "details from the hub")
    with pytest.raises(expected) as err:
        await generate_image(hass, instructions="A cat")
    assert type(err.value) is expected
    assert str(err.value) == exception_message(key, message="details from the hub")
    assert saved_images(hass) == []


@pytest.mark.parametrize(
    ("images", "key"),
    [([], "no_image"), ([{"data": "not base64!", "mime_type": "image/png"}], "invalid_response")],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_answer_without_a_usable_image(
    hass: HomeAssistant, fake_hub: FakeHub, images: list[dict[str, Any]], key: str
) -> None:
    fake_hub.bodies["/api/v1/images"]["images"] = images
    with pytest.raises(HomeAssistantError) as err:
        await generate_image(hass, instructions="A cat")
    assert err.value.translation_key == key
    assert saved_images(hass) == []


@pytest.mark.usefixtures("loaded_entry")
async def test_undecodable_picture_has_no_size(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    """The hub checks what it returns; should a picture still not decode, it is kept as is."""
    data = base64.b64encode(b"\x89PNG but not really").decode()
    fake_hub.bodies["/api/v1/images"]["images"] = [{"data": data, "mime_type": "image/png"}]
    result = await generate_image(hass, instructions="A cat")
    assert (result["width"], result["height"]) == (None, None)
