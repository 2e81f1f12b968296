"""Gemini's native image output (``generateContent`` on the image models), for ``FakeGemini``.

From the Gemini API's image generation guide and the ``google-genai`` SDK's ``ImageConfig``: an
image model (``gemini-2.5-flash-image``, ``gemini-3-pro-image-preview``...) answers with a text
part and an ``inlineData`` part (``mimeType: image/png``, base64 ``data``) unless
``generationConfig.responseModalities`` asks for text only; a model that cannot draw refuses
``IMAGE`` in ``responseModalities``. ``generationConfig.imageConfig.aspectRatio`` is one of
1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9 (default 1:1) and fixes the resolution;
``imageSize`` (1K, 2K, 4K) is for the Gemini 3 image models only. Gemini 2.5 Flash Image bills
1290 output tokens per image, Gemini 3 Pro Image 1120 (1K and 2K) or 2000 (4K), Gemini 3.1 Flash
Image 1120, 1680 or 2520 (Vertex AI's model card gives the same counts), reported in
``usageMetadata.candidatesTokensDetails`` under modality ``IMAGE``. One candidate per request:
``candidateCount`` above 1 is refused. A refused picture ends with ``finishReason``
``IMAGE_SAFETY`` and no content. The refusal wordings for aspect ratio and image size are the
fake's own (the guide documents the values, not the messages).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Final

from tests.fakes.pictures import picture

ASPECT_RATIOS: Final = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
# Gemini 2.5 Flash Image: every aspect ratio at its one resolution, 1290 tokens each.
FLASH_RESOLUTIONS: Final[Mapping[str, tuple[int, int]]] = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}
# Gemini 3 Pro Image at 1K (2K doubles each edge, 4K quadruples it).
PRO_RESOLUTIONS: Final[Mapping[str, tuple[int, int]]] = {
    "1:1": (1024, 1024),
    "2:3": (848, 1264),
    "3:2": (1264, 848),
    "3:4": (896, 1200),
    "4:3": (1200, 896),
    "4:5": (928, 1152),
    "5:4": (1152, 928),
    "9:16": (768, 1376),
    "16:9": (1376, 768),
    "21:9": (1584, 672),
}
IMAGE_SIZES: Final = {"1K": 1, "2K": 2, "4K": 4}
FLASH_IMAGE_TOKENS: Final = 1290
PRO_IMAGE_TOKENS: Final = {"1K": 1120, "2K": 1120, "4K": 2000}
FLASH3_IMAGE_TOKENS: Final = {"1K": 1120, "2K": 1680, "4K": 2520}


def draws(model: str) -> bool:
    """True for the models that answer with images."""
    return "-image" in model


def _pro(model: str) -> bool:
    return model.startswith("gemini-3")


def _config(body: Mapping[str, Any]) -> Mapping[str, Any]:
    config: Mapping[str, Any] = body.get("generationConfig") or {}
    return config


def _modalities(body: Mapping[str, Any]) -> list[str]:
    return [str(m).upper() for m in _config(body).get("responseModalities") or []]


def wants_image(model: str, body: Mapping[str, Any]) -> bool:
    """True when the answer to ``body`` on ``model`` carries a picture."""
    modalities = _modalities(body)
    return draws(model) and (not modalities or "IMAGE" in modalities)


def image_problem(model: str, body: Mapping[str, Any]) -> str | None:
    """The 400 message for the image parts of ``body`` on ``model``, else None."""
    config = _config(body)
    if "IMAGE" in _modalities(body) and not draws(model):
        return "Model does not support the requested response modalities: image"
    if not draws(model):
        return None
    if int(config.get("candidateCount") or 1) > 1:
        return f"Multiple candidates is not enabled for models/{model}"
    image_config: Mapping[str, Any] = config.get("imageConfig") or {}
    ratio = image_config.get("aspectRatio")
    if ratio is not None and ratio not in ASPECT_RATIOS:
        return f"Unsupported aspect ratio: {ratio}. Supported values: {', '.join(ASPECT_RATIOS)}."
    size = image_config.get("imageSize")
    if size is not None and not _pro(model):
        return f"Image size is not supported by models/{model}."
    if size is not None and size not in IMAGE_SIZES:
        return f"Unsupported image size: {size}. Supported values: 1K, 2K, 4K."
    return None


def resolution(model: str, body: Mapping[str, Any]) -> tuple[int, int]:
    """Width and height of the picture ``model`` draws for ``body``."""
    image_config: Mapping[str, Any] = _config(body).get("imageConfig") or {}
    ratio = str(image_config.get("aspectRatio") or "1:1")
    if not _pro(model):
        return FLASH_RESOLUTIONS[ratio]
    scale = IMAGE_SIZES[str(image_config.get("imageSize") or "1K")]
    width, height = PRO_RESOLUTIONS[ratio]
    return width * scale, height * scale


def image_tokens(model: str, body: Mapping[str, Any]) -> int:
    """Output tokens one picture of ``model`` bills."""
    if not _pro(model):
        return FLASH_IMAGE_TOKENS
    image_config: Mapping[str, Any] = _config(body).get("imageConfig") or {}
    tokens = FLASH3_IMAGE_TOKENS if "flash" in model else PRO_IMAGE_TOKENS
    return tokens[str(image_config.get("imageSize") or "1K")]


def prompt_text(body: Mapping[str, Any]) -> str:
    """The text of the request's last user turn (what the picture is of)."""
    for content in reversed(body.get("contents") or []):
        texts = [str(part["text"]) for part in content.get("parts", []) if "text" in part]
        if texts:
            return "\n".join(texts)
    return ""


def image_parts(model: str, body: Mapping[str, Any], text: str) -> list[dict[str, Any]]:
    """The answer's parts: ``text`` (when any), then the picture as ``inlineData``."""
    width, height = resolution(model, body)
    data = picture(prompt_text(body), 0, width, height)
    blob = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(data).decode()}}
    return [{"text": text}, blob] if text else [blob]


def image_usage(
    model: str, body: Mapping[str, Any], input_tokens: int, text_tokens: int, *, drawn: bool = True
) -> dict[str, Any]:
    """``usageMetadata`` of an answer with one picture (none: not ``drawn``) and some text."""
    if not drawn and not text_tokens:
        return {"promptTokenCount": input_tokens, "totalTokenCount": input_tokens}
    drawn_tokens = image_tokens(model, body) if drawn else 0
    details = [{"modality": "IMAGE", "tokenCount": drawn_tokens}] if drawn else []
    if text_tokens:
        details.append({"modality": "TEXT", "tokenCount": text_tokens})
    return {
        "promptTokenCount": input_tokens,
        "candidatesTokenCount": drawn_tokens + text_tokens,
        "totalTokenCount": input_tokens + drawn_tokens + text_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": input_tokens}],
        "candidatesTokensDetails": details,
    }
