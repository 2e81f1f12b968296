"""Text no provider could accept is the caller's fault, on every door (issue 10, item 2).

Lone UTF-16 surrogates and NUL characters are refused with 400 ``invalid_request`` before any
provider is called and never count against a provider: after many such requests every breaker
is still closed and ordinary traffic flows. Other control characters pass untouched.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData

from tests.addon.routing.api_fixtures import Hub, HubFactory, hub_factory, jpeg_b64
from tests.conftest import AUTH, Fakes

REFUSED = [
    pytest.param("x\ud800", id="lone high surrogate"),
    pytest.param("\udfffy", id="lone low surrogate"),
    pytest.param("smile \ud83d please", id="half an emoji"),
    pytest.param("nul\x00byte", id="NUL"),
    pytest.param("\x00", id="only NUL"),
]
REFUSED_TEXT = [str(case.values[0]) for case in REFUSED]
ACCEPTED = [
    pytest.param("emoji \U0001f600 in a pair", id="surrogate pair"),
    pytest.param("tab\tnew\nline\rreturn", id="whitespace controls"),
    pytest.param("\x1b[31mred\x1b[0m bell\x07 del\x7f", id="other controls"),
    pytest.param("\ufeffbom \u2028 separators \u2029", id="unicode specials"),
]


@pytest.fixture
def make_hub(fakes: Fakes, aiohttp_client: Any, tmp_path: Path) -> HubFactory:
    """Build the real hub over the fakes."""
    return hub_factory(fakes, aiohttp_client, tmp_path)


async def native(hub: Hub, text: str) -> tuple[int, str | None]:
    answer = await hub.chat(text)
    return answer.status, answer.key


async def native_messages(hub: Hub, text: str) -> tuple[int, str | None]:
    answer = await hub.post(
        "/api/v1/chat", {"system": "be brief", "messages": [{"role": "user", "content": text}]}
    )
    return answer.status, answer.key


async def native_system(hub: Hub, text: str) -> tuple[int, str | None]:
    answer = await hub.post("/api/v1/chat", {"system": text, "prompt": "hello"})
    return answer.status, answer.key


async def native_stream(hub: Hub, text: str) -> tuple[int, str | None]:
    answer = await hub.stream(text)
    return answer.status, answer.error_key


async def vision_json(hub: Hub, text: str) -> tuple[int, str | None]:
    answer = await hub.vision(text)
    return answer.status, answer.key


async def vision_multipart(hub: Hub, text: str) -> tuple[int, str | None]:
    form = FormData()
    # JSON escapes carry any code point, even one UTF-8 cannot encode.
    form.add_field("messages", json.dumps([{"role": "user", "content": text}]))
    jpeg = base64.b64decode(jpeg_b64())
    form.add_field("image", jpeg, filename="door.jpg", content_type="image/jpeg")
    response = await hub.client.post("/api/v1/vision", data=form, headers=AUTH)
    body = await response.json()
    return response.status, body.get("error", {}).get("key")


async def openai_door(hub: Hub, text: str) -> tuple[int, str | None]:
    body = {"model": "auto", "messages": [{"role": "user", "content": text}]}
    response = await hub.client.post("/v1/chat/completions", json=body, headers=AUTH)
    payload = await response.json()
    return response.status, payload.get("error", {}).get("code")


async def openai_stream(hub: Hub, text: str) -> tuple[int, str | None]:
    body = {"model": "auto", "stream": True, "messages": [{"role": "user", "content": text}]}
    response = await hub.client.post("/v1/chat/completions", json=body, headers=AUTH)
    if response.content_type == "text/event-stream":
        await response.read()
        return response.status, None
    payload = await response.json()
    return response.status, payload.get("error", {}).get("code")


async def batch(hub: Hub, text: str) -> tuple[int, str | None]:
    answer = await hub.post("/api/v1/batch", {"requests": [{"prompt": text}]})
    assert answer.status == 200, answer.body
    item = answer.body["results"][0]
    return item["status"], item.get("error", {}).get("key")


Door = Callable[[Hub, str], Awaitable[tuple[int, str | None]]]
DOORS: list[Any] = [
    pytest.param(native, id="chat"),
    pytest.param(native_messages, id="chat messages"),
    pytest.param(native_system, id="chat system"),
    pytest.param(native_stream, id="chat stream"),
    pytest.param(vision_json, id="vision json"),
    pytest.param(vision_multipart, id="vision multipart"),
    pytest.param(openai_door, id="v1"),
    pytest.param(openai_stream, id="v1 stream"),
    pytest.param(batch, id="batch"),
]


def generation_calls(hub: Hub) -> int:
    return sum(hub.calls(vendor) for vendor in hub.fakes.all)


@pytest.mark.parametrize("door", DOORS)
async def test_unsendable_text_is_refused_before_any_provider_is_called(
    make_hub: HubFactory, door: Door
) -> None:
    hub = await make_hub()
    for text in REFUSED_TEXT:
        for _ in range(3):
            assert await door(hub, text) == (400, "invalid_request"), repr(text)
    assert generation_calls(hub) == 0
    assert set(hub.manager.guards.breakers.states().values()) == {"closed"}
    health = await (await hub.client.get("/health")).json()
    assert health["status"] != "down"
    assert {p["state"] for p in health["providers"]} <= {"unknown", "healthy"}
    assert (await hub.chat()).status == 200  # ordinary traffic is untouched


@pytest.mark.parametrize("text", ACCEPTED)
@pytest.mark.parametrize("door", DOORS)
async def test_other_control_characters_reach_the_provider_intact(
    make_hub: HubFactory, door: Door, text: str
) -> None:
    hub = await make_hub(only=("openai",))
    status, key = await door(hub, text)
    assert (status, key) == (200, None)
    sent = [r.json for r in hub.fakes.openai.requests if "/chat/completions" in r.path]
    contents = json.dumps([m.get("content") for body in sent for m in body["messages"]])
    assert json.dumps(text)[1:-1] in contents


async def test_the_refusal_names_the_field(make_hub: HubFactory) -> None:
    hub = await make_hub()
    answer = await hub.post(
        "/api/v1/chat",
        {"messages": [{"role": "user", "content": "fine"}, {"role": "user", "content": "a\x00"}]},
    )
    assert answer.key == "invalid_request"
    assert answer.error["field"] == "messages.1.content"
    assert "NUL" in answer.error["message"]
    assert "U+0000" in answer.error["message"]
