"""``POST /api/v1/batch``: results in order, each with its own outcome."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from tests.conftest import AUTH, Fakes, HubClientFactory


def tiny_png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


async def test_batch_runs_each_request_and_keeps_order(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    body = {
        "requests": [
            {"prompt": "one"},
            {"kind": "vision", "prompt": "two", "images": [{"data": tiny_png()}]},
            {"prompt": "three", "provider": "nope"},
            {"prompt": "four", "temperature": 9},
            {"prompt": "five", "provider": "ollama"},
        ]
    }
    response = await client.post("/api/v1/batch", json=body, headers=AUTH)
    payload = await response.json()
    assert response.status == 200
    results = payload["results"]
    assert [r["status"] for r in results] == [200, 200, 422, 400, 200]
    assert results[0]["provider"] == "openai"
    assert results[2]["error"]["key"] == "no_capable_provider"
    assert results[3]["error"]["key"] == "invalid_request"
    assert results[4]["provider"] == "ollama"
    ids = [r["request_id"] for r in results if r["status"] == 200]
    assert len(set(ids)) == 3
    prompts = [r.body["messages"][-1]["content"] for r in fakes.openai.requests]
    assert "one" in prompts


@pytest.mark.parametrize(
    "body",
    [{}, {"requests": []}, {"requests": [{"prompt": "x"}] * 21}, {"requests": ["x"]}, [1]],
)
async def test_bad_batches_are_refused_whole(hub_client: HubClientFactory, body: Any) -> None:
    client = await hub_client()
    response = await client.post("/api/v1/batch", json=body, headers=AUTH)
    payload = await response.json()
    assert response.status == 400
    assert payload["error"]["key"] == "invalid_request"


async def test_streaming_inside_a_batch_is_refused_per_item(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    response = await client.post(
        "/api/v1/batch", json={"requests": [{"prompt": "x", "stream": True}]}, headers=AUTH
    )
    payload = await response.json()
    assert payload["results"][0]["status"] == 400
    assert "Streaming" in payload["results"][0]["error"]["message"]
