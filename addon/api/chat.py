"""``POST /api/v1/chat`` and ``POST /api/v1/vision`` (JSON, multipart, and SSE streaming)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from addon.api.body import read_json
from addon.api.context import hub
from addon.api.envelope import REQUEST_ID_HEADER, request_id
from addon.api.multipart import read_multipart
from addon.api.schemas import (
    CHAT_SCHEMA,
    VISION_FORM_SCHEMA,
    VISION_SCHEMA,
    decode_image,
    to_hub_request,
    validate,
)
from addon.api.streaming import started
from addon.errors import HubError, UnsupportedMediaError
from addon.models import HubRequest, HubResponse, RawImage, StreamDelta


async def chat(request: web.Request) -> web.StreamResponse:
    """Answer a chat request as JSON, or as Server-Sent Events with ``stream: true``."""
    data = validate(CHAT_SCHEMA, await read_json(request))
    return await answer(request, data, ())


async def vision(request: web.Request) -> web.StreamResponse:
    """Answer a vision request given as JSON (base64 images) or multipart/form-data."""
    if request.content_type.startswith("multipart/"):
        fields, images = await read_multipart(request)
        return await answer(request, validate(VISION_FORM_SCHEMA, fields), images)
    if request.content_type not in ("application/json", ""):
        raise UnsupportedMediaError(
            f"Send JSON or multipart/form-data, not {request.content_type!r}"
        )
    data = validate(VISION_SCHEMA, await read_json(request))
    images = tuple(decode_image(i, entry) for i, entry in enumerate(data["images"]))
    return await answer(request, data, images)


async def answer(
    request: web.Request, data: Mapping[str, Any], images: tuple[RawImage, ...]
) -> web.StreamResponse:
    """Run the validated request through the manager and answer JSON or SSE."""
    hub_request = to_hub_request(data, request_id(request), images)
    if data.get("stream"):
        return await stream_sse(request, hub_request)
    response = await hub(request).manager.run(hub_request)
    return web.json_response(response.to_dict())


async def stream_sse(request: web.Request, hub_request: HubRequest) -> web.StreamResponse:
    """Serve the answer as Server-Sent Events.

    Text arrives as ``delta`` events, each complete tool call as a ``tool_call`` event, and the
    whole answer (tool calls included) as ``done``. Errors before the first piece answer with
    the usual JSON error; after that they arrive as an ``error`` event, because the status line
    is already sent.
    """
    _, events = await started(hub(request).manager.stream(hub_request))
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            REQUEST_ID_HEADER: hub_request.request_id,
        }
    )
    await response.prepare(request)
    try:
        async for item in events:
            for event in _sse(item):
                await response.write(event)
    except HubError as err:
        await response.write(_event("error", {"error": err.to_dict()}))
    await response.write_eof()
    return response


def _sse(item: StreamDelta | HubResponse) -> list[bytes]:
    """``delta`` for text, one ``tool_call`` per complete call, ``done`` for the answer."""
    if isinstance(item, HubResponse):
        return [_event("done", item.to_dict())]
    events = [_event("delta", {"text": item.text})] if item.text else []
    events.extend(
        _event("tool_call", {"id": c.id, "name": c.name, "arguments": dict(c.arguments)})
        for c in item.tool_calls
    )
    return events


def _event(name: str, payload: Mapping[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()
