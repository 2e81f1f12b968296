"""Image generation through the real hub: ``POST /api/v1/images`` and ``/v1/images/generations``.

HTTP -> app -> manager -> real SDK -> the simulated vendors; the /v1 door is driven by the
official ``openai`` client. The fakes draw deterministic pictures (``tests.fakes.pictures``),
so every picture is decoded and checked: its format, size and colour say who drew it.
"""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image

from tests.conftest import AUTH, TOKEN, Fakes, HubClientFactory, provider_options
from tests.fakes.base import Fault
from tests.fakes.openai_images import output_tokens
from tests.fakes.pictures import colour

PROMPT = "A cosy living room at night, the lamps on"


@pytest.fixture
async def client(hub_client: HubClientFactory) -> TestClient[Any, Any]:
    """The hub over the four fakes (priority: openai, anthropic, gemini, ollama)."""
    return await hub_client()


@pytest.fixture
async def sdk(client: TestClient[Any, Any]) -> AsyncIterator[openai.AsyncOpenAI]:
    """The official OpenAI client pointed at the hub's /v1."""
    url = str(client.make_url("/v1"))
    async with openai.AsyncOpenAI(base_url=url, api_key=TOKEN, max_retries=0) as api:
        yield api


async def draw(client: TestClient[Any, Any], **body: Any) -> tuple[int, dict[str, Any]]:
    response = await client.post("/api/v1/images", json=body, headers=AUTH)
    return response.status, await response.json()


def decoded(data: str | bytes) -> Image.Image:
    raw = base64.b64decode(data)
    image = Image.open(io.BytesIO(raw))
    image.load()
    return image


def generations(fakes: Fakes) -> dict[str, int]:
    """How many image calls each vendor received."""
    return {
        "openai": len([r for r in fakes.openai.requests if r.path == "/v1/images/generations"]),
        "gemini": len([r for r in fakes.gemini.requests if "-image:" in r.path]),
        "anthropic": len(fakes.anthropic.requests),
        "ollama": len(fakes.ollama.requests),
    }


# --- the native door ------------------------------------------------------------------------
async def test_pictures_inline_with_the_hubs_figures(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    status, body = await draw(  # count 2.0: JSON's whole number 2
        client, prompt=PROMPT, count=2.0, size="1024x1536", quality="hd", format="jpeg", tag="art"
    )
    assert status == 200, body
    assert (body["provider"], body["model"]) == ("openai", "gpt-image-1.5")
    pictures = [decoded(i["data"]) for i in body["images"]]
    assert [(p.format, p.size) for p in pictures] == [("JPEG", (1024, 1536))] * 2
    assert [(i["mime_type"], i["width"], i["height"]) for i in body["images"]] == [
        ("image/jpeg", 1024, 1536)
    ] * 2
    drawn = 2 * output_tokens("high", 1024, 1536)  # "hd" is the hub's "high"
    usage = body["usage"]
    assert (usage["images"], usage["output_tokens"]) == (2, drawn)
    assert body["cost_usd"] == pytest.approx((usage["input_tokens"] * 5 + drawn * 32) / 1e6)
    assert [(a["provider"], a["outcome"]) for a in body["attempts"]] == [("openai", "ok")]
    wire = fakes.openai.requests[-1].body
    assert (wire["quality"], wire["output_format"], wire["n"]) == ("high", "jpeg", 2)
    assert generations(fakes) == {"openai": 1, "gemini": 0, "anthropic": 0, "ollama": 0}
    recent = await (await client.get("/api/v1/requests?limit=1", headers=AUTH)).json()
    assert recent["requests"][0]["capability"] == "images"
    report = await (await client.get("/api/v1/usage", headers=AUTH)).json()
    assert report["by_capability"]["images"]["images"] == 2
    assert report["by_tag"]["art"]["requests"] == 1


async def test_a_failing_vendor_fails_over_to_gemini(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    fakes.openai.fail_next(Fault.SERVER_ERROR)
    status, body = await draw(client, prompt=PROMPT, size="1536x1024")
    assert status == 200, body
    assert [(a["provider"], a["outcome"]) for a in body["attempts"]] == [
        ("openai", "provider_bad_response"),
        ("gemini", "ok"),
    ]
    picture = decoded(body["images"][0]["data"])
    assert (picture.format, picture.size) == ("PNG", (1248, 832))  # Gemini's 3:2
    assert picture.getpixel((0, 0)) == colour(PROMPT, 0)
    assert body["model"] == "gemini-2.5-flash-image"
    assert body["usage"]["output_tokens"] >= 1290
    assert generations(fakes)["anthropic"] == generations(fakes)["ollama"] == 0
    recent = await (await client.get("/api/v1/requests?limit=1", headers=AUTH)).json()
    row = recent["requests"][0]
    assert (row["capability"], row["provider"], row["cost_usd"]) == (
        "images",
        "gemini",
        pytest.approx(body["cost_usd"]),
    )
    assert [(a["provider"], a["outcome"]) for a in row["attempts"]] == [
        ("openai", "provider_bad_response"),
        ("gemini", "ok"),
    ]


async def test_a_size_nobody_draws_is_a_422_before_any_vendor(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    status, body = await draw(client, prompt=PROMPT, size="1792x1024")
    assert status == 422
    assert body["error"]["key"] == "no_capable_provider"
    assert "gpt-image-1.5 takes the sizes" in body["error"]["message"]
    assert "longest edge at most 1600" in body["error"]["message"]
    assert generations(fakes) == {"openai": 0, "gemini": 0, "anthropic": 0, "ollama": 0}


async def test_the_safety_systems_refusal_is_the_callers_and_not_failed_over(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    fakes.openai.unsafe_words = {"lamps"}
    status, body = await draw(client, prompt=PROMPT)
    assert status == 400
    assert body["error"]["key"] == "provider_bad_request"
    assert "safety system" in body["error"]["message"]
    assert generations(fakes)["gemini"] == 0


async def test_a_budget_holds_per_picture(hub_client: HubClientFactory, fakes: Fakes) -> None:
    providers = provider_options(fakes)
    providers[0]["image_model"] = "dall-e-3"
    client = await hub_client(providers=providers, budget_daily_usd=0.1)
    for _ in range(2):  # two standard 1024x1024 pictures: $0.08
        status, body = await draw(client, prompt=PROMPT)
        assert status == 200, body
        assert body["cost_usd"] == pytest.approx(0.04)
    status, body = await draw(client, prompt=PROMPT)  # $0.04 more would pass $0.10
    assert status == 429
    assert body["error"]["key"] == "budget_exceeded"
    assert [a["outcome"] for a in body["error"]["attempts"]] == ["budget_exceeded"] * 2
    assert generations(fakes) == {"openai": 2, "gemini": 0, "anthropic": 0, "ollama": 0}
    usage = await (await client.get("/api/v1/usage", headers=AUTH)).json()
    assert usage["by_capability"]["images"]["cost_usd"] == pytest.approx(0.08)


async def test_a_budget_holds_under_concurrent_requests(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    providers = provider_options(fakes)
    providers[0]["image_model"] = "dall-e-3"
    client = await hub_client(providers=providers, budget_daily_usd=0.1)
    answers = await asyncio.gather(*(draw(client, prompt=PROMPT) for _ in range(5)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 200, 429, 429, 429]  # reserved before any call: $0.08 of $0.10
    assert generations(fakes) == {"openai": 2, "gemini": 0, "anthropic": 0, "ollama": 0}
    usage = await (await client.get("/api/v1/usage", headers=AUTH)).json()
    assert usage["by_capability"]["images"]["cost_usd"] == pytest.approx(0.08)


async def test_a_budget_reserves_the_dearest_picture_of_a_token_priced_model(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client(budget_daily_usd=0.02)
    status, body = await draw(client, prompt=PROMPT, size="1024x1024", quality="low")
    assert status == 200, body  # 272 output tokens at $32 per million
    assert body["cost_usd"] == pytest.approx(
        (body["usage"]["input_tokens"] * 5 + output_tokens("low", 1024, 1024) * 32) / 1e6
    )
    # Unsaid quality: gpt-image-1.5 may bill a high picture ($0.13), Gemini 1290 tokens
    # plus its caption allowance at $30 per million: neither fits what is left.
    status, body = await draw(client, prompt=PROMPT, size="1024x1024")
    assert status == 429, body
    assert [a["outcome"] for a in body["error"]["attempts"]] == ["budget_exceeded"] * 2
    assert generations(fakes) == {"openai": 1, "gemini": 0, "anthropic": 0, "ollama": 0}


async def test_a_cached_request_draws_nothing_new(
    client: TestClient[Any, Any], fakes: Fakes
) -> None:
    first_status, first = await draw(client, prompt=PROMPT, cache=True)
    status, again = await draw(client, prompt=PROMPT, cache=True)
    assert (first_status, status) == (200, 200)
    assert (first["cached"], again["cached"], again["cost_usd"]) == (False, True, 0)
    assert again["images"] == first["images"]
    status, fresh = await draw(client, prompt=PROMPT)  # not cached unless asked
    assert (status, fresh["cached"]) == (200, False)
    assert generations(fakes)["openai"] == 2


@pytest.fixture
async def local_client(hub_client: HubClientFactory, fakes: Fakes) -> TestClient[Any, Any]:
    """The hub with an OpenAI-compatible server (free, drawing with flux-schnell) first."""
    fakes.openai.image_models = frozenset({"flux-schnell"})
    local = {
        "name": "local",
        "type": "openai_compatible",
        "base_url": f"{fakes.openai.url}/v1",
        "model": "llama3",
        "image_model": "flux-schnell",
        "input_price": 0,
        "output_price": 0,
        "priority": 1,
        "timeout": 5,
    }
    return await hub_client(providers=[local, *provider_options(fakes)])


async def test_an_openai_compatible_server_draws_for_free(
    local_client: TestClient[Any, Any], fakes: Fakes
) -> None:
    status, body = await draw(local_client, prompt=PROMPT, count=2, size="768x512")
    assert status == 200, body
    assert (body["provider"], body["model"], body["cost_usd"]) == ("local", "flux-schnell", 0)
    pictures = [decoded(i["data"]) for i in body["images"]]
    assert [(p.format, p.size) for p in pictures] == [("PNG", (768, 512))] * 2
    assert fakes.openai.requests[-1].body["model"] == "flux-schnell"


async def test_the_openai_client_pins_the_compatible_server(
    local_client: TestClient[Any, Any],
) -> None:
    url = str(local_client.make_url("/v1"))
    async with openai.AsyncOpenAI(base_url=url, api_key=TOKEN, max_retries=0) as api:
        result = await api.images.generate(model="local/flux-schnell", prompt=PROMPT)
    assert result.data is not None
    assert decoded(result.data[0].b64_json or "").format == "PNG"
    assert result.model_extra is not None
    assert result.model_extra["model"] == "local/flux-schnell"


async def test_an_unknown_provider_is_named(client: TestClient[Any, Any], fakes: Fakes) -> None:
    status, body = await draw(client, prompt=PROMPT, provider="attic")
    assert status == 422, body  # as for chat
    assert body["error"]["key"] == "no_capable_provider"
    assert "No enabled provider named 'attic'" in body["error"]["message"]
    assert generations(fakes) == {"openai": 0, "gemini": 0, "anthropic": 0, "ollama": 0}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "prompt"),
        ({"prompt": "  "}, "prompt"),
        ({"prompt": "x" * 32_001}, "prompt"),
        ({"prompt": "x", "count": 0}, "count"),
        ({"prompt": "x", "count": 11}, "count"),
        ({"prompt": "x", "count": "2"}, "count"),
        ({"prompt": "x", "size": "big"}, "size"),
        ({"prompt": "x", "size": "32x32"}, "size"),
        ({"prompt": "x", "size": "5000x5000"}, "size"),
        ({"prompt": "x", "quality": "ultra"}, "quality"),
        ({"prompt": "x", "quality": "HD"}, "quality"),
        ({"prompt": "x", "model": " "}, "model"),
        ({"prompt": "x", "provider": ""}, "provider"),
        ({"prompt": "x", "format": "gif"}, "format"),
        ({"prompt": "x", "tag": "no spaces"}, "tag"),
        ({"prompt": "x", "n": 2}, "n"),
        ({"prompt": "x", "model": "dall-e-3", "count": 2}, "count"),
        ({"prompt": "x" * 4001, "model": "dall-e-3"}, "prompt"),
        ({"prompt": "x", "model": "gpt-image-1", "size": "512x512"}, "size"),
        ({"prompt": "x", "provider": "gemini", "count": 5}, "count"),
        ({"prompt": "x", "provider": "gemini", "size": "1000x300"}, "size"),
    ],
)
async def test_bad_requests_are_a_400_naming_the_field_before_any_vendor(
    client: TestClient[Any, Any], fakes: Fakes, body: dict[str, Any], param: str
) -> None:
    status, answer = await draw(client, **body)
    assert status == 400, answer
    assert answer["error"]["key"] == "invalid_request"
    assert answer["error"]["param"] == param
    assert generations(fakes) == {"openai": 0, "gemini": 0, "anthropic": 0, "ollama": 0}


# --- the OpenAI-compatible door -------------------------------------------------------------
async def test_the_openai_client_gets_an_images_response(
    sdk: openai.AsyncOpenAI, fakes: Fakes
) -> None:
    raw = await sdk.images.with_raw_response.generate(
        prompt=PROMPT, n=2, size="1024x1024", quality="low", output_format="webp"
    )
    result = raw.parse()
    assert raw.headers["x-hub-attempts"] == "openai=ok"
    assert result.data is not None
    pictures = [decoded(item.b64_json or "") for item in result.data]
    assert [(p.format, p.size) for p in pictures] == [("WEBP", (1024, 1024))] * 2
    assert (result.output_format, result.size) == ("webp", "1024x1024")
    assert result.usage is not None
    assert result.usage.output_tokens == 2 * output_tokens("low", 1024, 1024)
    assert fakes.openai.requests[-1].body["n"] == 2


async def test_the_openai_client_pins_gemini(sdk: openai.AsyncOpenAI, fakes: Fakes) -> None:
    result = await sdk.images.generate(
        model="gemini/gemini-2.5-flash-image", prompt=PROMPT, size="1024x1024"
    )
    assert result.data is not None
    assert decoded(result.data[0].b64_json or "").size == (1024, 1024)
    assert result.model_extra is not None
    assert result.model_extra["model"] == "gemini/gemini-2.5-flash-image"
    assert generations(fakes)["openai"] == 0


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"response_format": "url"}, "response_format"),
        ({"model": "dall-e-3", "n": 2}, "n"),
        ({"style": "vivid"}, "style"),
        ({"stream": True}, "stream"),
        ({"background": "transparent"}, "background"),
        ({"size": "1x1"}, "size"),
        ({"partial_images": False}, "partial_images"),
        ({"output_compression": 80}, "output_compression"),
    ],
)
async def test_the_openai_door_refuses_what_the_hub_cannot_honour(
    sdk: openai.AsyncOpenAI, fakes: Fakes, fields: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await sdk.post("/images/generations", body={"prompt": PROMPT, **fields}, cast_to=object)
    assert refused.value.param == param
    assert refused.value.code == "invalid_request"
    assert generations(fakes) == {"openai": 0, "gemini": 0, "anthropic": 0, "ollama": 0}


async def test_the_openai_door_fails_over_and_says_so(
    sdk: openai.AsyncOpenAI, fakes: Fakes
) -> None:
    fakes.openai.fail_next(Fault.RATE_LIMIT, retry_after=30)
    raw = await sdk.images.with_raw_response.generate(prompt=PROMPT)
    assert raw.headers["x-hub-attempts"] == "openai=provider_rate_limited, gemini=ok"
    assert raw.parse().data is not None


async def test_the_openai_door_takes_nulls_as_absent(sdk: openai.AsyncOpenAI) -> None:
    nulls = dict.fromkeys(
        ("model", "n", "size", "quality", "response_format", "background", "style", "stream")
    )
    raw = await sdk.post(
        "/images/generations", body={"prompt": PROMPT, **nulls}, cast_to=openai.types.ImagesResponse
    )
    assert raw.data is not None
    assert decoded(raw.data[0].b64_json or "").size == (1024, 1024)  # gpt-image-1.5's default
