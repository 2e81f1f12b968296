"""``POST /api/v1/batch``: several chat/vision requests in one call, each with its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final

import voluptuous as vol
from aiohttp import web

from addon.api.body import read_json
from addon.api.context import hub
from addon.api.envelope import endpoint, error_body, request_id
from addon.api.schemas import CHAT_SCHEMA, VISION_SCHEMA, decode_image, to_hub_request, validate
from addon.errors import HubError, InvalidRequestError
from addon.validation import humanize

MAX_BATCH: Final = 20
BATCH_SCHEMA = vol.Schema(
    {vol.Required("requests"): vol.All([dict], vol.Length(min=1, max=MAX_BATCH))}
)


async def _one(request: web.Request, index: int, item: Mapping[str, Any]) -> dict[str, Any]:
    """Run one item; its failure becomes its own error entry, not the batch's."""
    try:
        body = dict(item)
        kind = body.pop("kind", "vision" if "images" in body else "chat")
        if body.get("stream"):
            raise InvalidRequestError("Streaming is not available inside a batch")
        if kind == "vision":
            data = validate(VISION_SCHEMA, body)
            images = tuple(decode_image(i, e) for i, e in enumerate(data["images"]))
        elif kind == "chat":
            data, images = validate(CHAT_SCHEMA, body), ()
        else:
            raise InvalidRequestError(f"requests.{index}.kind must be 'chat' or 'vision'")
        hub_request = to_hub_request(data, f"{request_id(request)}-{index}", images)
        response = await hub(request).manager.run(hub_request)
    except HubError as err:
        return {"status": err.status, **error_body(err)}
    return {"status": 200, **response.to_dict()}


@endpoint
async def batch(request: web.Request) -> Mapping[str, Any]:
    """Run the requests concurrently (within the hub's limits); results keep their order."""
    body = await read_json(request)
    try:
        data = BATCH_SCHEMA(body)
    except vol.Invalid as err:
        raise InvalidRequestError(f"Invalid request: {humanize(err)}") from err
    results = await asyncio.gather(
        *(_one(request, index, item) for index, item in enumerate(data["requests"]))
    )
    return {"request_id": request_id(request), "results": list(results)}
