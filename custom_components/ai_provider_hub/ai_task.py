"""AI Task entities (one per ``ai_task_data`` subentry): ``generate_data`` and ``generate_image``.

Instructions go to the hub's chat endpoint; with attachments (camera snapshots, images,
media files) to its vision endpoint. A structure becomes the hub's JSON schema, and the
answer is checked against the structure before it is returned. Images are made by the hub's
image generation endpoint (the subentry's image model, else each provider's).
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

from homeassistant.components import ai_task, conversation
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from PIL import Image, UnidentifiedImageError

from .compat import vol
from .const import CONF_IMAGE_MODEL, DOMAIN, SUBENTRY_AI_TASK
from .coordinator import HubConfigEntry
from .errors import ask_hub, validation_error
from .llm_entity import HubLLMEntity, add_subentry_entities

_LOGGER = logging.getLogger(__name__)

PARALLEL_UPDATES = 0  # tasks are independent requests; the hub owns concurrency limits


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001 - Home Assistant's signature
    entry: HubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one AI Task entity per ``ai_task_data`` subentry."""
    add_subentry_entities(entry, async_add_entities, SUBENTRY_AI_TASK, HubTaskEntity)


class HubTaskEntity(ai_task.AITaskEntity, HubLLMEntity):
    """Generates text or structured data through the hub."""

    _attr_supported_features = (
        ai_task.AITaskEntityFeature.GENERATE_DATA
        | ai_task.AITaskEntityFeature.GENERATE_IMAGE
        | ai_task.AITaskEntityFeature.SUPPORT_ATTACHMENTS
    )

    async def _async_generate_data(
        self, task: ai_task.GenDataTask, chat_log: conversation.ChatLog
    ) -> ai_task.GenDataTaskResult:
        """Answer the task; with a structure, return the validated data."""
        result = await self._async_handle_chat_log(chat_log, task.structure)
        last = chat_log.content[-1]
        text = last.content if isinstance(last, conversation.AssistantContent) else None
        if task.structure is None:
            return ai_task.GenDataTaskResult(
                conversation_id=chat_log.conversation_id, data=text or ""
            )
        data = structured_data(task.structure, result.data if result else None, text)
        return ai_task.GenDataTaskResult(conversation_id=chat_log.conversation_id, data=data)

    async def _async_generate_image(
        self, task: ai_task.GenImageTask, chat_log: conversation.ChatLog
    ) -> ai_task.GenImageTaskResult:
        """One picture from the instructions (the hub makes images; it does not edit them)."""
        if task.attachments:
            raise validation_error("image_attachments_unsupported")
        payload = {"prompt": task.instructions, "count": 1, **self.routing(CONF_IMAGE_MODEL)}
        client = self.entry.runtime_data.client
        result = await ask_hub(self.hass, self.entry, client.generate_image(payload))
        if not result.images:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="no_image")
        image = result.images[0]
        data = image.content()
        width, height = await self.hass.async_add_executor_job(image_size, data)
        chat_log.async_add_assistant_content_without_tools(
            conversation.AssistantContent(agent_id=self.entity_id, content=image.revised_prompt)
        )
        return ai_task.GenImageTaskResult(
            image_data=data,
            conversation_id=chat_log.conversation_id,
            mime_type=image.mime_type,
            width=width,
            height=height,
            model=f"{result.provider}/{result.model}",
            revised_prompt=image.revised_prompt,
        )


def image_size(data: bytes) -> tuple[int | None, int | None]:
    """Width and height of an encoded image (``None`` when it cannot be read)."""
    try:
        with Image.open(io.BytesIO(data)) as picture:
            width, height = picture.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None, None
    return width, height


def structured_data(structure: vol.Schema, parsed: Any, text: str | None) -> Any:
    """The answer's data (parsed by the hub, else from the text), checked against the task."""
    data = parsed
    if data is None:
        try:
            data = json.loads(text or "")
        except ValueError as err:
            _LOGGER.debug("Not JSON: %r", text)
            raise _invalid("the answer is not JSON") from err
    try:
        return structure(data)
    except vol.Invalid as err:
        _LOGGER.debug("Data %r does not fit the structure: %s", data, err)
        raise _invalid(str(err)) from err


def _invalid(message: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="invalid_structured_answer",
        translation_placeholders={"message": message},
    )
