"""``POST /api/v1/vision``: JSON with base64 images and multipart uploads."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from aiohttp import FormData
from PIL import Image

from addon.images.budget import SHARED_BUDGET
from tests.conftest import AUTH, Fakes, HubClientFactory, provider_options


def jpeg_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


async def post_vision(client: Any, body: Any, status: int = 200) -> dict[str, Any]:
    response = await client.post("/api/v1/vision", json=body, headers=AUTH)
    payload: dict[str, Any] = await response.json()
    assert response.status == status, payload
    return payload


async def test_json_image_reaches_openai_as_a_data_url(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    image = base64.b64encode(jpeg_bytes()).decode()
    body = await post_vision(client, {"prompt": "What is this?", "images": [{"data": image}]})
    assert body["provider"] == "openai"
    content = fakes.openai.requests[-1].body["messages"][-1]["content"]
    kinds = [part["type"] for part in content]
    assert "text" in kinds
    assert "image_url" in kinds
    url = next(p["image_url"]["url"] for p in content if p["type"] == "image_url")
    assert url.startswith("data:image/")
    decoded = base64.b64decode(url.split(",", 1)[1])
    assert Image.open(io.BytesIO(decoded)).size[0] > 0


async def test_data_url_input_is_accepted(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    image = "data:image/jpeg;base64," + base64.b64encode(jpeg_bytes()).decode()
    body = await post_vision(client, {"prompt": "What is this?", "images": [{"data": image}]})
    assert body["provider"] == "openai"


async def test_multipart_upload(hub_client: HubClientFactory, fakes: Fakes) -> None:
    client = await hub_client()
    form = FormData()
    form.add_field("prompt", "Who is at the door?")
    form.add_field("max_tokens", "40")
    form.add_field("provider", "anthropic")
    form.add_field("image", jpeg_bytes(), filename="door.jpg", content_type="image/jpeg")
    response = await client.post("/api/v1/vision", data=form, headers=AUTH)
    body = await response.json()
    assert response.status == 200, body
    assert body["provider"] == "anthropic"
    sent = fakes.anthropic.requests[-1].body
    blocks = sent["messages"][-1]["content"]
    image_block = next(b for b in blocks if b["type"] == "image")
    assert image_block["source"]["type"] == "base64"
    assert sent["max_tokens"] == 40


async def test_multipart_without_a_file_is_invalid(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    form = FormData(default_to_multipart=True)
    form.add_field("prompt", "Anything?")
    form.add_field("detail", "low")
    response = await client.post("/api/v1/vision", data=form, headers=AUTH)
    body = await response.json()
    assert response.status == 400
    assert "image file" in body["error"]["message"]


async def test_vision_skips_providers_without_a_vision_model(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    providers = provider_options(fakes)
    providers[0]["model"] = "gpt-3.5-turbo"  # no vision, and no vision_model set
    client = await hub_client(providers=providers)
    image = base64.b64encode(jpeg_bytes()).decode()
    body = await post_vision(client, {"prompt": "What?", "images": [{"data": image}]})
    assert body["provider"] == "anthropic"
    assert not fakes.openai.requests


async def test_vision_model_is_used_for_images(hub_client: HubClientFactory, fakes: Fakes) -> None:
    providers = provider_options(fakes)
    providers[0]["model"] = "gpt-3.5-turbo"
    providers[0]["vision_model"] = "gpt-4o-mini"
    client = await hub_client(providers=providers)
    image = base64.b64encode(jpeg_bytes()).decode()
    await post_vision(client, {"prompt": "What?", "images": [{"data": image}]})
    assert fakes.openai.requests[-1].body["model"] == "gpt-4o-mini"


async def test_no_vision_capable_provider_is_422(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    providers = [p for p in provider_options(fakes) if p["name"] == "openai"]
    providers[0]["model"] = "gpt-3.5-turbo"
    client = await hub_client(providers=providers)
    image = base64.b64encode(jpeg_bytes()).decode()
    body = await post_vision(client, {"prompt": "What?", "images": [{"data": image}]}, status=422)
    assert body["error"]["key"] == "no_capable_provider"
    assert "vision_model" in body["error"]["message"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"prompt": "x"}, "images"),
        ({"prompt": "x", "images": []}, "images"),
        ({"prompt": "x", "images": [{"data": "%%%not base64%%%"}]}, "images.0.data"),
        ({"prompt": "x", "images": [{"data": "aGk="}] * 11}, "images"),
        ({"prompt": "x", "images": [{"data": "aGk="}], "detail": "ultra"}, "detail"),
    ],
)
async def test_bad_vision_input(
    hub_client: HubClientFactory, fakes: Fakes, body: Any, fragment: str
) -> None:
    client = await hub_client()
    payload = await post_vision(client, body, status=400)
    assert payload["error"]["key"] == "invalid_request"
    assert fragment in payload["error"]["message"]
    assert not fakes.openai.requests


async def test_wrong_content_type_is_415(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    response = await client.post(
        "/api/v1/vision", data=b"abc", headers={**AUTH, "Content-Type": "text/plain"}
    )
    body = await response.json()
    assert response.status == 415
    assert body["error"]["key"] == "unsupported_media"


async def test_image_preparation_counts_against_the_request_deadline(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    """With the hub's decode memory taken by other requests, a vision request ends at its
    deadline with 504 instead of waiting; no provider is called and the memory is untouched."""
    client = await hub_client(request_timeout=1)
    taken = SHARED_BUDGET.capacity - 1024
    await SHARED_BUDGET.acquire(taken)
    try:
        image = base64.b64encode(jpeg_bytes((4000, 3000))).decode()
        body = await post_vision(client, {"prompt": "?", "images": [{"data": image}]}, status=504)
        assert body["error"]["key"] == "upstream_timeout"
        assert "deadline" in body["error"]["message"]
        assert SHARED_BUDGET.used == taken
    finally:
        SHARED_BUDGET.release(taken)
    assert fakes.openai.requests == []
