"""The Gemini provider: the real google-genai SDK against the loopback Gemini fake."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest

from addon.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
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
from addon.providers.gemini import GeminiProvider
from addon.settings import ProviderSettings, Secret
from tests.fakes.base import Fault, RecordedRequest, free_port
from tests.fakes.gemini import FakeGemini

API_KEY = "AIzaSyFAKE-gemini-test-key-0123456789"
MODEL = "gemini-2.5-flash"
MODELS = [MODEL, "gemini-2.5-pro", "gemma-3-27b-it", "text-embedding-004"]
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "person": {"type": "boolean"},
        "count": {"type": "integer"},
        "label": {"type": "string"},
    },
    "required": ["person", "count"],
}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def settings_for(url: str, *, key: str = API_KEY, timeout: float = 10) -> ProviderSettings:
    return ProviderSettings(
        name="gemini",
        type="gemini",
        model=MODEL,
        api_key=Secret(key),
        base_url=url,
        timeout=timeout,
    )


def ask(text: str = "Hello?", **kwargs: Any) -> ChatRequest:
    return ChatRequest(messages=(Message(Role.USER, text),), **kwargs)


def proto_bytes(data: str) -> bytes:
    """Decode a proto3-JSON ``bytes`` field (standard or URL-safe base64)."""
    return base64.b64decode(data.replace("-", "+").replace("_", "/"), validate=True)


def camel(name: str) -> str:
    """Proto3 JSON accepts field names in snake or lowerCamel case; compare in camel."""
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def generation_requests(fake: FakeGemini) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.path.startswith("/v1beta/models/") and ":" in r.path]


@pytest.fixture
async def fake() -> AsyncIterator[FakeGemini]:
    server = FakeGemini(api_key=API_KEY, models=list(MODELS))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def provider(fake: FakeGemini) -> AsyncIterator[GeminiProvider]:
    gemini = GeminiProvider(settings_for(fake.url))
    yield gemini
    await gemini.close()


@pytest.fixture
def dead_url() -> str:
    """A loopback port with nothing listening."""
    return f"http://127.0.0.1:{free_port()}"


async def collect(provider: GeminiProvider, request: ChatRequest) -> list[StreamDelta]:
    return [delta async for delta in provider.chat_stream(request, timeout=10)]


# --- chat ---------------------------------------------------------------------------------
async def test_chat_returns_text_usage_and_vendor_model(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.state.reply.text = "The door is closed."
    fake.state.reply.input_tokens = 21
    fake.state.reply.output_tokens = 7
    fake.aliases[MODEL] = "gemini-2.5-flash-preview-09-2025"

    response = await provider.chat(ask(), timeout=10)

    assert response.text == "The door is closed."
    assert response.usage == Usage(input_tokens=21, output_tokens=7)
    assert response.model == "gemini-2.5-flash-preview-09-2025"
    assert response.finish_reason is FinishReason.STOP
    assert response.data is None
    sent = fake.requests[-1]
    assert sent.path == f"/v1beta/models/{MODEL}:generateContent"
    assert sent.headers["x-goog-api-key"] == API_KEY
    assert sent.body["contents"] == [{"role": "user", "parts": [{"text": "Hello?"}]}]


async def test_registry_builds_the_gemini_provider(fake: FakeGemini) -> None:
    built = create_provider(settings_for(fake.url))
    try:
        assert isinstance(built, GeminiProvider)
        assert (await built.chat(ask(), timeout=10)).text == "Hello from the fake."
    finally:
        await built.close()


async def test_system_prompt_goes_to_system_instruction(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    request = ChatRequest(
        messages=(
            Message(Role.SYSTEM, "You watch the house."),
            Message(Role.USER, "Anyone there?"),
            Message(Role.ASSISTANT, "Nobody."),
            Message(Role.SYSTEM, "Answer in one word."),
            Message(Role.USER, "Sure?"),
        )
    )

    await provider.chat(request, timeout=10)

    body = fake.requests[-1].body
    assert body["systemInstruction"]["parts"] == [
        {"text": "You watch the house.\n\nAnswer in one word."}
    ]
    assert [(c["role"], c["parts"]) for c in body["contents"]] == [
        ("user", [{"text": "Anyone there?"}]),
        ("model", [{"text": "Nobody."}]),
        ("user", [{"text": "Sure?"}]),
    ]


async def test_images_are_sent_as_base64_inline_data(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    request = ChatRequest(
        messages=(
            Message(
                Role.USER,
                "What is at the door?",
                images=(ImageInput(PNG, "image/png"), ImageInput(b"\xff\xd8\xff", "image/jpeg")),
            ),
        )
    )

    await provider.chat(request, timeout=10)

    parts = fake.requests[-1].body["contents"][0]["parts"]
    assert parts[0] == {"text": "What is at the door?"}
    blobs = [part["inlineData"] for part in parts[1:]]
    assert [proto_bytes(blob["data"]) for blob in blobs] == [PNG, b"\xff\xd8\xff"]
    assert [blob.get("mimeType") or blob.get("mime_type") for blob in blobs] == [
        "image/png",
        "image/jpeg",
    ]


async def test_generation_parameters_are_mapped(fake: FakeGemini, provider: GeminiProvider) -> None:
    await provider.chat(ask(max_tokens=64, temperature=0.2, stop=("END", "STOP")), timeout=10)

    config = fake.requests[-1].body["generationConfig"]
    assert config == {
        "maxOutputTokens": 64,
        "temperature": 0.2,
        "stopSequences": ["END", "STOP"],
    }


async def test_per_call_timeout_reaches_the_request(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    await provider.chat(ask(), timeout=2.5)

    assert fake.requests[-1].headers["X-Server-Timeout"] == "3"


# --- streaming ----------------------------------------------------------------------------
async def test_stream_pieces_concatenate_and_final_delta_has_usage(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.state.reply.text = "Two cats are on the porch."
    fake.state.reply.chunks = 4
    fake.state.reply.output_tokens = 8

    deltas = await collect(provider, ask())

    texts = [d.text for d in deltas if d.text]
    assert len(texts) == 4
    assert "".join(texts) == "Two cats are on the porch."
    final = deltas[-1]
    assert final.text == ""
    # The fake repeats a running usage total on every event: it must not be summed.
    assert final.usage == Usage(input_tokens=12, output_tokens=8)
    assert final.finish_reason is FinishReason.STOP
    assert final.model == MODEL
    sent = fake.requests[-1]
    assert sent.path == f"/v1beta/models/{MODEL}:streamGenerateContent"
    assert sent.query == {"alt": "sse"}


async def test_stall_stream_ends_with_timeout(fake: FakeGemini, provider: GeminiProvider) -> None:
    fake.fail_next(Fault.STALL_STREAM)
    received: list[str] = []

    async def drain() -> None:
        async for delta in provider.chat_stream(ask(), timeout=0.5):
            received.append(delta.text)

    with pytest.raises(ProviderTimeoutError):
        await drain()

    assert received == ["Hello f"]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [(Fault.SERVER_ERROR, ProviderResponseError), (Fault.OVERLOADED, ProviderRateLimitError)],
)
async def test_error_event_in_a_started_stream(
    fake: FakeGemini, provider: GeminiProvider, fault: Fault, expected: type[ProviderError]
) -> None:
    fake.fail_next(fault, mid_stream=True)
    received: list[str] = []

    async def drain() -> None:
        async for delta in provider.chat_stream(ask(), timeout=10):
            received.append(delta.text)

    with pytest.raises(expected):
        await drain()

    assert received == ["Hello f"]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault.RATE_LIMIT, ProviderRateLimitError),
        (Fault.AUTH, ProviderAuthError),
        (Fault.SERVER_ERROR, ProviderResponseError),
        (Fault.MALFORMED, ProviderResponseError),
        (Fault.DISCONNECT, ProviderConnectionError),
    ],
)
async def test_stream_errors_are_mapped(
    fake: FakeGemini, provider: GeminiProvider, fault: Fault, expected: type[ProviderError]
) -> None:
    fake.fail_next(fault)

    with pytest.raises(expected):
        await collect(provider, ask())

    assert len(generation_requests(fake)) == 1


# --- structured output --------------------------------------------------------------------
async def test_structured_output_is_parsed_into_data(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    response = await provider.chat(ask("Who is there?", json_schema=SCHEMA), timeout=10)

    assert response.data == {"person": False, "count": 0}
    config = fake.requests[-1].body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == SCHEMA
    assert "responseSchema" not in config


async def test_structured_output_uses_the_models_text(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.state.reply.text = '{"person": true, "count": 2, "label": "courier"}'

    response = await provider.chat(ask(json_schema=SCHEMA), timeout=10)

    assert response.data == {"person": True, "count": 2, "label": "courier"}


async def test_invalid_json_from_the_model_is_a_response_error(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.state.reply.text = "Sure! Here is the JSON: {person: yes"

    with pytest.raises(ProviderResponseError):
        await provider.chat(ask(json_schema=SCHEMA), timeout=10)


# --- quirks -------------------------------------------------------------------------------
async def test_thinking_tokens_count_as_output(fake: FakeGemini, provider: GeminiProvider) -> None:
    fake.state.reply.output_tokens = 5
    fake.state.reply.thinking_tokens = 120

    response = await provider.chat(ask(), timeout=10)
    deltas = await collect(provider, ask())

    assert response.usage == Usage(input_tokens=12, output_tokens=125)
    assert deltas[-1].usage == Usage(input_tokens=12, output_tokens=125)


async def test_max_tokens_becomes_max_output_tokens_and_length_finish(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.state.reply.output_tokens = 50

    response = await provider.chat(ask(max_tokens=10), timeout=10)

    assert fake.requests[-1].body["generationConfig"]["maxOutputTokens"] == 10
    assert "max_tokens" not in fake.requests[-1].body["generationConfig"]
    assert response.finish_reason is FinishReason.LENGTH


async def test_model_without_structured_output_is_refused_before_sending(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    with pytest.raises(ProviderBadRequestError, match="structured"):
        await provider.chat(ask(model="gemma-3-27b-it", json_schema=SCHEMA), timeout=10)

    assert generation_requests(fake) == []


async def test_gemma_gets_the_system_prompt_in_the_first_user_turn(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    request = ChatRequest(
        messages=(Message(Role.SYSTEM, "Be terse."), Message(Role.USER, "Weather?")),
        model="gemma-3-27b-it",
    )

    response = await provider.chat(request, timeout=10)

    body = fake.requests[-1].body
    assert "systemInstruction" not in body
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Be terse."}, {"text": "Weather?"}]}
    ]
    assert response.text == "Hello from the fake."


async def test_blocked_prompt_is_a_content_filter_finish(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.block_reason = "SAFETY"

    response = await provider.chat(ask(), timeout=10)
    deltas = await collect(provider, ask())

    assert response.text == ""
    assert response.finish_reason is FinishReason.CONTENT_FILTER
    assert response.usage == Usage(input_tokens=12, output_tokens=0)
    assert [d.text for d in deltas if d.text] == []
    assert deltas[-1].finish_reason is FinishReason.CONTENT_FILTER


async def test_unknown_model_is_a_bad_request_with_the_vendor_message(
    provider: GeminiProvider,
) -> None:
    with pytest.raises(ProviderBadRequestError, match="not found for API version v1beta"):
        await provider.chat(ask(model="gemini-0-nope"), timeout=10)


# --- tools --------------------------------------------------------------------------------
async def test_tools_are_declared_and_function_calls_become_tool_calls(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    parameters = {"type": "object", "properties": {"entity_id": {"type": "string"}}}
    fake.tool_call = ("turn_on", {"entity_id": "light.porch"})
    tool = ToolSpec(name="turn_on", description="Turn a light on", parameters=parameters)

    response = await provider.chat(ask("Light the porch", tools=(tool,)), timeout=10)

    declarations = fake.requests[-1].body["tools"][0]["functionDeclarations"]
    assert [{camel(k): v for k, v in d.items()} for d in declarations] == [
        {"name": "turn_on", "description": "Turn a light on", "parametersJsonSchema": parameters}
    ]
    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert [(c.name, dict(c.arguments)) for c in response.tool_calls] == [
        ("turn_on", {"entity_id": "light.porch"})
    ]


async def test_tool_results_are_sent_back_as_function_responses(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    call = ToolCall(id="call_0", name="get_state", arguments={"entity_id": "lock.front"})
    request = ChatRequest(
        messages=(
            Message(Role.USER, "Is the door locked?"),
            Message(Role.ASSISTANT, "", tool_calls=(call,)),
            Message(Role.TOOL, '{"state": "locked"}', tool_call_id="call_0"),
        ),
        tools=(ToolSpec(name="get_state"),),
    )

    await provider.chat(request, timeout=10)

    contents = fake.requests[-1].body["contents"]
    assert contents[1]["role"] == "model"
    assert contents[1]["parts"][0]["functionCall"]["name"] == "get_state"
    assert contents[2]["role"] == "user"
    response_part = contents[2]["parts"][0]["functionResponse"]
    assert response_part["name"] == "get_state"
    assert response_part["response"] == {"state": "locked"}


# --- models, health, credentials ----------------------------------------------------------
async def test_list_models_follows_pages_and_keeps_generators(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.default_page_size = 2

    models = await provider.list_models(timeout=10)

    assert [m.id for m in models] == [MODEL, "gemini-2.5-pro", "gemma-3-27b-it"]
    assert models[0].display_name == "Gemini 2.5 Flash"
    assert all(m.vision for m in models)
    pages = [r for r in fake.requests if r.path == "/v1beta/models"]
    assert len(pages) == 2
    assert "pageToken" in pages[1].query


async def test_health_ok(provider: GeminiProvider) -> None:
    status = await provider.health(timeout=10)

    assert status.ok
    assert status.error_key is None


async def test_health_failing_with_a_wrong_key(fake: FakeGemini) -> None:
    gemini = GeminiProvider(settings_for(fake.url, key="AIzaSyWRONG-key"))
    try:
        status = await gemini.health(timeout=10)
    finally:
        await gemini.close()

    assert not status.ok
    assert status.error_key == "provider_auth"
    assert status.message is not None
    assert "API key not valid" in status.message


async def test_health_failing_when_unreachable(dead_url: str) -> None:
    gemini = GeminiProvider(settings_for(dead_url))
    try:
        status = await gemini.health(timeout=10)
    finally:
        await gemini.close()

    assert not status.ok
    assert status.error_key == "provider_connection"


async def test_validate_credentials_accepts_the_right_key(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    await provider.validate_credentials(timeout=10)

    assert fake.requests[-1].path == "/v1beta/models"
    assert fake.requests[-1].query == {"pageSize": "1"}


@pytest.mark.parametrize("key", ["AIzaSyWRONG-key", " "])
async def test_validate_credentials_with_a_wrong_key(fake: FakeGemini, key: str) -> None:
    gemini = GeminiProvider(settings_for(fake.url, key=key))
    try:
        with pytest.raises(ProviderAuthError) as caught:
            await gemini.validate_credentials(timeout=10)
    finally:
        await gemini.close()

    assert "AIzaSyWRONG" not in str(caught.value)


async def test_missing_key_fails_every_call_before_sending(
    fake: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", API_KEY)  # the SDK must not fall back to it
    gemini = GeminiProvider(settings_for(fake.url, key=""))
    try:
        for call in (
            gemini.chat(ChatRequest(messages=(Message(Role.USER, "Hi"),)), timeout=5),
            gemini.list_models(timeout=5),
            gemini.validate_credentials(timeout=5),
        ):
            with pytest.raises(ProviderAuthError, match="no API key"):
                await call
        status = await gemini.health(timeout=5)
    finally:
        await gemini.close()
    assert (status.ok, status.error_key) == (False, "provider_auth")
    assert fake.requests == []


# --- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fault", "params", "expected"),
    [
        (Fault.DISCONNECT, {}, ProviderConnectionError),
        (Fault.TIMEOUT, {}, ProviderTimeoutError),
        (Fault.RATE_LIMIT, {"retry_after": 7}, ProviderRateLimitError),
        (Fault.SERVER_ERROR, {}, ProviderResponseError),
        (Fault.OVERLOADED, {}, ProviderRateLimitError),
        (Fault.AUTH, {}, ProviderAuthError),
        (Fault.BAD_REQUEST, {"message": "Invalid value at 'contents'"}, ProviderBadRequestError),
        (Fault.MALFORMED, {}, ProviderResponseError),
    ],
)
async def test_faults_map_to_hub_errors_without_sdk_retries(
    fake: FakeGemini,
    provider: GeminiProvider,
    fault: Fault,
    params: dict[str, Any],
    expected: type[ProviderError],
) -> None:
    fake.fail_next(fault, **params)

    with pytest.raises(expected) as caught:
        await provider.chat(ask(), timeout=0.5)

    assert type(caught.value) is expected
    assert len(generation_requests(fake)) == 1
    assert API_KEY not in str(caught.value)


async def test_rate_limit_retry_after_from_the_header(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.fail_next(Fault.RATE_LIMIT, retry_after=7, retry_delay=30)

    with pytest.raises(ProviderRateLimitError) as caught:
        await provider.chat(ask(), timeout=10)

    assert caught.value.retry_after == 7


async def test_rate_limit_retry_after_from_retry_info(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.fail_next(Fault.RATE_LIMIT, header=False, retry_delay=12.5)

    with pytest.raises(ProviderRateLimitError) as caught:
        await provider.chat(ask(), timeout=10)

    assert caught.value.retry_after == 12.5


async def test_bad_request_carries_the_vendor_message(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.fail_next(Fault.BAD_REQUEST, message="Request contains an invalid argument.")

    with pytest.raises(ProviderBadRequestError, match="Request contains an invalid argument"):
        await provider.chat(ask(), timeout=10)


async def test_refused_connection_is_a_connection_error(dead_url: str) -> None:
    gemini = GeminiProvider(settings_for(dead_url))
    try:
        with pytest.raises(ProviderConnectionError):
            await gemini.chat(ask(), timeout=10)
    finally:
        await gemini.close()


async def test_wrong_key_on_chat_is_an_auth_error(fake: FakeGemini) -> None:
    gemini = GeminiProvider(settings_for(fake.url, key="AIzaSyWRONG-key"))
    try:
        with pytest.raises(ProviderAuthError, match="API key not valid"):
            await gemini.chat(ask(), timeout=10)
    finally:
        await gemini.close()


async def test_repr_never_shows_the_key(provider: GeminiProvider) -> None:
    assert API_KEY not in repr(provider)
    assert API_KEY not in str(provider)
    assert API_KEY not in repr(provider.settings)
