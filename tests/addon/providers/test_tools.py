"""Tool calling through every provider: the official SDKs against the vendors' fakes.

One contract for all vendors (``tool_vendors.VENDORS``): a single call and a parallel turn, in
JSON and in a stream, the round trip with results (the fakes check each result against the
call it answers, as the vendors do), the caller's tool choice and parallel switch in the
vendor's words, ids from any vendor replayed to every other, and what is refused before
anything is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import pytest

from addon.errors import InvalidRequestError, ProviderCapabilityError
from addon.models import (
    ChatRequest,
    ChatResponse,
    FinishReason,
    Message,
    Role,
    StreamDelta,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolSpec,
    Usage,
)
from addon.providers import create_provider
from addon.providers.base import Provider
from tests.addon.providers.tool_vendors import VENDORS, ToolVendor
from tests.fakes.base import FakeServer, Reply
from tests.fakes.tools import ToolPlan

LIGHT = ToolSpec(
    "turn_on",
    "Turn a light on",
    {
        "type": "object",
        "properties": {
            "entity_id": {"type": "string", "description": "The light"},
            "brightness": {"type": "integer", "minimum": 0, "maximum": 255},
        },
        "required": ["entity_id"],
    },
)
STATE = ToolSpec(
    "get_state",
    "Read an entity's state",
    {"type": "object", "properties": {"entity_id": {"type": "string"}}, "required": ["entity_id"]},
)
PORCH = ToolPlan("turn_on", {"entity_id": "light.porch", "brightness": 200})
LOCK = ToolPlan("get_state", {"entity_id": "lock.front"})
Mode = Literal["json", "stream"]
MODES: tuple[Mode, ...] = ("json", "stream")


@dataclass
class Bench:
    """A vendor's fake and a provider of that vendor pointed at it."""

    vendor: ToolVendor
    fake: FakeServer
    provider: Provider

    def ask(self, *messages: Message, **kwargs: Any) -> ChatRequest:
        """A request on the vendor's tool model offering both tools unless told otherwise."""
        values: dict[str, Any] = {"model": self.vendor.model, "tools": (LIGHT, STATE)}
        values.update(kwargs)
        history = messages or (Message(Role.USER, "Porch light on, and is the door locked?"),)
        return ChatRequest(messages=history, **values)

    def generations(self) -> list[Any]:
        """Bodies of the generation requests the fake received."""
        return self.vendor.generations(self.fake)


@pytest.fixture(params=VENDORS, ids=[v.id for v in VENDORS])
async def bench(request: pytest.FixtureRequest) -> AsyncIterator[Bench]:
    vendor: ToolVendor = request.param
    fake = await vendor.make_fake().start()
    provider = create_provider(vendor.settings(fake))
    yield Bench(vendor, fake, provider)
    await provider.close()
    await fake.stop()


async def answer(provider: Provider, request: ChatRequest, mode: Mode) -> ChatResponse:
    """The provider's answer; a stream is folded into one (each call must come once, whole)."""
    if mode == "json":
        return await provider.chat(request, timeout=10)
    text: list[str] = []
    calls: list[ToolCall] = []
    finish: FinishReason | None = None
    model = ""
    async for delta in provider.chat_stream(request, timeout=10):
        text.append(delta.text)
        calls.extend(delta.tool_calls)
        finish = delta.finish_reason or finish
        model = delta.model or model
    assert finish is not None, "the stream ended without a finish reason"
    return ChatResponse("".join(text), model, Usage(), finish, tool_calls=tuple(calls))


def continued(request: ChatRequest, calls: tuple[ToolCall, ...]) -> ChatRequest:
    """``request`` followed by the assistant's calls and one result per call."""
    results = tuple(
        Message(
            Role.TOOL,
            f'{{"ok": true, "entity": "{call.arguments.get("entity_id")}"}}',
            tool_call_id=call.id,
            tool_name=call.name,
        )
        for call in calls
    )
    history = (*request.messages, Message(Role.ASSISTANT, "", tool_calls=calls), *results)
    return ChatRequest(
        messages=history,
        model=request.model,
        tools=request.tools,
        tool_choice=request.tool_choice,
    )


# --- calls --------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
async def test_a_single_call_comes_back_whole(bench: Bench, mode: Mode) -> None:
    bench.fake.script_tools(PORCH)

    response = await answer(bench.provider, bench.ask(), mode)

    assert [(c.name, dict(c.arguments)) for c in response.tool_calls] == [
        ("turn_on", {"entity_id": "light.porch", "brightness": 200})
    ]
    assert response.tool_calls[0].id
    assert response.finish_reason is FinishReason.TOOL_CALLS


@pytest.mark.parametrize("mode", MODES)
async def test_parallel_calls_come_back_in_order_with_distinct_ids(
    bench: Bench, mode: Mode
) -> None:
    bench.fake.script_tools(PORCH, LOCK)

    response = await answer(bench.provider, bench.ask(), mode)

    assert [c.name for c in response.tool_calls] == ["turn_on", "get_state"]
    assert dict(response.tool_calls[1].arguments) == {"entity_id": "lock.front"}
    assert len({c.id for c in response.tool_calls}) == 2
    assert response.finish_reason is FinishReason.TOOL_CALLS


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("plans", [(PORCH,), (PORCH, LOCK)], ids=["single", "parallel"])
async def test_round_trip_with_results_ends_in_text(
    bench: Bench, mode: Mode, plans: tuple[ToolPlan, ...]
) -> None:
    bench.fake.script_tools(*plans)
    bench.fake.state.reply = Reply(text="The porch light is on and the door is locked.")
    first = bench.ask()
    calls = (await answer(bench.provider, first, mode)).tool_calls

    final = await answer(bench.provider, continued(first, calls), mode)

    assert final.text == "The porch light is on and the door is locked."
    assert final.tool_calls == ()
    assert final.finish_reason is FinishReason.STOP
    assert len(bench.generations()) == 2


# --- what the caller wants ----------------------------------------------------------------
BOTH = ["turn_on", "get_state"]
CHOICES = [
    pytest.param(ToolChoice(ToolChoiceMode.NONE), ("none", None), [], id="none"),
    pytest.param(ToolChoice(ToolChoiceMode.AUTO), ("auto", None), BOTH, id="auto"),
    pytest.param(ToolChoice(ToolChoiceMode.REQUIRED), ("required", None), BOTH, id="required"),
    pytest.param(
        ToolChoice(ToolChoiceMode.TOOL, "get_state"),
        ("tool", "get_state"),
        ["get_state"],
        id="named",
    ),
]


@pytest.mark.parametrize(("choice", "wire", "called"), CHOICES)
async def test_tool_choice_reaches_the_vendor_and_is_followed(
    bench: Bench, choice: ToolChoice, wire: tuple[str, str | None], called: list[str]
) -> None:
    bench.fake.script_tools(PORCH, LOCK)

    response = await bench.provider.chat(bench.ask(tool_choice=choice), timeout=10)

    assert [c.name for c in response.tool_calls] == called
    assert bench.vendor.wire_choice(bench.generations()[-1]) == wire


FORCING = [
    pytest.param(ToolChoice(ToolChoiceMode.REQUIRED), "turn_on", id="required"),
    pytest.param(ToolChoice(ToolChoiceMode.TOOL, "get_state"), "get_state", id="named"),
]


@pytest.mark.parametrize(("choice", "called"), FORCING)
@pytest.mark.parametrize("mode", MODES)
async def test_a_required_call_is_made_or_the_answer_is_a_capability_miss(
    bench: Bench, mode: Mode, choice: ToolChoice, called: str
) -> None:
    """Nothing scripted: a vendor that can force a call makes one; Ollama only asks for it."""
    request = bench.ask(tool_choice=choice)
    if bench.vendor.forces_calls:
        response = await answer(bench.provider, request, mode)
        assert [c.name for c in response.tool_calls] == [called]
        return
    bench.fake.state.reply = Reply(text="I would rather chat.")
    deltas: list[StreamDelta] = []
    with pytest.raises(ProviderCapabilityError, match="without calling a tool"):
        await drain(bench.provider, request, mode, deltas)
    assert deltas == []  # no text went out: the hub may still fail over


async def drain(
    provider: Provider, request: ChatRequest, mode: Mode, out: list[StreamDelta]
) -> None:
    """Ask in ``mode``, collecting stream deltas into ``out`` as they come."""
    if mode == "json":
        await provider.chat(request, timeout=10)
        return
    async for delta in provider.chat_stream(request, timeout=10):
        out.append(delta)


async def test_without_a_choice_nothing_is_said_about_it(bench: Bench) -> None:
    await bench.provider.chat(bench.ask(), timeout=10)

    body = bench.generations()[-1]
    implied = ("auto", None) if bench.vendor.implied_auto else None
    assert bench.vendor.wire_choice(body) == implied
    assert bench.vendor.wire_parallel(body) is None


@pytest.mark.parametrize("mode", MODES)
async def test_parallel_calls_off_gives_one_call(bench: Bench, mode: Mode) -> None:
    bench.fake.script_tools(PORCH, LOCK)

    response = await answer(bench.provider, bench.ask(parallel_tool_calls=False), mode)

    assert [c.name for c in response.tool_calls] == ["turn_on"]
    if bench.vendor.parallel_switch:
        assert bench.vendor.wire_parallel(bench.generations()[-1]) is False


async def test_no_tools_no_tool_fields(bench: Bench) -> None:
    await bench.provider.chat(bench.ask(tools=()), timeout=10)

    body = bench.generations()[-1]
    assert {"tools", "tool_choice", "parallel_tool_calls", "toolConfig"}.isdisjoint(body)


# --- ids across vendors -------------------------------------------------------------------
FOREIGN_IDS = [
    pytest.param("call_Xq7bVwJ0aLc2ZdE1fG3hI4jK", id="openai"),
    pytest.param("toolu_01A09q90qw90lq917835lq9", id="anthropic"),
    pytest.param("call_0", id="numbered"),
    pytest.param("functions.turn_on:0", id="dotted"),
    pytest.param("call_" + "9" * 60, id="long"),
]


@pytest.mark.parametrize("call_id", FOREIGN_IDS)
async def test_a_conversation_from_another_vendor_continues(bench: Bench, call_id: str) -> None:
    bench.fake.state.reply = Reply(text="Done.")
    calls = (
        ToolCall(call_id, "turn_on", {"entity_id": "light.porch"}),
        ToolCall(call_id + "b", "get_state", {"entity_id": "lock.front"}),
    )

    final = await bench.provider.chat(continued(bench.ask(), calls), timeout=10)

    assert final.text == "Done."
    assert len(bench.generations()) == 1


# --- refused before anything is sent ------------------------------------------------------
async def test_a_model_without_tools_is_a_capability_miss(bench: Bench) -> None:
    if bench.vendor.no_tools_model is None:
        pytest.skip(f"every {bench.vendor.id} model calls tools")
    request = bench.ask(model=bench.vendor.no_tools_model)

    with pytest.raises(ProviderCapabilityError, match="cannot call tools"):
        await bench.provider.chat(request, timeout=10)
    assert bench.generations() == []


CALL = ToolCall("call_1", "turn_on", {"entity_id": "light.porch"})
BROKEN = [
    pytest.param(
        (Message(Role.USER, "hi"), Message(Role.TOOL, "42")),
        "tool_call_id None",
        id="result-without-id",
    ),
    pytest.param(
        (Message(Role.USER, "hi"), Message(Role.TOOL, "{}", tool_call_id="call_9")),
        "tool_call_id",
        id="result-without-call",
    ),
    pytest.param(
        (Message(Role.USER, "hi"), Message(Role.ASSISTANT, "", tool_calls=(CALL,))),
        "missing: call_1",
        id="call-without-result",
    ),
    pytest.param(
        (
            Message(Role.USER, "hi"),
            Message(Role.ASSISTANT, "", tool_calls=(CALL,)),
            Message(Role.USER, "and now?"),
        ),
        "missing: call_1",
        id="result-skipped",
    ),
]


@pytest.mark.parametrize(("history", "says"), BROKEN)
async def test_a_broken_tool_conversation_is_the_callers_error(
    bench: Bench, history: tuple[Message, ...], says: str
) -> None:
    with pytest.raises(InvalidRequestError, match=says):
        await bench.provider.chat(bench.ask(*history), timeout=10)
    assert bench.generations() == []


async def test_parameters_must_be_an_object_schema(bench: Bench) -> None:
    odd = ToolSpec("say", "Say something", {"type": "string"})

    with pytest.raises(InvalidRequestError, match="object schema"):
        await bench.provider.chat(bench.ask(tools=(odd,)), timeout=10)
    assert bench.generations() == []
