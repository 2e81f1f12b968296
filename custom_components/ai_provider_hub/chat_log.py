"""Home Assistant's chat log in the hub's native wire format, and the hub's stream back.

A chat log holds system, user, assistant (with tool calls) and tool result contents; the hub
takes ``system`` plus ``messages`` with ``tool_calls`` on assistant turns and ``role: tool``
answers, and streams ``delta``/``tool_call``/``done`` events.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from homeassistant.components import conversation
from homeassistant.helpers import llm
from homeassistant.helpers.json import json_dumps

from .api_models import GenerationResult, StreamEvent, TextDelta, ToolCall
from .compat import openapi_schema
from .const import MAX_IMAGE_BYTES, MAX_IMAGES
from .errors import validation_error

type Message = dict[str, Any]


def hub_messages(chat_log: conversation.ChatLog) -> tuple[str, list[Message]]:
    """The log's system prompt and its other contents as hub messages."""
    system: list[str] = []
    messages: list[Message] = []
    external: set[str] = set()  # calls a vendor ran itself (another agent's web search...)
    for content in chat_log.content:
        if isinstance(content, conversation.SystemContent):
            system.append(content.content)
        elif isinstance(content, conversation.UserContent):
            messages.append({"role": "user", "content": content.content})
        elif isinstance(content, conversation.AssistantContent):
            external.update(c.id for c in content.tool_calls or () if c.external)
            if message := _assistant_message(content):
                messages.append(message)
        elif isinstance(content, conversation.ToolResultContent):
            if content.tool_call_id in external:
                continue
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": content.tool_call_id,
                    "name": content.tool_name,
                    "content": json_dumps(_tool_result(content)),
                }
            )
    return "\n".join(system), messages


def _tool_result(content: conversation.ToolResultContent) -> Any:
    """The result's data: ``result.data`` from 2026.3 on, ``tool_result`` before.

    (``tool_result`` is deprecated from 2026.3 and goes in 2027.11.)
    """
    result = getattr(content, "result", None)
    if result is not None:
        return getattr(result, "data", result)
    return content.tool_result


def _assistant_message(content: conversation.AssistantContent) -> Message | None:
    calls = [
        {"id": call.id, "name": call.tool_name, "arguments": call.tool_args}
        for call in content.tool_calls or ()
        if not call.external
    ]
    if not content.content and not calls:
        return None
    message: Message = {"role": "assistant", "content": content.content or ""}
    if calls:
        message["tool_calls"] = calls
    return message


def hub_tools(llm_api: llm.APIInstance | None) -> list[dict[str, Any]]:
    """The LLM API's tools as hub tool definitions (JSON schema parameters)."""
    if llm_api is None:
        return []
    return [_tool(tool, llm_api.custom_serializer) for tool in llm_api.tools]


def _tool(tool: llm.Tool, serializer: Callable[[Any], Any] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": tool.name,
        "parameters": openapi_schema(tool.parameters, serializer),
    }
    if tool.description:
        spec["description"] = tool.description
    return spec


def hub_structure(structure: Any, llm_api: llm.APIInstance | None) -> dict[str, Any]:
    """An AI Task's selector-based structure as the JSON schema the hub asks for."""
    serializer = llm_api.custom_serializer if llm_api else llm.selector_serializer
    return openapi_schema(structure, serializer)


def last_attachments(chat_log: conversation.ChatLog) -> list[conversation.Attachment]:
    """The attachments of the latest user turn (the task's camera snapshots, images...)."""
    for content in reversed(chat_log.content):
        if isinstance(content, conversation.UserContent):
            return list(content.attachments or ())
    return []


def read_images(attachments: list[conversation.Attachment]) -> list[dict[str, str]]:
    """The attachments as the hub's ``images`` (base64); blocking file reads, run in a job."""
    if len(attachments) > MAX_IMAGES:
        raise validation_error(
            "too_many_images", count=str(len(attachments)), limit=str(MAX_IMAGES)
        )
    images: list[dict[str, str]] = []
    for attachment in attachments:
        if not (attachment.mime_type or "").startswith("image/"):
            raise validation_error("unsupported_attachment", name=attachment.media_content_id)
        images.append(
            {
                "data": _read(attachment.path, attachment.media_content_id),
                "mime_type": attachment.mime_type,
            }
        )
    return images


def _read(path: Path, name: str) -> str:
    try:
        if path.stat().st_size > MAX_IMAGE_BYTES:
            raise validation_error("file_read_failed", path=name)
        return base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError as err:
        raise validation_error("file_read_failed", path=name) from err


class HubStream:
    """One streamed hub answer as chat log deltas; keeps the final result."""

    def __init__(self, events: AsyncIterator[StreamEvent]) -> None:
        self._events = events
        self._seen: set[str] = set()
        self.result: GenerationResult | None = None

    async def deltas(self) -> AsyncIterator[conversation.AssistantContentDeltaDict]:
        """``role`` first, then text pieces and tool calls as they complete."""
        yield {"role": "assistant"}
        async for event in self._events:
            match event:
                case TextDelta(text=text) if text:
                    yield {"content": text}
                case ToolCall():
                    if calls := self._new_calls([event]):
                        yield {"tool_calls": calls}
                case GenerationResult():
                    self.result = event
                    # An add-on that sends the calls only with ``done`` still gets them run.
                    if calls := self._new_calls(event.tool_calls):
                        yield {"tool_calls": calls}

    def _new_calls(self, raw: list[ToolCall]) -> list[llm.ToolInput]:
        calls: list[llm.ToolInput] = []
        for call in raw:
            if not call.id or call.id in self._seen:
                continue
            self._seen.add(call.id)
            calls.append(llm.ToolInput(id=call.id, tool_name=call.name, tool_args=call.arguments))
        return calls
