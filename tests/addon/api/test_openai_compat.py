"""The OpenAI-compatible front door, driven by the official ``openai`` SDK against the real hub."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from aiohttp.test_utils import TestClient
from openai.types.chat import ChatCompletionContentPartParam, ChatCompletionMessageParam
from PIL import Image

from addon.api.openai_request import resolve_target
from tests.conftest import AUTH, TOKEN, Fakes, HubClientFactory, provider_options
from tests.fakes.base import Fault

HI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hi"}]


def jpeg_data_url(size: tuple[int, int] = (64, 48)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 200, 30)).save(buffer, "JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def sdk(client: TestClient[Any, Any], api_key: str = TOKEN) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=str(client.make_url("/v1")), api_key=api_key, max_retries=0)


@pytest.fixture
async def hub(hub_client: HubClientFactory) -> AsyncIterator[openai.AsyncOpenAI]:
    """The OpenAI SDK pointed at the hub (default options over the fakes)."""
    client = await hub_client()
    async with sdk(client) as api:
        yield api


async def test_plain_chat_answers_in_openai_shape(hub: openai.AsyncOpenAI, fakes: Fakes) -> None:
    raw = await hub.chat.completions.with_raw_response.create(model="auto", messages=HI)
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.id == f"chatcmpl-{raw.headers['X-Request-ID']}"
    assert completion.model == "openai/gpt-4.1-mini"
    assert raw.headers["X-Hub-Attempts"] == "openai=ok"
    assert completion.created > 0
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == fakes.openai.state.reply.text
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (12, 5)
    assert completion.usage.total_tokens == 17
    assert len(fakes.openai.requests) == 1
    assert not fakes.anthropic.requests


async def test_parameters_reach_the_wire(hub: openai.AsyncOpenAI, fakes: Fakes) -> None:
    await hub.chat.completions.create(
        model="auto",
        messages=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "One"}]},
            {"role": "assistant", "content": "Two"},
            {"role": "user", "content": "Three?"},
        ],
        max_completion_tokens=50,
        temperature=0.2,
        stop="END",
        user="kitchen-tablet",
        n=1,
        logprobs=False,
        top_p=1,
    )
    sent = fakes.openai.requests[-1].body
    assert [(m["role"], m["content"]) for m in sent["messages"]] == [
        ("system", "Be brief."),
        ("user", "One"),
        ("assistant", "Two"),
        ("user", "Three?"),
    ]
    assert sent["max_completion_tokens"] == 50
    assert sent["temperature"] == 0.2
    assert sent["stop"] == ["END"]
    assert "user" not in sent


async def test_legacy_max_tokens_is_honoured(hub: openai.AsyncOpenAI, fakes: Fakes) -> None:
    await hub.chat.completions.create(model="auto", messages=HI, max_tokens=33)
    assert fakes.openai.requests[-1].body["max_completion_tokens"] == 33


@pytest.mark.parametrize(
    ("model", "vendor", "answered", "upstream_model"),
    [
        ("anthropic", "anthropic", "anthropic/claude-haiku-4-5", "claude-haiku-4-5"),
        ("anthropic/claude-sonnet-4-6", "anthropic", "anthropic/claude-sonnet-4-6", None),
        ("gemini/auto", "gemini", "gemini/gemini-2.5-flash", None),
        ("ollama/gemma3:4b", "ollama", "ollama/gemma3:4b", "gemma3:4b"),
        ("gpt-4o", "openai", "openai/gpt-4o", "gpt-4o"),
        ("", "openai", "openai/gpt-4.1-mini", "gpt-4.1-mini"),
    ],
)
async def test_model_field_pins_provider_and_model(
    hub: openai.AsyncOpenAI,
    fakes: Fakes,
    model: str,
    vendor: str,
    answered: str,
    upstream_model: str | None,
) -> None:
    completion = await hub.chat.completions.create(model=model, messages=HI)
    assert completion.model.startswith(answered)  # vendors may answer with a dated snapshot
    # A bare model nobody is configured with is looked up in the providers' model lists.
    calls = {name: [r for r in f.requests if r.method == "POST"] for name, f in fakes.all.items()}
    assert len(calls[vendor]) == 1
    others = [name for name, made in calls.items() if made and name != vendor]
    assert others == []
    if upstream_model is not None:
        assert calls[vendor][-1].body["model"] == upstream_model


def test_unknown_provider_prefix_is_a_model_name() -> None:
    provider, model = resolve_target("meta-llama/llama-3-8b", ["openai", "anthropic"])
    assert (provider, model) == (None, "meta-llama/llama-3-8b")


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (None, (None, "")),
        ("auto", (None, "")),
        ("  ", (None, "")),
        ("openai", ("openai", "")),
        ("openai/auto", ("openai", "")),
        ("openai/", ("openai", "")),
        ("openai/gpt-4o", ("openai", "gpt-4o")),
        ("router/meta-llama/llama-3", ("router", "meta-llama/llama-3")),
        ("gpt-4o", (None, "gpt-4o")),
        ("meta-llama/llama-3", (None, "meta-llama/llama-3")),
    ],
)
def test_resolve_target(model: str | None, expected: tuple[str | None, str]) -> None:
    assert resolve_target(model, {"openai", "router"}) == expected


async def test_image_part_reaches_the_upstream(hub: openai.AsyncOpenAI, fakes: Fakes) -> None:
    completion = await hub.chat.completions.create(
        model="auto",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": jpeg_data_url(), "detail": "low"}},
                ],
            }
        ],
    )
    assert completion.model.startswith("openai/")
    content = fakes.openai.requests[-1].body["messages"][-1]["content"]
    assert [part["type"] for part in content] == ["text", "image_url"]
    assert content[0]["text"] == "What is this?"
    url = content[1]["image_url"]["url"]
    assert url.startswith("data:image/")
    assert Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).size[0] > 0


async def test_image_reaches_a_pinned_anthropic(hub: openai.AsyncOpenAI, fakes: Fakes) -> None:
    await hub.chat.completions.create(
        model="anthropic",
        messages=[
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": jpeg_data_url()}}],
            }
        ],
    )
    blocks = fakes.anthropic.requests[-1].body["messages"][-1]["content"]
    image = next(block for block in blocks if block["type"] == "image")
    assert image["source"]["type"] == "base64"
    assert base64.b64decode(image["source"]["data"])


async def collect(stream: Any, into: list[Any] | None = None) -> list[Any]:
    chunks = [] if into is None else into
    async for chunk in stream:
        chunks.append(chunk)
    return chunks


async def test_stream_through_the_sdk_with_usage(hub: openai.AsyncOpenAI, fakes: Fakes) -> None:
    stream = await hub.chat.completions.create(
        model="auto", messages=HI, stream=True, stream_options={"include_usage": True}
    )
    chunks = await collect(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == fakes.openai.state.reply.text
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    finish = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finish[-1] == "stop"
    assert all(reason is None for reason in finish[:-1])
    last = chunks[-1]
    assert last.choices == []
    assert last.model == "openai/gpt-4.1-mini"
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (12, 5)
    assert all(c.usage is None for c in chunks[:-1])
    assert fakes.openai.requests[-1].body["stream"] is True


async def test_stream_without_usage_ends_with_done(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    response = await client.post(
        "/v1/chat/completions",
        json={"model": "auto", "messages": HI, "stream": True},
        headers=AUTH,
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events = [b for b in (await response.text()).split("\n\n") if b]
    assert all(event.startswith("data: ") for event in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(event.removeprefix("data: ")) for event in events[:-1]]
    assert all("usage" not in chunk for chunk in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["model"] == "openai/gpt-4.1-mini"


async def test_stream_fails_over_before_the_first_token(
    hub: openai.AsyncOpenAI, fakes: Fakes
) -> None:
    fakes.openai.fail_next(Fault.SERVER_ERROR)
    stream = await hub.chat.completions.create(
        model="auto", messages=HI, stream=True, stream_options={"include_usage": True}
    )
    chunks = await collect(stream)
    provider = chunks[-1].model.split("/")[0]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == fakes.all[provider].state.reply.text
    assert fakes.openai.requests[0].body["stream"] is True  # the faulty first try
    assert sum(len(fake.requests) for fake in fakes.all.values()) == 2


async def test_stream_failing_before_any_text_is_an_http_error(
    hub: openai.AsyncOpenAI, fakes: Fakes
) -> None:
    for fake in fakes.all.values():
        fake.fail_always(Fault.SERVER_ERROR)
    with pytest.raises(openai.InternalServerError) as caught:
        await hub.chat.completions.create(model="auto", messages=HI, stream=True)
    assert caught.value.status_code == 502
    assert caught.value.code == "all_providers_failed"


async def test_stream_that_stalls_raises_in_the_sdk(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    options = [{**p, "timeout": 1} for p in provider_options(fakes)]
    client = await hub_client(providers=options)
    fakes.openai.fail_next(Fault.STALL_STREAM)
    async with sdk(client) as api:
        stream = await api.chat.completions.create(model="auto", messages=HI, stream=True)
        seen: list[Any] = []
        with pytest.raises(openai.APIError) as caught:
            await collect(stream, seen)
    assert any(c.choices and c.choices[0].delta.content for c in seen)  # text came first
    assert caught.value.code == "provider_timeout"


async def test_json_schema_response_format(hub: openai.AsyncOpenAI, fakes: Fakes) -> None:
    fakes.openai.state.reply.text = '```json\n{"person": true, "count": 2}\n```'
    schema = {
        "type": "object",
        "properties": {"person": {"type": "boolean"}, "count": {"type": "integer"}},
        "required": ["person", "count"],
        "additionalProperties": False,
    }
    completion = await hub.chat.completions.create(
        model="auto",
        messages=[{"role": "user", "content": "Anyone at the door?"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "door", "schema": schema, "strict": True},
        },
    )
    content = completion.choices[0].message.content
    assert content is not None
    assert json.loads(content) == {"person": True, "count": 2}
    sent = fakes.openai.requests[-1].body["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["schema"]["properties"] == schema["properties"]


async def test_json_object_response_format(hub: openai.AsyncOpenAI, fakes: Fakes) -> None:
    fakes.anthropic.state.reply.text = '{"ok": true}'
    completion = await hub.chat.completions.create(
        model="anthropic",
        messages=[{"role": "user", "content": "Answer in JSON"}],
        response_format={"type": "json_object"},
    )
    content = completion.choices[0].message.content
    assert content is not None
    assert json.loads(content) == {"ok": True}
    assert len(fakes.anthropic.requests) == 1


async def test_failover_is_visible_in_the_model(hub: openai.AsyncOpenAI, fakes: Fakes) -> None:
    fakes.openai.fail_next(Fault.SERVER_ERROR)
    raw = await hub.chat.completions.with_raw_response.create(model="auto", messages=HI)
    completion = raw.parse()
    provider = completion.model.split("/")[0]
    assert completion.choices[0].message.content == fakes.all[provider].state.reply.text
    attempts = raw.headers["X-Hub-Attempts"].split(", ")
    assert attempts[0] == "openai=provider_bad_response"
    assert attempts[-1] == f"{provider}=ok"
    assert sum(len(fake.requests) for fake in fakes.all.values()) == len(attempts) == 2


async def test_wrong_token_is_an_authentication_error(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    async with sdk(client, api_key="wrong-token") as api:
        with pytest.raises(openai.AuthenticationError) as caught:
            await api.chat.completions.create(model="auto", messages=HI)
    assert caught.value.status_code == 401
    assert caught.value.code == "unauthorized"
    assert caught.value.type == "authentication_error"
    assert not fakes.openai.requests


async def test_missing_token_is_401_in_openai_shape(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    response = await client.post("/v1/chat/completions", json={"model": "auto", "messages": HI})
    body = await response.json()
    assert response.status == 401
    assert body == {
        "error": {
            "message": body["error"]["message"],
            "type": "authentication_error",
            "param": None,
            "code": "unauthorized",
        }
    }
    assert "Bearer" in body["error"]["message"]


async def test_wrong_token_on_models_is_an_authentication_error(
    hub_client: HubClientFactory,
) -> None:
    client = await hub_client()
    async with sdk(client, api_key="wrong-token") as api:
        with pytest.raises(openai.AuthenticationError):
            await api.models.list()


@pytest.mark.parametrize(
    ("overrides", "param", "fragment"),
    [
        ({"tools": [{"type": "custom", "custom": {"name": "f"}}]}, "tools.0.type", "function"),
        ({"tool_choice": "required"}, "tool_choice", "needs at least one tool"),
        ({"functions": [{"name": "f"}]}, "functions", "use tools"),
        ({"n": 2}, "n", "only 1"),
        ({"top_p": 0.5}, "top_p", "only 1"),
        ({"presence_penalty": 0.5}, "presence_penalty", "only 0"),
        ({"logprobs": True}, "logprobs", "only False"),
        ({"temperature": 5}, "temperature", "temperature"),
        ({"max_tokens": 0}, "max_tokens", "max_tokens"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "stop"),
        ({"messages": []}, "messages", "messages"),
        (
            {"messages": [{"role": "tool", "content": "42", "tool_call_id": "c1"}]},
            "messages.0",
            "must follow an assistant message with tool_calls",
        ),
        (
            {"messages": [{"role": "robot", "content": "x"}]},
            "messages.0.role",
            "must be one of",
        ),
        ({"messages": [{"role": "user"}]}, "messages.0.content", "content is required"),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "https://x/cat.jpg"}}
                        ],
                    }
                ]
            },
            "messages.0.content.0.image_url.url",
            "image URLs are not supported yet",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "data:image/png;base64,%%"}}
                        ],
                    }
                ]
            },
            "messages.0.content.0.image_url.url",
            "not valid base64",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "input_audio", "input_audio": {"data": "x"}}],
                    }
                ]
            },
            "messages.0.content.0",
            "'input_audio' is not supported",
        ),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "content": [{"type": "image_url", "image_url": {"url": jpeg_data_url()}}],
                    }
                ]
            },
            "messages.0.content.0.image_url.url",
            "only be sent in user messages",
        ),
        ({"response_format": {"type": "yaml"}}, "response_format", "response_format"),
        ({"colour": "blue"}, "colour", "colour"),
    ],
)
async def test_bad_request_is_a_bad_request_error(
    hub: openai.AsyncOpenAI,
    fakes: Fakes,
    overrides: dict[str, Any],
    param: str,
    fragment: str,
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await hub.chat.completions.create(model="auto", messages=HI, extra_body=overrides)
    error = caught.value
    assert error.status_code == 400
    assert error.code == "invalid_request"
    assert error.type == "invalid_request_error"
    assert error.param == param
    assert fragment in error.message
    assert not any(fake.requests for fake in fakes.all.values())  # nothing went upstream


async def test_too_many_images_is_a_bad_request(hub: openai.AsyncOpenAI, fakes: Fakes) -> None:
    part: ChatCompletionContentPartParam = {
        "type": "image_url",
        "image_url": {"url": jpeg_data_url((8, 8))},
    }
    with pytest.raises(openai.BadRequestError, match="at most 10 images"):
        await hub.chat.completions.create(
            model="auto",
            messages=[{"role": "user", "content": [part] * 11}],
        )
    assert not fakes.openai.requests


async def test_body_that_is_not_json(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    response = await client.post(
        "/v1/chat/completions",
        data=b"{nope",
        headers={**AUTH, "Content-Type": "application/json"},
    )
    body = await response.json()
    assert response.status == 400
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("fault", "params", "error_class", "status", "code"),
    [
        (Fault.SERVER_ERROR, {}, openai.InternalServerError, 502, "all_providers_failed"),
        (Fault.RATE_LIMIT, {"retry_after": 7}, openai.RateLimitError, 429, "rate_limited"),
    ],
)
async def test_hub_errors_keep_their_status_and_key(
    hub_client: HubClientFactory,
    fakes: Fakes,
    fault: Fault,
    params: dict[str, Any],
    error_class: type[openai.APIStatusError],
    status: int,
    code: str,
) -> None:
    client = await hub_client()
    for fake in fakes.all.values():
        fake.fail_always(fault, **params)
    async with sdk(client) as api:
        with pytest.raises(error_class) as caught:
            await api.chat.completions.create(model="auto", messages=HI)
    assert caught.value.status_code == status
    assert caught.value.code == code
    if status == 429:
        assert caught.value.response.headers["Retry-After"] == "7"


async def test_non_retryable_upstream_error_is_a_bad_request(
    hub: openai.AsyncOpenAI, fakes: Fakes
) -> None:
    fakes.openai.fail_next(Fault.BAD_REQUEST)
    with pytest.raises(openai.BadRequestError) as caught:
        await hub.chat.completions.create(model="auto", messages=HI)
    assert caught.value.code == "provider_bad_request"
    assert not fakes.anthropic.requests


async def test_pinning_a_disabled_provider_is_unprocessable(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    options = provider_options(fakes)
    options[2] = {**options[2], "enabled": False}
    client = await hub_client(providers=options)
    async with sdk(client) as api:
        with pytest.raises(openai.UnprocessableEntityError) as caught:
            await api.chat.completions.create(model="gemini/gemini-2.5-flash", messages=HI)
    assert caught.value.code == "no_capable_provider"
    assert "gemini" in caught.value.message
    assert not any(fake.requests for fake in fakes.all.values())


async def test_unknown_v1_route_is_not_found_in_openai_shape(hub: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await hub.moderations.create(input="hello")
    assert caught.value.code == "not_found"
    assert caught.value.type == "not_found_error"


async def test_hub_routes_keep_the_hub_envelope(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    response = await client.post("/api/v1/chat", json={"prompt": "Hi"})
    body = await response.json()
    assert response.status == 401
    assert body["error"]["key"] == "unauthorized"
    assert "code" not in body["error"]


async def test_models_list(hub_client: HubClientFactory, fakes: Fakes) -> None:
    options = provider_options(fakes)
    options[0] = {**options[0], "vision_model": "gpt-4o"}
    options[3] = {**options[3], "vision_model": "gemma3:4b"}
    options[2] = {**options[2], "enabled": False}
    client = await hub_client(providers=options)
    async with sdk(client) as api:
        page = await api.models.list()
    ids = [model.id for model in page.data]
    assert ids == [
        "auto",
        "openai/gpt-4.1-mini",
        "openai/gpt-4o",
        "anthropic/claude-haiku-4-5",
        "ollama/gemma3:4b",
    ]
    assert all(model.object == "model" for model in page.data)
    assert page.data[1].owned_by == "openai"
    assert not any(fake.requests for fake in fakes.all.values())  # no upstream calls


async def test_oversized_body_is_413_in_openai_shape(hub_client: HubClientFactory) -> None:
    client = await hub_client(max_body_bytes=1024)
    async with sdk(client) as api:
        with pytest.raises(openai.APIStatusError) as caught:
            await api.chat.completions.create(
                model="auto", messages=[{"role": "user", "content": "x" * 4096}]
            )
    assert caught.value.status_code == 413
    assert caught.value.code == "payload_too_large"
