"""The Ollama provider: the real ``ollama`` SDK against the wire-faithful fake on loopback."""

from __future__ import annotations

import base64
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from addon.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderCapabilityError,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from addon.models import (
    ChatRequest,
    FinishReason,
    ImageInput,
    Message,
    Role,
    StreamDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
from addon.providers import create_provider
from addon.providers.ollama import OllamaProvider, wire_options
from addon.providers.traits import ModelTraits
from addon.settings import ProviderSettings, Secret
from tests.fakes.base import Fault, Reply
from tests.fakes.ollama import FakeOllama

KEY = "proxy-secret-7f3a9c"
MODELS = ["llama3.2", "llava:7b", "gemma3:4b"]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"label": {"type": "string"}, "count": {"type": "integer"}},
    "required": ["label", "count"],
}


def ask(text: str = "Hi", *, model: str = "llama3.2", **fields: Any) -> ChatRequest:
    return ChatRequest(messages=(Message(Role.USER, text),), model=model, **fields)


def settings_for(url: str, *, api_key: str = "", timeout: float = 30) -> ProviderSettings:
    return ProviderSettings(
        name="local",
        type="ollama",
        model="llama3.2",
        vision_model="llava:7b",
        base_url=url,
        api_key=Secret(api_key),
        timeout=timeout,
    )


def chat_requests(fake: FakeOllama) -> list[Any]:
    return [r for r in fake.requests if r.path == "/api/chat"]


async def collect(provider: OllamaProvider, request: ChatRequest, timeout: float = 10) -> list[Any]:
    return [delta async for delta in provider.chat_stream(request, timeout=timeout)]


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK sends OLLAMA_API_KEY from the environment when no header is configured.
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    server = FakeOllama(models=list(MODELS))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def provider(fake: FakeOllama) -> AsyncIterator[OllamaProvider]:
    instance = OllamaProvider(settings_for(fake.url))
    yield instance
    await instance.close()


@pytest.fixture
async def keyed_fake() -> AsyncIterator[FakeOllama]:
    server = FakeOllama(api_key=KEY, models=list(MODELS))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def keyed_provider(keyed_fake: FakeOllama) -> AsyncIterator[OllamaProvider]:
    instance = OllamaProvider(settings_for(keyed_fake.url, api_key=KEY))
    yield instance
    await instance.close()


# --- chat -------------------------------------------------------------------------------
async def test_chat_returns_text_usage_and_vendor_model(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.state.reply = Reply(text="Lights are off.", input_tokens=21, output_tokens=4)

    response = await provider.chat(ask("Are the lights off?"), timeout=10)

    assert response.text == "Lights are off."
    assert response.usage == Usage(input_tokens=21, output_tokens=4)
    assert response.model == "llama3.2"
    assert response.finish_reason is FinishReason.STOP
    assert response.data is None
    body = chat_requests(fake)[-1].body
    assert body["stream"] is False
    assert body["model"] == "llama3.2"
    assert body["messages"] == [{"role": "user", "content": "Are the lights off?"}]
    assert "options" not in body
    assert "format" not in body


async def test_output_tokens_include_thinking(provider: OllamaProvider, fake: FakeOllama) -> None:
    fake.state.reply = Reply(text="Yes.", output_tokens=2, thinking_tokens=30)

    response = await provider.chat(ask(), timeout=10)

    assert response.text == "Yes."
    assert response.usage.output_tokens == 32


async def test_created_through_the_registry(fake: FakeOllama) -> None:
    created = create_provider(settings_for(fake.url))
    try:
        assert isinstance(created, OllamaProvider)
        assert (await created.chat(ask(), timeout=10)).text == Reply().text
    finally:
        await created.close()


async def test_system_messages_lead_as_one_system_message(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    request = ChatRequest(
        messages=(
            Message(Role.SYSTEM, "You are a house assistant."),
            Message(Role.USER, "Hello"),
            Message(Role.ASSISTANT, "Hi! How can I help?"),
            Message(Role.SYSTEM, "Answer briefly."),
            Message(Role.USER, "Weather?"),
        ),
        model="llama3.2",
    )

    await provider.chat(request, timeout=10)

    assert chat_requests(fake)[-1].body["messages"] == [
        {"role": "system", "content": "You are a house assistant.\n\nAnswer briefly."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi! How can I help?"},
        {"role": "user", "content": "Weather?"},
    ]


async def test_images_travel_base64_in_the_message_images_field(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(200))
    request = ChatRequest(
        messages=(
            Message(
                Role.USER,
                "What is at the door?",
                images=(ImageInput(PNG, "image/png"), ImageInput(jpeg)),
            ),
        ),
        model="llava:7b",
    )

    await provider.chat(request, timeout=10)

    (message,) = chat_requests(fake)[-1].body["messages"]
    assert message["content"] == "What is at the door?"
    assert message["images"] == [
        base64.b64encode(PNG).decode("ascii"),
        base64.b64encode(jpeg).decode("ascii"),
    ]
    assert [base64.b64decode(i) for i in message["images"]] == [PNG, jpeg]


async def test_images_for_a_text_only_model_are_refused_before_any_call(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    request = ChatRequest(
        messages=(Message(Role.USER, "Look", images=(ImageInput(PNG),)),), model="llama3.2"
    )

    with pytest.raises(ProviderBadRequestError, match="does not accept images"):
        await provider.chat(request, timeout=10)
    assert chat_requests(fake) == []


async def test_sampling_options_go_into_options(provider: OllamaProvider, fake: FakeOllama) -> None:
    await provider.chat(
        ask(max_tokens=64, temperature=0.2, stop=("END", "\n\n")),
        timeout=10,
    )

    assert chat_requests(fake)[-1].body["options"] == {
        "num_predict": 64,
        "temperature": 0.2,
        "stop": ["END", "\n\n"],
    }


async def test_num_predict_cut_short_reports_length(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.state.reply = Reply(output_tokens=40)

    response = await provider.chat(ask(max_tokens=8), timeout=10)

    assert response.finish_reason is FinishReason.LENGTH
    assert response.usage.output_tokens == 8


@pytest.mark.parametrize(
    ("traits", "fields", "expected"),
    [
        (ModelTraits(), {"temperature": 0.7}, {"temperature": 0.7}),
        (ModelTraits(temperature=False), {"temperature": 0.7}, None),
        (ModelTraits(default_max_tokens=256), {}, {"num_predict": 256}),
        (ModelTraits(default_max_tokens=256), {"max_tokens": 10}, {"num_predict": 10}),
        (ModelTraits(), {"max_tokens": 0}, {"num_predict": 0}),
        (ModelTraits(), {}, None),
    ],
)
def test_options_follow_the_model_traits(
    traits: ModelTraits, fields: dict[str, Any], expected: dict[str, Any] | None
) -> None:
    assert wire_options(ask(**fields), traits) == expected


@pytest.mark.parametrize(
    ("model", "vision", "tools", "thinking"),
    [
        ("llava:7b", True, False, False),
        ("gemma3:4b", True, False, False),
        ("qwen3-vl:8b", True, True, True),
        ("qwen3:8b", False, True, True),
        ("deepseek-r1:7b", False, True, True),
        ("llama3.2:latest", False, True, False),
    ],
)
def test_model_traits(
    provider: OllamaProvider, model: str, vision: bool, tools: bool, thinking: bool
) -> None:
    traits = provider.traits(model)
    assert (traits.vision, traits.tools, traits.thinking) == (vision, tools, thinking)


async def test_a_model_that_was_never_pulled_says_how_to_pull_it(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    with pytest.raises(ProviderBadRequestError) as caught:
        await provider.chat(ask(model="mistral:7b"), timeout=10)

    assert 'model "mistral:7b" not found, try pulling it first' in caught.value.message
    assert "ollama pull mistral:7b" in caught.value.message
    assert len(chat_requests(fake)) == 1


# --- structured output ------------------------------------------------------------------
async def test_structured_output_sends_the_schema_as_format_and_parses_data(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    response = await provider.chat(ask("Count the cars", json_schema=SCHEMA), timeout=10)

    assert chat_requests(fake)[-1].body["format"] == SCHEMA
    assert response.data == {"label": "example", "count": 0}


async def test_structured_output_uses_the_text_the_model_gave(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.state.reply = Reply(text='{"label": "car", "count": 3}')

    response = await provider.chat(ask(json_schema=SCHEMA), timeout=10)

    assert response.data == {"label": "car", "count": 3}


async def test_structured_output_that_is_not_json_is_a_response_error(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.state.reply = Reply(text="There are three cars.")

    with pytest.raises(ProviderResponseError, match="valid JSON"):
        await provider.chat(ask(json_schema=SCHEMA), timeout=10)


# --- tools ------------------------------------------------------------------------------
LIGHT_TOOL = ToolSpec(
    name="turn_on",
    description="Turn on a light",
    parameters={
        "type": "object",
        "properties": {"entity_id": {"type": "string", "description": "The light"}},
        "required": ["entity_id"],
    },
)


async def test_tool_calls_come_back_as_tool_calls(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.tool_calls = [{"name": "turn_on", "arguments": {"entity_id": "light.porch"}}]

    response = await provider.chat(ask("Porch light on", tools=(LIGHT_TOOL,)), timeout=10)

    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert [(c.name, dict(c.arguments)) for c in response.tool_calls] == [
        ("turn_on", {"entity_id": "light.porch"})
    ]
    assert chat_requests(fake)[-1].body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "turn_on",
                "description": "Turn on a light",
                "parameters": {
                    "type": "object",
                    "properties": {"entity_id": {"type": "string", "description": "The light"}},
                    "required": ["entity_id"],
                },
            },
        }
    ]


async def test_tool_results_name_their_tool(provider: OllamaProvider, fake: FakeOllama) -> None:
    call = ToolCall(id="call_0", name="turn_on", arguments={"entity_id": "light.porch"})
    request = ChatRequest(
        messages=(
            Message(Role.USER, "Porch light on"),
            Message(Role.ASSISTANT, "", tool_calls=(call,)),
            Message(Role.TOOL, '{"ok": true}', tool_call_id="call_0"),
        ),
        model="llama3.2",
        tools=(LIGHT_TOOL,),
    )

    await provider.chat(request, timeout=10)

    messages = chat_requests(fake)[-1].body["messages"]
    assert messages[1] == {
        "role": "assistant",
        "tool_calls": [
            {"function": {"name": "turn_on", "arguments": {"entity_id": "light.porch"}}}
        ],
    }
    assert messages[2] == {"role": "tool", "content": '{"ok": true}', "tool_name": "turn_on"}


async def test_tools_for_a_model_without_tool_support_are_refused(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    with pytest.raises(ProviderCapabilityError, match="cannot call tools"):
        await provider.chat(ask(model="llava:7b", tools=(LIGHT_TOOL,)), timeout=10)
    assert chat_requests(fake) == []


# --- streaming --------------------------------------------------------------------------
async def test_stream_pieces_join_to_the_text_and_the_last_delta_has_usage(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.state.reply = Reply(text="The garage door is closed.", chunks=4, output_tokens=6)

    deltas = await collect(provider, ask())

    *pieces, last = deltas
    assert len(pieces) == 4
    assert "".join(d.text for d in pieces) == "The garage door is closed."
    assert all(d.usage is None and d.finish_reason is None for d in pieces)
    assert last == StreamDelta(
        text="",
        model="llama3.2",
        finish_reason=FinishReason.STOP,
        usage=Usage(input_tokens=12, output_tokens=6),
    )
    assert chat_requests(fake)[-1].body["stream"] is True


async def test_stream_of_tool_calls_finishes_with_tool_calls(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.tool_calls = [{"name": "turn_on", "arguments": {"entity_id": "light.porch"}}]

    deltas = await collect(provider, ask(tools=(LIGHT_TOOL,)))

    assert deltas[-1].finish_reason is FinishReason.TOOL_CALLS


async def test_stall_in_the_stream_ends_with_a_timeout_within_the_deadline(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.fail_next(Fault.STALL_STREAM)
    received: list[StreamDelta] = []

    async def consume() -> None:
        async for delta in provider.chat_stream(ask(), timeout=0.5):
            received.append(delta)

    with pytest.raises(ProviderTimeoutError):
        await consume()

    assert len(received) == 1
    assert received[0].text


async def test_error_line_in_the_stream_is_a_response_error(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.fail_next(Fault.SERVER_ERROR, mid_stream=True)

    with pytest.raises(ProviderResponseError, match="unexpected EOF"):
        await collect(provider, ask())
    assert len(chat_requests(fake)) == 1


# --- models, health, credentials --------------------------------------------------------
async def test_list_models_reports_pulled_models_and_vision(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    models = await provider.list_models(timeout=10)

    assert [m.id for m in models] == ["llama3.2:latest", "llava:7b", "gemma3:4b"]
    assert {m.id: m.vision for m in models} == {
        "llama3.2:latest": False,
        "llava:7b": True,
        "gemma3:4b": True,
    }
    assert models[1].display_name == "llava:7b (7B)"
    assert fake.requests[-1].path == "/api/tags"


async def test_health_ok(provider: OllamaProvider) -> None:
    status = await provider.health(timeout=10)

    assert status.ok is True
    assert status.error_key is None


@pytest.mark.parametrize(
    ("fault", "key"),
    [
        (Fault.SERVER_ERROR, "provider_bad_response"),
        (Fault.DISCONNECT, "provider_connection"),
        (Fault.AUTH, "provider_auth"),
    ],
)
async def test_health_failing(
    provider: OllamaProvider, fake: FakeOllama, fault: Fault, key: str
) -> None:
    fake.fail_always(fault)

    status = await provider.health(timeout=10)

    assert status.ok is False
    assert status.error_key == key


async def test_health_of_a_server_that_is_down(fake: FakeOllama) -> None:
    down = OllamaProvider(settings_for(f"http://127.0.0.1:{unused_port()}"))
    try:
        status = await down.health(timeout=5)
    finally:
        await down.close()

    assert status.ok is False
    assert status.error_key == "provider_connection"


async def test_validate_credentials_accepts_the_right_key(
    keyed_provider: OllamaProvider, keyed_fake: FakeOllama
) -> None:
    await keyed_provider.validate_credentials(timeout=10)

    assert keyed_fake.requests[-1].headers["Authorization"] == f"Bearer {KEY}"


async def test_validate_credentials_with_a_wrong_key(keyed_fake: FakeOllama) -> None:
    wrong = OllamaProvider(settings_for(keyed_fake.url, api_key="not-the-key"))
    try:
        with pytest.raises(ProviderAuthError) as caught:
            await wrong.validate_credentials(timeout=10)
    finally:
        await wrong.close()

    assert "unauthorized" in caught.value.message
    assert "not-the-key" not in caught.value.message


async def test_no_key_sends_no_authorization_header(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    await provider.chat(ask(), timeout=10)

    assert "Authorization" not in chat_requests(fake)[-1].headers


async def test_repr_never_shows_the_key(keyed_provider: OllamaProvider) -> None:
    assert KEY not in repr(keyed_provider)
    assert "local" in repr(keyed_provider)


# --- errors -----------------------------------------------------------------------------
ERROR_TABLE = [
    pytest.param(Fault.DISCONNECT, {}, ProviderConnectionError, id="disconnect"),
    pytest.param(Fault.TIMEOUT, {}, ProviderTimeoutError, id="timeout"),
    pytest.param(Fault.RATE_LIMIT, {"retry_after": 7}, ProviderRateLimitError, id="rate_limit"),
    pytest.param(Fault.SERVER_ERROR, {}, ProviderResponseError, id="server_error"),
    pytest.param(Fault.OVERLOADED, {}, ProviderRateLimitError, id="overloaded"),
    pytest.param(Fault.AUTH, {}, ProviderAuthError, id="auth"),
    pytest.param(
        Fault.BAD_REQUEST, {"message": "invalid options"}, ProviderBadRequestError, id="bad_request"
    ),
    pytest.param(Fault.MALFORMED, {}, ProviderResponseError, id="malformed"),
]


@pytest.mark.parametrize(("fault", "params", "expected"), ERROR_TABLE)
async def test_chat_faults_map_to_hub_errors_without_retries(
    keyed_provider: OllamaProvider,
    keyed_fake: FakeOllama,
    fault: Fault,
    params: dict[str, Any],
    expected: type[ProviderError],
) -> None:
    keyed_fake.fail_next(fault, **params)

    with pytest.raises(expected) as caught:
        await keyed_provider.chat(ask(), timeout=0.5)

    assert type(caught.value) is expected
    assert KEY not in str(caught.value)
    assert len(chat_requests(keyed_fake)) == 1


@pytest.mark.parametrize(("fault", "params", "expected"), ERROR_TABLE)
async def test_stream_faults_map_to_hub_errors_without_retries(
    keyed_provider: OllamaProvider,
    keyed_fake: FakeOllama,
    fault: Fault,
    params: dict[str, Any],
    expected: type[ProviderError],
) -> None:
    keyed_fake.fail_next(fault, **params)

    with pytest.raises(expected):
        await collect(keyed_provider, ask(), timeout=0.5)

    assert len(chat_requests(keyed_fake)) == 1


async def test_the_sdk_client_timeout_is_a_timeout_error(fake: FakeOllama) -> None:
    # The client's own timeout (the provider's ``timeout``) fires before the call's deadline.
    impatient = OllamaProvider(settings_for(fake.url, timeout=0.2))
    fake.fail_next(Fault.TIMEOUT)
    try:
        with pytest.raises(ProviderTimeoutError) as caught:
            await impatient.chat(ask(), timeout=30)
    finally:
        await impatient.close()

    assert type(caught.value.__cause__).__module__.startswith("httpx")


async def test_rate_limit_carries_retry_after(provider: OllamaProvider, fake: FakeOllama) -> None:
    fake.fail_next(Fault.RATE_LIMIT, retry_after=7)

    with pytest.raises(ProviderRateLimitError) as caught:
        await provider.chat(ask(), timeout=10)

    assert caught.value.retry_after == 7.0


async def test_busy_server_is_retryable_with_ollamas_message(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.fail_next(Fault.OVERLOADED)

    with pytest.raises(ProviderRateLimitError) as caught:
        await provider.chat(ask(), timeout=10)

    assert caught.value.retryable is True
    assert "server busy" in caught.value.message


async def test_bad_request_keeps_ollamas_message(
    provider: OllamaProvider, fake: FakeOllama
) -> None:
    fake.fail_next(Fault.BAD_REQUEST, message="invalid options: num_predikt")

    with pytest.raises(ProviderBadRequestError, match="invalid options: num_predikt"):
        await provider.chat(ask(), timeout=10)


async def test_refused_connection_is_a_connection_error() -> None:
    refused = OllamaProvider(settings_for(f"http://127.0.0.1:{unused_port()}"))
    try:
        with pytest.raises(ProviderConnectionError):
            await refused.chat(ask(), timeout=5)
        with pytest.raises(ProviderConnectionError):
            await collect(refused, ask(), timeout=5)
    finally:
        await refused.close()


def unused_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
