"""The image fakes through the official SDKs: valid pictures, the vendors' shapes and refusals.

The provider and API tests trust ``FakeOpenAI``'s Image API and ``FakeGemini``'s image output;
these tests keep them honest: what the SDKs parse (``ImagesResponse``, ``inline_data`` parts,
usage) and what the vendors refuse, with their status, ``param`` and ``code``.
"""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types
from PIL import Image

from tests.fakes.gemini import FakeGemini
from tests.fakes.openai import FakeOpenAI

PROMPT = "A lighthouse at dusk"


def decoded(data: bytes) -> Image.Image:
    """The picture in ``data``, fully decoded (Pillow raises on anything else)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.fixture
async def openai_fake() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def gemini_fake() -> AsyncIterator[FakeGemini]:
    fake = FakeGemini()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def client(openai_fake: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    sdk = openai.AsyncOpenAI(api_key="sk-test", base_url=f"{openai_fake.url}/v1", max_retries=0)
    yield sdk
    await sdk.close()


def gemini_client(fake: FakeGemini) -> genai.Client:
    options = genai_types.HttpOptions(base_url=fake.url, api_version="v1beta")
    return genai.Client(api_key="test-key", http_options=options)


# --- OpenAI ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "size", "quality", "fmt", "expected"),
    [
        ("gpt-image-1", "1536x1024", "low", "png", (1536, 1024, "PNG", 400)),
        ("gpt-image-1.5", "1024x1536", "high", "jpeg", (1024, 1536, "JPEG", 6240)),
        ("gpt-image-1-mini", "auto", "auto", "webp", (1024, 1024, "WEBP", 1056)),
        ("gpt-image-2", "1536x864", "medium", "png", (1536, 864, "PNG", 1337)),
    ],
)
async def test_gpt_image_models_answer_base64_pictures_with_token_usage(
    client: openai.AsyncOpenAI,
    model: str,
    size: str,
    quality: Any,
    fmt: Any,
    expected: tuple[int, int, str, int],
) -> None:
    width, height, pillow_format, tokens_each = expected
    result = await client.images.generate(
        model=model,
        prompt=PROMPT,
        n=2,
        size=size,
        quality=quality,
        output_format=fmt,
    )
    assert result.data is not None
    assert len(result.data) == 2
    pictures = [decoded(base64.b64decode(item.b64_json or "")) for item in result.data]
    assert {(p.width, p.height, p.format) for p in pictures} == {(width, height, pillow_format)}
    assert pictures[0].getpixel((0, 0)) != pictures[1].getpixel((0, 0))  # two different images
    assert result.usage is not None
    assert result.usage.output_tokens == 2 * tokens_each
    assert result.usage.input_tokens == result.usage.input_tokens_details.text_tokens > 0
    assert result.output_format == fmt
    assert result.size == f"{width}x{height}"


async def test_same_request_same_pictures(client: openai.AsyncOpenAI) -> None:
    first = await client.images.generate(model="gpt-image-1", prompt=PROMPT)
    again = await client.images.generate(model="gpt-image-1", prompt=PROMPT)
    assert first.data is not None
    assert again.data is not None
    assert first.data[0].b64_json == again.data[0].b64_json


async def test_dall_e_3_answers_by_url_or_base64_with_a_revised_prompt(
    client: openai.AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    by_url = await client.images.generate(model="dall-e-3", prompt=PROMPT, size="1792x1024")
    assert by_url.data is not None
    assert by_url.usage is None
    item = by_url.data[0]
    assert item.b64_json is None
    assert item.url is not None
    assert item.revised_prompt
    assert PROMPT in item.revised_prompt
    async with openai.DefaultAsyncHttpxClient() as http:
        fetched = await http.get(item.url)
    assert fetched.headers["content-type"] == "image/png"
    assert decoded(fetched.content).size == (1792, 1024)
    inline = await client.images.generate(
        model="dall-e-3", prompt=PROMPT, quality="hd", response_format="b64_json"
    )
    assert inline.data is not None
    assert decoded(base64.b64decode(inline.data[0].b64_json or "")).size == (1024, 1024)
    assert len(openai_fake.image_files) == 1


def _refusal(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-image-1", "prompt": PROMPT, **fields}


OPENAI_REFUSALS = [
    pytest.param(_refusal(size="512x512"), "size", "invalid_value", id="gpt-size"),
    pytest.param(_refusal(quality="hd"), "quality", "invalid_value", id="gpt-quality"),
    pytest.param(_refusal(n=11), "n", "integer_above_max_value", id="gpt-n"),
    pytest.param(_refusal(n=0), "n", "integer_below_min_value", id="gpt-n-zero"),
    pytest.param(
        _refusal(response_format="url"), "response_format", "unknown_parameter", id="gpt-url"
    ),
    pytest.param(_refusal(output_format="gif"), "output_format", "invalid_value", id="gpt-gif"),
    pytest.param(
        _refusal(prompt="x" * 32001), "prompt", "string_above_max_length", id="gpt-prompt"
    ),
    pytest.param(
        _refusal(model="gpt-image-2", size="1000x1000"), "size", "invalid_value", id="flex-16"
    ),
    pytest.param(
        _refusal(model="gpt-image-2", size="3840x1024"), "size", "invalid_value", id="flex-ratio"
    ),
    pytest.param(
        _refusal(model="gpt-image-2", size="512x512"), "size", "invalid_value", id="flex-small"
    ),
    pytest.param(_refusal(model="dall-e-3", n=2), "n", "integer_above_max_value", id="dalle3-n"),
    pytest.param(
        _refusal(model="dall-e-3", size="1536x1024"), None, "invalid_size", id="dalle3-size"
    ),
    pytest.param(
        _refusal(model="dall-e-3", quality="high"), "quality", "invalid_value", id="dalle3-q"
    ),
    pytest.param(
        _refusal(model="dall-e-3", prompt="x" * 4001),
        "prompt",
        "string_above_max_length",
        id="dalle3-prompt",
    ),
    pytest.param(
        _refusal(model="dall-e-3", output_format="png"),
        "output_format",
        "unknown_parameter",
        id="dalle3-format",
    ),
    pytest.param(
        _refusal(model="dall-e-2", quality="hd"), "quality", "unknown_parameter", id="dalle2-q"
    ),
    pytest.param(_refusal(model="gpt-4o"), "model", "invalid_value", id="not-an-image-model"),
]


@pytest.mark.parametrize(("body", "param", "code"), OPENAI_REFUSALS)
async def test_openai_refuses_what_the_image_api_refuses(
    client: openai.AsyncOpenAI, body: dict[str, Any], param: str | None, code: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.post("/images/generations", body=body, cast_to=object)
    assert caught.value.status_code == 400
    assert caught.value.param == param
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("model", "code", "error_type"),
    [
        ("gpt-image-1", "moderation_blocked", "image_generation_user_error"),
        ("dall-e-3", "content_policy_violation", "invalid_request_error"),
    ],
)
async def test_unsafe_prompts_are_refused_by_the_safety_system(
    client: openai.AsyncOpenAI, openai_fake: FakeOpenAI, model: str, code: str, error_type: str
) -> None:
    openai_fake.unsafe_words = {"forbidden"}
    with pytest.raises(openai.BadRequestError) as caught:
        await client.images.generate(model=model, prompt="A Forbidden picture")
    assert caught.value.code == code
    assert caught.value.type == error_type
    assert "safety system" in caught.value.message


async def test_queued_faults_hit_image_generation(
    client: openai.AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    from tests.fakes.base import Fault

    openai_fake.fail_next(Fault.RATE_LIMIT, retry_after=3)
    with pytest.raises(openai.RateLimitError) as caught:
        await client.images.generate(model="gpt-image-1", prompt=PROMPT)
    assert caught.value.response.headers["retry-after"] == "3"
    assert (await client.images.generate(model="gpt-image-1", prompt=PROMPT)).data


# --- Gemini ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "image_config", "expected"),
    [
        ("gemini-2.5-flash-image", None, (1024, 1024, 1290)),
        ("gemini-2.5-flash-image", {"aspect_ratio": "16:9"}, (1344, 768, 1290)),
        (
            "gemini-3-pro-image-preview",
            {"aspect_ratio": "3:2", "image_size": "2K"},
            (2528, 1696, 1120),
        ),
    ],
)
async def test_gemini_image_models_answer_a_caption_and_an_inline_png(
    gemini_fake: FakeGemini,
    model: str,
    image_config: genai_types.ImageConfigDict | None,
    expected: tuple[int, int, int],
) -> None:
    width, height, tokens = expected
    config = genai_types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"],
        image_config=genai_types.ImageConfig.model_validate(image_config or {}),
    )
    response = await gemini_client(gemini_fake).aio.models.generate_content(
        model=model, contents=PROMPT, config=config
    )
    parts = response.candidates[0].content.parts  # type: ignore[index,union-attr]
    assert parts is not None
    assert parts[0].text == gemini_fake.image_caption
    blob = parts[1].inline_data
    assert blob is not None
    assert blob.mime_type == "image/png"
    assert blob.data is not None
    picture = decoded(blob.data)
    assert (picture.width, picture.height, picture.format) == (width, height, "PNG")
    usage = response.usage_metadata
    assert usage is not None
    assert usage.candidates_tokens_details is not None
    drawn = [d.token_count for d in usage.candidates_tokens_details if d.modality == "IMAGE"]
    assert drawn == [tokens]


async def test_gemini_text_only_modality_gets_no_picture(gemini_fake: FakeGemini) -> None:
    config = genai_types.GenerateContentConfig(response_modalities=["TEXT"])
    response = await gemini_client(gemini_fake).aio.models.generate_content(
        model="gemini-2.5-flash-image", contents=PROMPT, config=config
    )
    assert response.text == "Hello from the fake."


async def test_gemini_refused_picture_ends_with_image_safety(gemini_fake: FakeGemini) -> None:
    gemini_fake.image_block = "IMAGE_SAFETY"
    response = await gemini_client(gemini_fake).aio.models.generate_content(
        model="gemini-2.5-flash-image", contents=PROMPT
    )
    candidate = response.candidates[0]  # type: ignore[index]
    assert candidate.finish_reason == genai_types.FinishReason.IMAGE_SAFETY
    assert candidate.content is None


@pytest.mark.parametrize(
    ("model", "config", "words"),
    [
        ("gemini-2.5-flash", {"response_modalities": ["IMAGE"]}, "response modalities"),
        ("gemini-2.5-flash-image", {"candidate_count": 2}, "Multiple candidates"),
        ("gemini-2.5-flash-image", {"image_config": {"aspect_ratio": "7:3"}}, "aspect ratio"),
        ("gemini-2.5-flash-image", {"image_config": {"image_size": "2K"}}, "Image size"),
        ("gemini-3-pro-image-preview", {"image_config": {"image_size": "8K"}}, "image size"),
    ],
)
async def test_gemini_refuses_what_the_image_models_refuse(
    gemini_fake: FakeGemini, model: str, config: dict[str, Any], words: str
) -> None:
    with pytest.raises(genai_errors.ClientError) as caught:
        await gemini_client(gemini_fake).aio.models.generate_content(
            model=model, contents=PROMPT, config=genai_types.GenerateContentConfig(**config)
        )
    assert caught.value.code == 400
    assert words in str(caught.value.message)
