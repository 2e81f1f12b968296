"""Image generation over OpenAI's Image API (``POST /v1/images/generations``, via the SDK).

The GPT image models always answer base64 and take ``output_format``; DALL-E and the models of
OpenAI-compatible servers (Flux, Stable Diffusion on LocalAI...) are asked for ``b64_json``
since the hub serves pictures inline, never by URL. DALL-E 3 calls the hub's ``medium`` and
``high`` qualities ``standard`` and ``hd``; DALL-E 2 has no quality choice. The GPT image models
report token usage; otherwise only the pictures are counted (DALL-E is billed per image).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from openai import AsyncOpenAI, omit
from openai.types import ImagesResponse

from addon.errors import ProviderResponseError
from addon.images.generated import NotAPictureError, checked_picture
from addon.images.generation import rules_for
from addon.models import GeneratedImage, ImageRequest, ImageResponse, Usage

DALL_E_3_QUALITY = {"low": "standard", "medium": "standard", "high": "hd"}


def image_params(request: ImageRequest) -> dict[str, Any]:
    """Keyword arguments for ``images.generate`` (without the timeout)."""
    family = rules_for(request.model).family
    params: dict[str, Any] = {
        "model": request.model,
        "prompt": request.prompt,
        "n": request.count,
        "size": request.size or omit,
    }
    if family in ("gpt-image", "gpt-image-flex"):
        params["quality"] = request.quality or omit
        params["output_format"] = request.format or omit
        return params
    params["response_format"] = "b64_json"
    if family == "dall-e-3":
        params["quality"] = DALL_E_3_QUALITY.get(request.quality or "", omit)
    elif family != "dall-e-2":
        params["quality"] = request.quality or omit
    return params


async def create_images(
    client: AsyncOpenAI, request: ImageRequest, *, timeout: float, provider: str
) -> ImageResponse:
    """The pictures ``request`` asks for, checked to decode, in the format asked for."""
    response = await client.images.generate(**image_params(request), timeout=timeout)
    items = response.data or []
    if len(items) != request.count:
        raise ProviderResponseError(
            f"{provider} returned {len(items)} images for the {request.count} asked for"
        )
    images = [await _picture(i.b64_json, i.revised_prompt, request, provider) for i in items]
    return ImageResponse(tuple(images), request.model, _usage(response, len(images)))


async def _picture(
    b64_json: str | None, revised_prompt: str | None, request: ImageRequest, provider: str
) -> GeneratedImage:
    if not b64_json:
        raise ProviderResponseError(f"{provider} sent an image without its data (a URL only?)")
    try:
        data = base64.b64decode(b64_json, validate=True)
    except binascii.Error as err:
        raise ProviderResponseError(f"{provider} sent image data that is not base64") from err
    try:
        picture = await checked_picture(data, request.format)
    except NotAPictureError as err:
        raise ProviderResponseError(f"{provider} sent {err}") from err
    return GeneratedImage(
        picture.data, picture.mime_type, revised_prompt, picture.width, picture.height
    )


def _usage(response: ImagesResponse, images: int) -> Usage:
    usage = response.usage
    if usage is None:
        return Usage(images=images)
    return Usage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens, images=images)
