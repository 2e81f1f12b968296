"""Image generation on every provider that draws, through the official SDKs against the fakes.

OpenAI (GPT image models, DALL-E 3 and 2), an OpenAI-compatible server (a Flux model) and
Gemini (the image models, one call per picture): the pictures come back decoded and checked,
in the format asked for, with the vendor's usage; the request on the wire is the vendor's
documented one; refusals and faults map to the hub's errors, and what a model cannot make is a
capability miss before anything is sent.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PIL import Image

from addon.errors import (
    ProviderBadRequestError,
    ProviderCapabilityError,
    ProviderRateLimitError,
    ProviderResponseError,
)
from addon.images.generation import rules_for
from addon.models import ImageRequest, ImageResponse
from addon.providers import create_provider
from addon.providers.base import Provider
from addon.settings import ProviderSettings, Secret
from tests.fakes.base import Fault
from tests.fakes.gemini import FakeGemini
from tests.fakes.openai import FakeOpenAI
from tests.fakes.pictures import colour

KEY = "sk-test-images-123456"
PROMPT = "A red fox in the snow"


def settings(provider_type: str, url: str, **options: Any) -> ProviderSettings:
    prefix = "" if provider_type == "gemini" else "/v1"
    return ProviderSettings(
        name=f"my-{provider_type}",
        type=provider_type,
        model="chat-model",
        api_key=Secret(KEY),
        base_url=f"{url}{prefix}",
        timeout=10,
        **options,
    )


@pytest.fixture
async def openai_fake() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI(api_key=KEY)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def gemini_fake() -> AsyncIterator[FakeGemini]:
    fake = FakeGemini(api_key=KEY)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def openai(openai_fake: FakeOpenAI) -> AsyncIterator[Provider]:
    provider = create_provider(settings("openai", openai_fake.url))
    yield provider
    await provider.close()


@pytest.fixture
async def gemini(gemini_fake: FakeGemini) -> AsyncIterator[Provider]:
    provider = create_provider(settings("gemini", gemini_fake.url))
    yield provider
    await provider.close()


def pixels(response: ImageResponse) -> list[tuple[str | None, int, int, Any]]:
    """(format, width, height, corner colour) of each picture, fully decoded."""
    found = []
    for image in response.images:
        with Image.open(io.BytesIO(image.data)) as picture:
            picture.load()
            assert (picture.width, picture.height) == (image.width, image.height)
            found.append((picture.format, picture.width, picture.height, picture.getpixel((0, 0))))
    return found


# --- OpenAI ---------------------------------------------------------------------------------
async def test_the_default_gpt_image_model_draws_with_token_usage(
    openai: Provider, openai_fake: FakeOpenAI
) -> None:
    request = ImageRequest(PROMPT, count=2, size="1536x1024", quality="low")
    response = await openai.generate_image(request, timeout=10)
    assert response.model == "gpt-image-1.5"
    assert [p[:3] for p in pixels(response)] == [("PNG", 1536, 1024)] * 2
    assert [p[3] for p in pixels(response)] == [colour(PROMPT, 0), colour(PROMPT, 1)]
    assert [i.mime_type for i in response.images] == ["image/png"] * 2
    assert response.usage.output_tokens == 2 * 400  # low 1536x1024
    assert response.usage.input_tokens > 0
    assert response.usage.images == 2
    body = openai_fake.requests[-1].body
    assert body == {
        "model": "gpt-image-1.5",
        "prompt": PROMPT,
        "n": 2,
        "size": "1536x1024",
        "quality": "low",
    }


async def test_gpt_image_models_make_the_format_asked_for(
    openai: Provider, openai_fake: FakeOpenAI
) -> None:
    response = await openai.generate_image(ImageRequest(PROMPT, format="webp"), timeout=10)
    assert pixels(response)[0][:3] == ("WEBP", 1024, 1024)
    assert response.images[0].mime_type == "image/webp"
    assert openai_fake.requests[-1].body["output_format"] == "webp"


@pytest.mark.parametrize(
    ("quality", "wire"), [("high", "hd"), ("medium", "standard"), ("low", "standard"), (None, None)]
)
async def test_dall_e_3_gets_its_own_words_and_answers_inline(
    openai: Provider, openai_fake: FakeOpenAI, quality: str | None, wire: str | None
) -> None:
    request = ImageRequest(PROMPT, model="dall-e-3", size="1792x1024", quality=quality)
    response = await openai.generate_image(request, timeout=10)
    assert pixels(response)[0][:3] == ("PNG", 1792, 1024)
    assert response.images[0].revised_prompt is not None
    assert response.usage.images == 1
    assert response.usage.output_tokens == 0  # billed per picture
    body = openai_fake.requests[-1].body
    assert body["response_format"] == "b64_json"
    assert body.get("quality") == wire


async def test_a_png_only_model_is_re_encoded_to_the_format_asked_for(
    openai: Provider, openai_fake: FakeOpenAI
) -> None:
    request = ImageRequest(PROMPT, model="dall-e-2", count=3, size="256x256", format="jpeg")
    response = await openai.generate_image(request, timeout=10)
    assert [p[:3] for p in pixels(response)] == [("JPEG", 256, 256)] * 3
    assert "quality" not in openai_fake.requests[-1].body  # DALL-E 2 has no quality choice


async def test_an_openai_compatible_server_draws_with_its_own_model(
    openai_fake: FakeOpenAI,
) -> None:
    openai_fake.image_models = frozenset({"flux-schnell"})
    provider = create_provider(
        settings("openai_compatible", openai_fake.url, image_model="flux-schnell")
    )
    try:
        request = ImageRequest(PROMPT, count=2, size="768x512", quality="high")
        response = await provider.generate_image(request, timeout=10)
    finally:
        await provider.close()
    assert [p[:3] for p in pixels(response)] == [("PNG", 768, 512)] * 2
    assert response.usage.images == 2
    body = openai_fake.requests[-1].body
    assert (body["model"], body["response_format"], body["quality"]) == (
        "flux-schnell",
        "b64_json",
        "high",
    )


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        (ImageRequest(PROMPT, model="dall-e-3", count=2), "count: .* at most 1 image"),
        (ImageRequest(PROMPT, size="1792x1024"), "size: .*not 1792x1024"),
        (ImageRequest("x" * 4001, model="dall-e-3"), "prompt: .*at most 4000 characters"),
        (ImageRequest(PROMPT, model="gpt-image-2", size="1000x1000"), "multiples of 16"),
        (ImageRequest(PROMPT, model="dall-e-3", quality="ultra"), "quality: .*not ultra"),
    ],
    ids=["dalle3-count", "fixed-size", "dalle3-prompt", "flex-size", "quality"],
)
async def test_what_the_model_cannot_make_is_a_capability_miss_before_sending(
    openai: Provider, openai_fake: FakeOpenAI, request_: ImageRequest, words: str
) -> None:
    with pytest.raises(ProviderCapabilityError, match=words) as missed:
        await openai.generate_image(request_, timeout=10)
    assert not missed.value.provider_fault
    assert openai_fake.requests == []


async def test_the_safety_system_refusal_is_the_callers_problem(
    openai: Provider, openai_fake: FakeOpenAI
) -> None:
    openai_fake.unsafe_words = {"fox"}
    with pytest.raises(ProviderBadRequestError, match="safety system") as refused:
        await openai.generate_image(ImageRequest(PROMPT), timeout=10)
    assert not refused.value.retryable
    assert not refused.value.provider_fault


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        (lambda fake: setattr(fake, "image_bytes", b"<html>oops</html>"), ProviderResponseError),
        (
            lambda fake: setattr(fake, "image_bytes", b"\x89PNG\r\n\x1a\n-cut-"),
            ProviderResponseError,
        ),
        (lambda fake: fake.fail_next(Fault.MALFORMED), ProviderResponseError),
        (lambda fake: fake.fail_next(Fault.RATE_LIMIT, retry_after=7), ProviderRateLimitError),
    ],
    ids=["not-an-image", "truncated-png", "malformed", "rate-limited"],
)
async def test_unusable_answers_and_faults_are_the_providers_failures(
    openai: Provider, openai_fake: FakeOpenAI, setup: Any, error: type[Exception]
) -> None:
    setup(openai_fake)
    with pytest.raises(error) as failed:
        await openai.generate_image(ImageRequest(PROMPT), timeout=10)
    assert getattr(failed.value, "retryable", False)


# --- Gemini ---------------------------------------------------------------------------------
async def test_gemini_draws_one_picture_per_call_side_by_side(
    gemini: Provider, gemini_fake: FakeGemini
) -> None:
    request = ImageRequest(PROMPT, count=3, size="1536x1024")
    response = await gemini.generate_image(request, timeout=10)
    assert response.model == "gemini-2.5-flash-image"
    assert [p[:3] for p in pixels(response)] == [("PNG", 1248, 832)] * 3  # 3:2 at 1290 tokens
    calls = [r for r in gemini_fake.requests if r.path.endswith(":generateContent")]
    assert len(calls) == 3
    config = calls[0].body["generationConfig"]
    assert config["responseModalities"] == ["TEXT", "IMAGE"]
    assert config["imageConfig"] == {"aspectRatio": "3:2"}
    assert calls[0].body["contents"][0]["parts"] == [{"text": PROMPT}]
    reply = gemini_fake.state.reply
    assert response.usage.output_tokens == 3 * (1290 + reply.output_tokens)  # picture + caption
    assert response.usage.input_tokens == 3 * reply.input_tokens
    assert response.usage.images == 3


@pytest.mark.parametrize(
    ("model", "size", "image_size", "drawn", "tokens"),
    [
        ("gemini-3-pro-image-preview", "2048x2048", "2K", (2048, 2048), 1120),
        ("gemini-3-pro-image-preview", "4096x4096", "4K", (4096, 4096), 2000),
        ("gemini-3.1-flash-image-preview", "2048x2048", "2K", (2048, 2048), 1680),
        ("gemini-3.1-flash-image-preview", "1024x1024", "1K", (1024, 1024), 1120),
    ],
)
async def test_gemini_3_image_models_get_the_image_size_of_the_long_edge(
    gemini_fake: FakeGemini,
    model: str,
    size: str,
    image_size: str,
    drawn: tuple[int, int],
    tokens: int,
) -> None:
    provider = create_provider(settings("gemini", gemini_fake.url, image_model=model))
    try:
        request = ImageRequest(PROMPT, size=size, format="jpeg")
        response = await provider.generate_image(request, timeout=10)
    finally:
        await provider.close()
    assert pixels(response)[0][:3] == ("JPEG", *drawn)
    config = gemini_fake.requests[-1].body["generationConfig"]
    assert config["imageConfig"] == {"aspectRatio": "1:1", "imageSize": image_size}
    caption = gemini_fake.state.reply.output_tokens
    assert response.usage.output_tokens == tokens + caption
    # The reservation covers what was billed: the picture plus the caption allowance.
    rules = rules_for(model)
    assert rules.output_tokens(size, None) + rules.text_allowance >= response.usage.output_tokens


@pytest.mark.parametrize(
    ("block", "error"),
    [("IMAGE_SAFETY", ProviderBadRequestError), ("NO_IMAGE", ProviderResponseError)],
)
async def test_gemini_refusals_and_missing_pictures(
    gemini: Provider, gemini_fake: FakeGemini, block: str, error: type[Exception]
) -> None:
    gemini_fake.image_block = block
    with pytest.raises(error, match=block):
        await gemini.generate_image(ImageRequest(PROMPT), timeout=10)


async def test_a_failed_gemini_call_fails_the_request_and_stops_the_others(
    gemini: Provider, gemini_fake: FakeGemini
) -> None:
    gemini_fake.fail_next(Fault.RATE_LIMIT, retry_after=2)
    with pytest.raises(ProviderRateLimitError):
        await gemini.generate_image(ImageRequest(PROMPT, count=2), timeout=10)


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        (ImageRequest(PROMPT, count=5), "count: .*at most 4 image"),
        (ImageRequest(PROMPT, size="1000x300"), "aspect ratio"),
        (ImageRequest(PROMPT, size="2048x2048"), "longest edge at most 1600"),
        (ImageRequest(PROMPT, model="imagen-4.0-generate-001"), "Imagen needs Vertex AI"),
    ],
    ids=["count", "ratio", "too-large-for-flash", "imagen"],
)
async def test_gemini_capability_misses_before_sending(
    gemini: Provider, gemini_fake: FakeGemini, request_: ImageRequest, words: str
) -> None:
    with pytest.raises(ProviderCapabilityError, match=words):
        await gemini.generate_image(request_, timeout=10)
    assert gemini_fake.requests == []
