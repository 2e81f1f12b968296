"""The Ollama-compatible door, driven by the official ``ollama`` client against the real hub."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import aiohttp
import ollama
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image

from addon.api.ollama.app import OLLAMA_DOOR
from tests.addon.api.ha_ollama import Conversation
from tests.conftest import Fakes, HubClientFactory, provider_options
from tests.fakes.base import Fault, Reply, free_port
from tests.fakes.tools import ToolPlan

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "domain": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name"],
}
TOOLS = [
    {"type": "function", "function": {"name": n, "description": n, "parameters": PARAMETERS}}
    for n in ("HassTurnOn", "HassTurnOff")
]
HI = [{"role": "user", "content": "Hi"}]
OPENAI = "openai/gpt-4.1-mini:latest"
Door = Callable[..., Awaitable[tuple[TestClient[Any, Any], str]]]


@pytest.fixture
def door(hub_client: HubClientFactory) -> Door:
    """Start the hub with the door enabled; returns the hub's client and the door's URL."""

    async def start(**door_options: Any) -> tuple[TestClient[Any, Any], str]:
        options = {"enabled": True, "port": free_port(), **door_options}
        client = await hub_client(ollama_api=options)
        return client, f"http://127.0.0.1:{door_of(client)[OLLAMA_DOOR].port}"

    return start


Connect = Callable[..., ollama.AsyncClient]


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """Official Ollama clients (closed after the test)."""
    clients: list[ollama.AsyncClient] = []

    def make(url: str, headers: dict[str, str] | None = None) -> ollama.AsyncClient:
        clients.append(ollama.AsyncClient(host=url, headers=headers))
        return clients[-1]

    yield make
    for client in clients:
        await client.close()  # type: ignore[no-untyped-call]


@pytest.fixture
async def api(door: Door, connect: Connect) -> ollama.AsyncClient:
    """The official Ollama client pointed at the door (default options)."""
    _, url = await door()
    return connect(url)


def door_of(client: TestClient[Any, Any]) -> Any:
    app = client.app
    assert app is not None
    return app


def ledger(data_dir: Path, columns: str) -> list[tuple[Any, ...]]:
    """Columns of the hub's ledger rows, oldest first."""
    with closing(sqlite3.connect(data_dir / "ledger.sqlite3")) as conn:
        return conn.execute(f"SELECT {columns} FROM attempts ORDER BY id").fetchall()


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


# --- listing and probing ----------------------------------------------------------------
async def test_tags_name_every_configured_model_and_auto(api: ollama.AsyncClient) -> None:
    listing = await api.list()
    names = [m.model for m in listing.models]
    assert names == [
        "auto:latest",
        "openai/gpt-4.1-mini:latest",
        "anthropic/claude-haiku-4-5:latest",
        "gemini/gemini-2.5-flash:latest",
        "ollama/gemma3:4b",
    ]
    assert listing.models[1].details is not None
    assert listing.models[1].details.family == "openai"


@pytest.mark.parametrize(
    ("name", "capabilities"),
    [
        (OPENAI, ["completion", "tools", "vision"]),
        ("ollama/gemma3:4b", ["completion", "vision"]),  # gemma3 calls no tools
        ("auto:latest", ["completion", "tools", "vision"]),
        ("anthropic", ["completion", "tools", "vision"]),
    ],
)
async def test_show_reports_capabilities(
    api: ollama.AsyncClient, name: str, capabilities: list[str]
) -> None:
    shown = await api.show(name)
    assert shown.capabilities == capabilities


async def test_show_of_an_unknown_model_is_404(api: ollama.AsyncClient) -> None:
    with pytest.raises(ollama.ResponseError) as caught:
        await api.show("llama3.1:8b")
    assert caught.value.status_code == 404
    assert "not found" in caught.value.error


async def test_root_version_ps_and_pull(door: Door, connect: Connect) -> None:
    _, url = await door()
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as root:
            assert await root.text() == "Ollama is running"
        async with session.head(url) as head:
            assert head.status == 200
        async with session.get(f"{url}/api/version") as version:
            assert (await version.json())["version"].count(".") == 2
    client = connect(url)
    assert (await client.ps()).models == []
    assert (await client.pull("ollama/llama3.1:8b", stream=False)).status == "success"
    with pytest.raises(ollama.ResponseError) as caught:
        await client.pull("llama3.1:8b", stream=False)
    assert caught.value.status_code == 404


# --- chat -------------------------------------------------------------------------------
async def test_chat_json_goes_through_the_pinned_provider(
    api: ollama.AsyncClient, fakes: Fakes, tmp_path: Path
) -> None:
    answer = await api.chat(model=OPENAI, messages=HI, stream=False)
    assert answer.message.content == fakes.openai.state.reply.text
    assert answer.done is True
    assert answer.done_reason == "stop"
    assert answer.model == OPENAI
    assert (answer.prompt_eval_count, answer.eval_count) == (12, 5)
    assert len(fakes.openai.requests) == 1
    assert ledger(tmp_path, "provider, outcome") == [("openai", "ok")]


async def test_chat_streams(api: ollama.AsyncClient, fakes: Fakes) -> None:
    chunks = [c async for c in await api.chat(model="auto:latest", messages=HI, stream=True)]
    assert "".join(c.message.content or "" for c in chunks) == fakes.openai.state.reply.text
    assert [c.done for c in chunks][-1] is True
    assert not any(c.done for c in chunks[:-1])
    assert len(chunks) > 2


async def test_a_request_that_says_nothing_is_streamed_as_ndjson(door: Door, fakes: Fakes) -> None:
    _, url = await door()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/api/chat", json={"model": OPENAI, "messages": HI}) as response,
    ):
        assert response.content_type == "application/x-ndjson"
        lines = [json.loads(line) for line in (await response.text()).splitlines()]
    assert "".join(line["message"]["content"] for line in lines) == fakes.openai.state.reply.text
    assert [line["done"] for line in lines] == [False] * (len(lines) - 1) + [True]


async def test_options_format_and_keep_alive_reach_the_vendor(
    api: ollama.AsyncClient, fakes: Fakes
) -> None:
    schema = {
        "type": "object",
        "properties": {"colour": {"type": "string"}},
        "required": ["colour"],
    }
    answer = await api.chat(
        model=OPENAI,
        messages=HI,
        stream=False,
        format=schema,
        options={"num_predict": 77, "temperature": 0.3, "stop": ["END"], "num_ctx": 8192},
        keep_alive="10m",
    )
    assert set(json.loads(answer.message.content or "")) == {"colour"}
    sent = fakes.openai.requests[-1].body
    assert sent["max_completion_tokens"] == 77
    assert sent["temperature"] == 0.3
    assert sent["stop"] == ["END"]
    assert sent["response_format"]["json_schema"]["schema"]["required"] == ["colour"]
    assert "keep_alive" not in sent

    await api.chat(model="ollama/gemma3:4b", messages=HI, stream=False, keep_alive=-1)
    assert fakes.ollama.requests[-1].body["keep_alive"] == -1


async def test_a_streamed_structured_answer_is_one_clean_json_piece(
    api: ollama.AsyncClient, fakes: Fakes
) -> None:
    """Home Assistant's AI Task streams with ``format``; the pieces joined must be the JSON."""
    fakes.openai.state.reply = Reply(text='```json\n{"colour": "red"}\n```', chunks=4)
    schema = {"type": "object", "properties": {"colour": {"type": "string"}}}
    reply = await api.chat(model=OPENAI, messages=HI, format=schema, stream=True)
    chunks = [c async for c in reply]
    assert json.loads("".join(c.message.content or "" for c in chunks)) == {"colour": "red"}
    assert chunks[-1].done is True


async def test_format_json_asks_for_a_json_object(api: ollama.AsyncClient, fakes: Fakes) -> None:
    fakes.openai.state.reply = Reply(text='{"answer": 42}')
    answer = await api.chat(model=OPENAI, messages=HI, format="json", stream=False)
    assert json.loads(answer.message.content or "") == {"answer": 42}
    assert fakes.openai.requests[-1].body["response_format"]["type"] in (
        "json_object",
        "json_schema",
    )


async def test_images_become_a_vision_request(api: ollama.AsyncClient, fakes: Fakes) -> None:
    message = {"role": "user", "content": "What colour?", "images": [jpeg()]}
    await api.chat(model=OPENAI, messages=[message], stream=False)
    [sent] = fakes.openai.requests[-1].body["messages"]
    kinds = [part["type"] for part in sent["content"]]
    assert "image_url" in kinds
    assert sent["content"][kinds.index("image_url")]["image_url"]["url"].startswith("data:image/")


async def test_a_chat_without_messages_loads_nothing(api: ollama.AsyncClient, fakes: Fakes) -> None:
    answer = await api.chat(model=OPENAI, messages=[], stream=False)
    assert answer.done_reason == "load"
    assert not fakes.openai.requests


# --- tools ------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_tool_calls_come_back_in_ollama_shape(
    api: ollama.AsyncClient, fakes: Fakes, stream: bool
) -> None:
    fakes.openai.script_tools(
        ToolPlan("HassTurnOn", {"name": "kitchen"}), ToolPlan("HassTurnOff", {"name": "hall"})
    )
    if stream:
        reply = await api.chat(model=OPENAI, messages=HI, tools=TOOLS, stream=True)
        chunks = [c async for c in reply]
        calls = [call for c in chunks for call in c.message.tool_calls or ()]
    else:
        answer = await api.chat(model=OPENAI, messages=HI, tools=TOOLS, stream=False)
        calls = list(answer.message.tool_calls or ())
    assert [(c.function.name, dict(c.function.arguments)) for c in calls] == [
        ("HassTurnOn", {"name": "kitchen"}),
        ("HassTurnOff", {"name": "hall"}),
    ]


# Vendors whose fakes are steered with ``script_tools`` and whose providers stream tool calls.
LOOP_VENDORS = ["openai", "anthropic", "gemini", "ollama"]


@pytest.mark.parametrize("vendor", LOOP_VENDORS)
async def test_a_home_assistant_tool_loop(
    door: Door, fakes: Fakes, tmp_path: Path, vendor: str, connect: Connect
) -> None:
    """Request with tools -> tool call -> result -> final text, as Home Assistant runs it."""
    _, url = await door()
    fake = fakes.all[vendor]
    fake.script_tools(ToolPlan("HassTurnOn", {"name": "kitchen light", "domain": ["light"]}))
    ran: list[dict[str, Any]] = []

    def turn_on(arguments: Any) -> dict[str, Any]:
        ran.append(dict(arguments))
        return {"success": [{"name": arguments["name"]}]}

    def turn_off(_arguments: Any) -> dict[str, Any]:
        raise ValueError("not here")

    # The configured Ollama model (gemma3:4b) calls no tools: the loop pins one that does.
    models = {**{p["name"]: p["model"] for p in provider_options(fakes)}, "ollama": "llama3.2"}
    agent = Conversation(
        connect(url),
        model=f"{vendor}/{models[vendor]}",
        tools={"HassTurnOn": (PARAMETERS, turn_on), "HassTurnOff": (PARAMETERS, turn_off)},
    )
    text = await agent.ask("Turn on the kitchen light")
    assert text == fake.state.reply.text
    assert ran == [{"name": "kitchen light", "domain": ["light"]}]
    assert agent.rounds == 2
    rows = ledger(tmp_path, "provider, outcome, tool_calls")
    assert rows == [(vendor, "ok", 1), (vendor, "ok", 0)]


async def test_tools_without_a_capable_model_are_422(
    door: Door, fakes: Fakes, connect: Connect
) -> None:
    _, url = await door()
    with pytest.raises(ollama.ResponseError) as caught:
        await connect(url).chat(model="ollama/gemma3:4b", messages=HI, tools=TOOLS, stream=False)
    assert caught.value.status_code == 422
    assert caught.value.error.startswith("no_capable_provider: ")
    assert not fakes.ollama.requests


# --- errors -----------------------------------------------------------------------------
BAD: list[tuple[str, dict[str, Any], str]] = [
    ("no model", {"messages": HI}, "model"),
    ("unknown role", {"messages": [{"role": "robot", "content": "x"}]}, "messages.0.role"),
    ("image not base64", {"messages": [{"role": "user", "content": "x", "images": ["%%"]}]},
     "messages.0.images.0"),
    ("tool result without a call", {"messages": [{"role": "tool", "content": "{}"}]},
     "messages.0"),
    ("arguments not an object", {"messages": [*HI, {"role": "assistant", "tool_calls": [
        {"function": {"name": "HassTurnOn", "arguments": "on"}}]}]},
     "messages.1.tool_calls.0.function.arguments"),
    ("num_predict zero", {"messages": HI, "options": {"num_predict": 0}}, "options.num_predict"),
    ("format neither json nor a schema", {"messages": HI, "format": "yaml"}, "format"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "field"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
async def test_bad_requests_are_400_in_ollama_shape(
    door: Door, fakes: Fakes, body: dict[str, Any], field: str
) -> None:
    _, url = await door()
    request = {"model": OPENAI, "stream": False, **body} if "model" not in body else body
    if field == "model":
        request = {"stream": False, **body}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/api/chat", json=request) as response,
    ):
        payload = await response.json()
    assert response.status == 400
    assert set(payload) == {"error"}
    assert payload["error"].startswith("invalid_request: ")
    assert field in payload["error"]
    assert not any(fake.requests for fake in fakes.all.values())


async def test_an_error_mid_stream_is_an_error_line(api: ollama.AsyncClient, fakes: Fakes) -> None:
    fakes.openai.fail_next(Fault.SERVER_ERROR, mid_stream=True)
    with pytest.raises(ollama.ResponseError) as caught:
        async for _ in await api.chat(model=OPENAI, messages=HI, stream=True):
            pass
    assert "provider_bad_response" in caught.value.error


# --- who may come in --------------------------------------------------------------------
async def test_off_by_default(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    assert OLLAMA_DOOR not in door_of(client)


async def test_addresses_outside_the_allowed_networks_are_refused(
    door: Door, fakes: Fakes, connect: Connect
) -> None:
    _, url = await door(allowed_networks=["172.30.32.0/23", "192.168.1.0/24"])
    with pytest.raises(ollama.ResponseError) as caught:
        await connect(url).chat(model=OPENAI, messages=HI, stream=False)
    assert caught.value.status_code == 403
    assert "allowed_networks" in caught.value.error
    assert not fakes.openai.requests


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (None, 401),
        ({"Authorization": "Bearer wrong-door-token"}, 401),
        ({"Authorization": "Bearer door-token-0123456789"}, 200),
    ],
)
async def test_an_optional_token_is_required_when_set(
    door: Door, headers: dict[str, str] | None, status: int, connect: Connect
) -> None:
    _, url = await door(token="door-token-0123456789")
    client = connect(url, headers)
    if status == 200:
        assert (await client.list()).models
        return
    with pytest.raises(ollama.ResponseError) as caught:
        await client.list()
    assert caught.value.status_code == status


async def test_the_hub_token_does_not_open_the_door_nor_the_door_token_the_hub(
    door: Door,
    connect: Connect,
) -> None:
    client, url = await door(token="door-token-0123456789")
    hub_token = {"Authorization": "Bearer test-token-0123456789"}
    with pytest.raises(ollama.ResponseError):
        await connect(url, hub_token).list()
    response = await client.get(
        "/api/v1/providers", headers={"Authorization": "Bearer door-token-0123456789"}
    )
    assert response.status == 401
