"""The Gemini provider: what is Gemini's own, through the real google-genai SDK and the fake.

What every provider owes (answers, streams, vision, structured output, models, health, keys,
faults, Retry-After) is in the contract suite, ``tests/addon/providers/contract/``.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest

from addon.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderRateLimitError,
)
from addon.models import (
    ChatRequest,
    FinishReason,
    Message,
    Role,
    StreamDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
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
# Pieces, the running usage total and the final delta: the contract suite.
async def test_streams_use_server_sent_events(fake: FakeGemini, provider: GeminiProvider) -> None:
    await collect(provider, ask())

    sent = fake.requests[-1]
    assert sent.path == f"/v1beta/models/{MODEL}:streamGenerateContent"
    assert sent.query == {"alt": "sse"}


# --- structured output --------------------------------------------------------------------
# The schema on the wire and the parsed data: the contract suite.
async def test_structured_output_asks_for_json_with_a_json_schema(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    await provider.chat(ask("Who is there?", json_schema=SCHEMA), timeout=10)

    config = fake.requests[-1].body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert "responseSchema" not in config


# --- quirks -------------------------------------------------------------------------------
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
        {
            "name": "turn_on",
            "description": "Turn a light on",
            "parameters": {"type": "OBJECT", "properties": {"entity_id": {"type": "STRING"}}},
        }
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


async def test_the_key_check_lists_a_single_model(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    await provider.validate_credentials(timeout=10)

    assert fake.requests[-1].path == "/v1beta/models"
    assert fake.requests[-1].query == {"pageSize": "1"}


async def test_a_blank_key_is_an_auth_error(fake: FakeGemini) -> None:
    gemini = GeminiProvider(settings_for(fake.url, key=" "))
    try:
        with pytest.raises(ProviderAuthError, match="rejected the credentials"):
            await gemini.validate_credentials(timeout=10)
    finally:
        await gemini.close()


# --- errors -------------------------------------------------------------------------------
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
