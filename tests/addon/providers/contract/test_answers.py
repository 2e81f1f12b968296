"""The contract, answers: chat, stream, usage and finish reasons, vision, structured output.

Written once, run against every provider type of ``VENDORS`` through its official SDK and its
vendor fake.
"""

from __future__ import annotations

import json

import pytest

from addon.errors import ProviderBadRequestError, ProviderResponseError
from addon.models import ChatRequest, FinishReason, ImageInput, Message, Role, Usage
from addon.providers.base import Provider
from tests.addon.providers.contract.conftest import each_vendor
from tests.addon.providers.contract.helpers import (
    LIGHT_EXAMPLE,
    LIGHT_SCHEMA,
    ask,
    drain,
    generations,
)
from tests.addon.providers.contract.vendors import Vendor
from tests.fakes.base import FakeServer, Reply

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(64))
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


# --- chat -----------------------------------------------------------------------------------
async def test_chat_answers_with_text_usage_and_the_model_the_vendor_reports(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    fake.state.reply = Reply(text="It is sunny.", input_tokens=31, output_tokens=7)
    vendor.snapshot(fake)

    response = await provider.chat(ask(vendor), timeout=10)

    assert response.text == "It is sunny."
    assert response.usage == Usage(input_tokens=31, output_tokens=7)
    assert response.model == vendor.reported_model
    assert response.finish_reason is FinishReason.STOP
    assert (response.data, response.tool_calls) == (None, ())
    assert response.latency_ms >= 0
    (sent,) = generations(vendor, fake)
    assert vendor.key_sent(sent) == vendor.key
    assert getattr(provider, "provider_type", None) == vendor.name


@pytest.mark.parametrize("streaming", [False, True], ids=["chat", "stream"])
async def test_thinking_tokens_count_as_output(
    vendor: Vendor, fake: FakeServer, provider: Provider, streaming: bool
) -> None:
    fake.state.reply = Reply(output_tokens=5, thinking_tokens=40)

    if streaming:
        usage = (await drain(provider, ask(vendor)))[-1].usage
    else:
        usage = (await provider.chat(ask(vendor), timeout=10)).usage

    assert usage == Usage(input_tokens=12, output_tokens=45)


@pytest.mark.parametrize("streaming", [False, True], ids=["chat", "stream"])
async def test_an_answer_cut_at_max_tokens_finishes_with_length(
    vendor: Vendor, fake: FakeServer, provider: Provider, streaming: bool
) -> None:
    fake.state.reply = Reply(output_tokens=50)
    request = ask(vendor, max_tokens=10)

    if streaming:
        final = (await drain(provider, request))[-1]
        finish, usage = final.finish_reason, final.usage
    else:
        response = await provider.chat(request, timeout=10)
        finish, usage = response.finish_reason, response.usage

    assert finish is FinishReason.LENGTH
    assert usage is not None
    assert usage.output_tokens == 10


# --- stream ---------------------------------------------------------------------------------
async def test_stream_pieces_join_to_the_text_and_the_last_delta_sums_up(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    fake.state.reply = Reply(
        text="The porch light is on.", input_tokens=9, output_tokens=6, chunks=4
    )
    vendor.snapshot(fake)

    *pieces, last = await drain(provider, ask(vendor))

    assert len(pieces) == 4
    assert "".join(d.text for d in pieces) == "The porch light is on."
    assert all(d.usage is None and d.finish_reason is None for d in pieces)
    assert last.text == ""
    # Vendors that repeat a running usage total on every event must not be summed.
    assert last.usage == Usage(input_tokens=9, output_tokens=6)
    assert last.finish_reason is FinishReason.STOP
    assert last.model == vendor.reported_model
    assert len(generations(vendor, fake)) == 1


# --- vision ---------------------------------------------------------------------------------
async def test_images_reach_the_vendor_in_its_wire_format(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    images = (ImageInput(JPEG), ImageInput(PNG, "image/png"))
    request = ChatRequest(
        messages=(Message(Role.USER, "What is at the door?", images=images),),
        model=vendor.vision_model,
    )

    response = await provider.chat(request, timeout=10)

    assert response.text == Reply().text
    text, sent = vendor.images_sent(generations(vendor, fake)[-1].body)
    assert text == "What is at the door?"
    assert [data for _, data in sent] == [JPEG, PNG]
    assert [mime for mime, _ in sent] in (["image/jpeg", "image/png"], [None, None])


@pytest.mark.parametrize(
    "vendor", each_vendor(only=["openai", "openai_compatible", "ollama"]), indirect=True
)
async def test_images_for_a_text_only_model_are_refused_before_sending(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    assert vendor.text_only_model is not None
    request = ChatRequest(
        messages=(Message(Role.USER, "Look", images=(ImageInput(PNG, "image/png"),)),),
        model=vendor.text_only_model,
    )

    with pytest.raises(ProviderBadRequestError, match="does not accept images"):
        await provider.chat(request, timeout=10)

    assert generations(vendor, fake) == []


# --- structured output ----------------------------------------------------------------------
async def test_structured_output_sends_the_schema_and_parses_data(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    response = await provider.chat(ask(vendor, json_schema=LIGHT_SCHEMA), timeout=10)

    assert response.data == LIGHT_EXAMPLE
    assert json.loads(response.text) == LIGHT_EXAMPLE
    assert response.finish_reason is FinishReason.STOP
    assert vendor.schema_sent(generations(vendor, fake)[-1].body) == LIGHT_SCHEMA


async def test_structured_output_takes_the_models_json(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    fake.state.reply = Reply(text='{"room": "hall", "on": true}')

    response = await provider.chat(ask(vendor, json_schema=LIGHT_SCHEMA), timeout=10)

    assert response.data == {"room": "hall", "on": True}


async def test_structured_output_that_is_not_json_is_a_response_error(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    fake.state.reply = Reply(text="Sure! The hall light is on.")

    with pytest.raises(ProviderResponseError, match="valid JSON"):
        await provider.chat(ask(vendor, json_schema=LIGHT_SCHEMA), timeout=10)


async def test_structured_output_streams_as_json_text(vendor: Vendor, provider: Provider) -> None:
    *pieces, last = await drain(provider, ask(vendor, json_schema=LIGHT_SCHEMA))

    assert json.loads("".join(d.text for d in pieces)) == LIGHT_EXAMPLE
    assert last.finish_reason is FinishReason.STOP
