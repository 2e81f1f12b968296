"""Image generation: ``POST /api/v1/images`` (the hub's shape) and ``POST /v1/images/generations``.

Both doors check the request at the edge (``images_request``) and call the manager's
``generate_image``: the same routing, failover, budgets (per picture, by quality and size, or
per token) and ledger as chat. Pictures travel inline as base64 with their MIME type and
size: the hub keeps no files and serves no image URLs, so OpenAI's ``response_format: url`` is
refused with a 400 naming the field.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from aiohttp import web

from addon.api.body import checked_fields, read_json
from addon.api.context import hub
from addon.api.envelope import request_id
from addon.api.images_request import NATIVE_SCHEMA, OPENAI_SCHEMA, image_request
from addon.api.openai_compat import ATTEMPTS_HEADER, format_attempts, model_id
from addon.api.openai_request import resolve_target
from addon.errors import NotFoundError
from addon.manager import ProviderManager
from addon.models import GeneratedImage, ImageResponse, MediaRequest, MediaResponse
from addon.settings import ProviderSettings


def _settings(manager: ProviderManager, name: str | None) -> ProviderSettings | None:
    """The settings of a pinned provider (an unknown name is the manager's to refuse)."""
    if name is None:
        return None
    try:
        return manager.provider_settings(name)
    except NotFoundError:
        return None


# --- the hub's own door ---------------------------------------------------------------------
async def images(request: web.Request) -> web.StreamResponse:
    """Pictures for a prompt: ``{images: [{data, mime_type, width, height}], provider, ...}``."""
    data = checked_fields(NATIVE_SCHEMA, await read_json(request))
    manager = hub(request).manager
    body = image_request(
        data,
        count=data["count"],
        model=data.get("model") or "",
        fmt=data.get("format"),
        provider=_settings(manager, data.get("provider")),
    )
    media = MediaRequest(
        body,
        request_id=request_id(request),
        provider=data.get("provider"),
        tag=data.get("tag"),
        strategy=data.get("strategy"),
        cache=data.get("cache"),
    )
    response = await manager.generate_image(media)
    return web.json_response(native_body(response))


def native_body(response: MediaResponse[ImageResponse]) -> dict[str, Any]:
    """The hub's answer: the common figures plus the pictures."""
    return {**response.to_dict(), "images": [_native_image(i) for i in response.result.images]}


def _native_image(image: GeneratedImage) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "data": base64.b64encode(image.data).decode("ascii"),
        "mime_type": image.mime_type,
        "width": image.width,
        "height": image.height,
    }
    if image.revised_prompt:
        entry["revised_prompt"] = image.revised_prompt
    return entry


# --- the OpenAI-compatible door -------------------------------------------------------------
async def openai_images(request: web.Request) -> web.StreamResponse:
    """OpenAI's ``images/generations``: ``{created, data: [{b64_json}], usage, ...}``.

    ``model`` pins as on chat completions: ``auto`` (or nothing), ``<provider>``,
    ``<provider>/<model>``, or a bare model name.
    """
    data = checked_fields(OPENAI_SCHEMA, await read_json(request))
    manager = hub(request).manager
    names = [settings.name for settings in manager.configured()]
    provider, model = resolve_target(data.get("model"), names)
    body = image_request(
        data,
        count=data.get("n") or 1,
        model=model,
        fmt=data.get("output_format"),
        provider=_settings(manager, provider),
        field_names={"count": "n"},
    )
    media = MediaRequest(body, request_id=request_id(request), provider=provider)
    response = await manager.generate_image(media)
    attempts = format_attempts((a.provider, a.outcome) for a in response.attempts)
    return web.json_response(
        openai_body(response, int(time.time())), headers={ATTEMPTS_HEADER: attempts}
    )


def openai_body(response: MediaResponse[ImageResponse], created: int) -> dict[str, Any]:
    """OpenAI's ``ImagesResponse``: the pictures as ``b64_json``, their format and size, usage."""
    images = response.result.images
    first = images[0]
    data = []
    for image in images:
        item: dict[str, Any] = {"b64_json": base64.b64encode(image.data).decode("ascii")}
        if image.revised_prompt:
            item["revised_prompt"] = image.revised_prompt
        data.append(item)
    usage = response.usage
    body: dict[str, Any] = {
        "created": created,
        "data": data,
        "model": model_id(response.provider, response.model),
        "output_format": first.mime_type.removeprefix("image/"),
        "usage": {
            "input_tokens": usage.input_tokens,
            "input_tokens_details": {"text_tokens": usage.input_tokens, "image_tokens": 0},
            "output_tokens": usage.output_tokens,
            "output_tokens_details": {"image_tokens": usage.output_tokens, "text_tokens": 0},
            "total_tokens": usage.input_tokens + usage.output_tokens,
        },
    }
    if first.width and first.height:
        body["size"] = f"{first.width}x{first.height}"
    return body
