"""/v1 names who answered: every stream chunk's model, and the attempts on errors too."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.conftest import AUTH, Fakes, HubClientFactory
from tests.fakes.base import Fault

HI = [{"role": "user", "content": "Hi"}]


def sse_chunks(text: str) -> list[dict[str, Any]]:
    """The JSON chunks of an OpenAI SSE body (``[DONE]`` dropped)."""
    events = [e.removeprefix("data: ") for e in text.split("\n\n") if e]
    return [json.loads(e) for e in events if e != "[DONE]"]


@pytest.mark.parametrize(
    ("asked", "failing", "answered"),
    [
        ("auto", None, "openai/gpt-4.1-mini"),
        ("auto", "openai", "anthropic/claude-haiku-4-5"),
        ("anthropic", None, "anthropic/claude-haiku-4-5"),
        ("gemini/gemini-2.5-flash", None, "gemini/gemini-2.5-flash"),
        ("ollama/gemma3:4b", None, "ollama/gemma3:4b"),
        ("", None, "openai/gpt-4.1-mini"),
    ],
)
async def test_every_stream_chunk_names_who_answered(
    hub_client: HubClientFactory, fakes: Fakes, asked: str, failing: str | None, answered: str
) -> None:
    client = await hub_client()
    if failing is not None:
        fakes.all[failing].fail_next(Fault.SERVER_ERROR)
    for fake in fakes.all.values():
        fake.state.reply.chunks = 3
    response = await client.post(
        "/v1/chat/completions",
        json={"model": asked, "messages": HI, "stream": True},
        headers=AUTH,
    )
    assert response.status == 200
    chunks = sse_chunks(await response.text())
    texts = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert len(texts) >= 2  # several text chunks, not only the closing ones
    models = {c["model"] for c in chunks}
    assert len(models) == 1  # one id for the whole stream
    assert models.pop().startswith(answered)  # vendors may answer with a dated snapshot


async def test_sdk_stream_chunks_all_carry_the_answering_model(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    fakes.openai.fail_next(Fault.SERVER_ERROR)
    async with openai.AsyncOpenAI(
        base_url=str(client.make_url("/v1")), api_key=AUTH["Authorization"][7:], max_retries=0
    ) as api:
        stream = await api.chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        models = [chunk.model async for chunk in stream]
    assert models
    assert len(set(models)) == 1
    assert models[0].startswith("anthropic/claude-haiku-4-5")


def attempts_of(header: str) -> list[tuple[str, str]]:
    pairs = [item.split("=", 1) for item in header.split(", ")]
    return [(provider, outcome) for provider, outcome in pairs]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("fault", "status", "expected"),
    [
        (
            Fault.SERVER_ERROR,
            502,
            [
                ("openai", "provider_bad_response"),
                ("anthropic", "provider_bad_response"),
                ("gemini", "provider_bad_response"),
                ("ollama", "provider_bad_response"),
            ],
        ),
        (Fault.BAD_REQUEST, 400, [("openai", "provider_bad_request")]),
        (
            Fault.AUTH,
            502,
            [
                ("openai", "provider_auth"),
                ("anthropic", "provider_auth"),
                ("gemini", "provider_auth"),
                ("ollama", "provider_auth"),
            ],
        ),
    ],
)
async def test_errors_carry_the_attempts_in_header_and_body(
    hub_client: HubClientFactory,
    fakes: Fakes,
    stream: bool,
    fault: Fault,
    status: int,
    expected: list[tuple[str, str]],
) -> None:
    client = await hub_client()
    for fake in fakes.all.values():
        fake.fail_always(fault)
    response = await client.post(
        "/v1/chat/completions",
        json={"model": "auto", "messages": HI, "stream": stream},
        headers=AUTH,
    )
    assert response.status == status
    assert attempts_of(response.headers["X-Hub-Attempts"]) == expected
    error = (await response.json())["error"]
    assert {"message", "type", "param", "code"} <= error.keys()
    assert [(a["provider"], a["outcome"]) for a in error["attempts"]] == expected


async def test_sdk_error_keeps_the_attempts(hub_client: HubClientFactory, fakes: Fakes) -> None:
    client = await hub_client()
    fakes.openai.fail_always(Fault.BAD_REQUEST)
    async with openai.AsyncOpenAI(
        base_url=str(client.make_url("/v1")), api_key=AUTH["Authorization"][7:], max_retries=0
    ) as api:
        with pytest.raises(openai.BadRequestError) as caught:
            await api.chat.completions.create(
                model="auto", messages=[{"role": "user", "content": "Hi"}]
            )
    assert caught.value.response.headers["X-Hub-Attempts"] == "openai=provider_bad_request"
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["attempts"][0]["outcome"] == "provider_bad_request"


async def test_errors_before_any_attempt_have_none(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    response = await client.post(
        "/v1/chat/completions", json={"model": "auto", "messages": []}, headers=AUTH
    )
    assert response.status == 400
    assert "X-Hub-Attempts" not in response.headers
    assert "attempts" not in (await response.json())["error"]
    assert not any(fake.requests for fake in fakes.all.values())
