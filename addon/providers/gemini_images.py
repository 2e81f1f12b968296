"""Image generation over the Gemini API: ``generateContent`` on an image model (via the SDK).

The image models answer a text part and an ``inlineData`` picture per call, one candidate per
call, so a request for several pictures is that many calls, made side by side under the call's
one deadline (the first failure cancels the others). The size asks for an aspect ratio (and,
on Gemini 3 Pro Image, the ``imageSize`` that reaches its long edge). A picture refused by
Google's filters (``IMAGE_SAFETY``, a blocked prompt...) is the caller's problem, not the
provider's; an answer without a picture for another reason (``NO_IMAGE``) is a bad answer.
Imagen's ``predict`` is not offered: the SDK serves it on Vertex AI only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final

from google import genai
from google.genai import types

from addon.errors import ProviderBadRequestError, ProviderResponseError
from addon.images.generated import NotAPictureError, checked_picture
from addon.images.generation import (
    SIZED_GEMINI,
    aspect_ratio,
    gemini_image_size,
    parse_size,
    rules_for,
)
from addon.models import GeneratedImage, ImageRequest, ImageResponse, Usage

REFUSALS: Final = frozenset(
    {
        types.FinishReason.SAFETY,
        types.FinishReason.PROHIBITED_CONTENT,
        types.FinishReason.BLOCKLIST,
        types.FinishReason.SPII,
        types.FinishReason.RECITATION,
        types.FinishReason.IMAGE_SAFETY,
        types.FinishReason.IMAGE_PROHIBITED_CONTENT,
        types.FinishReason.IMAGE_RECITATION,
    }
)


def image_config(request: ImageRequest) -> types.GenerateContentConfig:
    """Text and image out; the size as an aspect ratio (and image size on Gemini 3 models)."""
    size = parse_size(request.size) if request.size else None
    config = None
    if size is not None:
        sized = rules_for(request.model).family in SIZED_GEMINI
        config = types.ImageConfig(
            aspect_ratio=aspect_ratio(*size),
            image_size=gemini_image_size(*size) if sized else None,
        )
    return types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"], image_config=config)


async def generate_pictures(
    client: genai.Client,
    request: ImageRequest,
    *,
    options: types.HttpOptions,
    provider: str,
) -> ImageResponse:
    """``request.count`` pictures, one call each, side by side."""
    config = image_config(request).model_copy(update={"http_options": options})
    calls = [
        asyncio.ensure_future(
            client.aio.models.generate_content(
                model=request.model, contents=request.prompt, config=config
            )
        )
        for _ in range(request.count)
    ]
    try:
        answers = await asyncio.gather(*calls)
    except BaseException:
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
        raise
    images = [await _picture(answer, request, provider) for answer in answers]
    usage = _usage(answers)
    return ImageResponse(tuple(images), request.model, usage)


async def _picture(
    answer: types.GenerateContentResponse, request: ImageRequest, provider: str
) -> GeneratedImage:
    """The one picture of an answer (``ProviderBadRequestError`` when Google refused it)."""
    feedback = answer.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        raise ProviderBadRequestError(
            f"{provider} refused the prompt ({feedback.block_reason.value})"
        )
    candidate = answer.candidates[0] if answer.candidates else None
    reason = candidate.finish_reason if candidate is not None else None
    if reason in REFUSALS:
        raise ProviderBadRequestError(f"{provider} refused to draw this prompt ({reason})")
    parts = candidate.content.parts if candidate and candidate.content else None
    blob = next((p.inline_data for p in parts or () if _is_image(p)), None)
    if blob is None or not blob.data:
        why = reason.value if reason is not None else "no candidate"
        raise ProviderResponseError(f"{provider} answered without an image ({why})")
    try:
        picture = await checked_picture(blob.data, request.format)
    except NotAPictureError as err:
        raise ProviderResponseError(f"{provider} sent {err}") from err
    return GeneratedImage(picture.data, picture.mime_type, None, picture.width, picture.height)


def _is_image(part: types.Part) -> bool:
    """A picture of the answer (Gemini 3 Pro Image's interim thought pictures are not)."""
    blob = part.inline_data
    return blob is not None and (blob.mime_type or "").startswith("image/") and not part.thought


def _usage(answers: Sequence[types.GenerateContentResponse]) -> Usage:
    """Every call's prompt and output tokens (thinking billed as output), and the pictures."""
    input_tokens = output_tokens = 0
    for answer in answers:
        metadata = answer.usage_metadata
        if metadata is None:
            continue
        input_tokens += metadata.prompt_token_count or 0
        output_tokens += (metadata.candidates_token_count or 0) + (
            metadata.thoughts_token_count or 0
        )
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens, images=len(answers))
