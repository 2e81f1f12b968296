"""Gemini's side of tool calling: schema adaptation (and its undoing) and thought signatures.

Parameters arrive as full JSON schema (Home Assistant's LLM API writes them from voluptuous);
``FakeGemini`` refuses every keyword the real API refuses, so each case below proves both
that the adapted schema is accepted and what it says; arguments the model gives for an
adapted schema come back as the caller's schema describes them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from addon.errors import ProviderCapabilityError
from addon.models import ChatRequest, Message, Role, ToolCall, ToolSpec
from addon.providers.gemini import GeminiProvider
from addon.settings import ProviderSettings, Secret
from tests.fakes.gemini import FakeGemini
from tests.fakes.gemini_tools import SKIP_SIGNATURE, decode_signature
from tests.fakes.tools import ToolPlan

KEY = "AIzaGeminiTools0123"
MODELS = ["gemini-2.5-flash", "gemini-3-flash-preview"]


@pytest.fixture
async def fake() -> AsyncIterator[FakeGemini]:
    server = FakeGemini(api_key=KEY, models=MODELS)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def provider(fake: FakeGemini) -> AsyncIterator[GeminiProvider]:
    settings = ProviderSettings(
        name="gemini",
        type="gemini",
        model="gemini-2.5-flash",
        api_key=Secret(KEY),
        base_url=fake.url,
    )
    instance = GeminiProvider(settings)
    yield instance
    await instance.close()


def offer(
    parameters: Mapping[str, Any], *messages: Message, model: str = "gemini-2.5-flash"
) -> ChatRequest:
    history = messages or (Message(Role.USER, "Do it"),)
    return ChatRequest(messages=history, model=model, tools=(ToolSpec("act", "Act", parameters),))


def declared(fake: FakeGemini) -> Any:
    """The ``parameters`` of the one function declaration of the last request (camel case)."""
    declaration = fake.requests[-1].body["tools"][0]["functionDeclarations"][0]
    return camel_schema(declaration.get("parameters"))


def camel_schema(node: Any) -> Any:
    """Schema field names in lowerCamel case (proto JSON takes both; the SDK sends snake)."""
    if isinstance(node, list):
        return [camel_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        head, *rest = key.split("_")
        name = head + "".join(word.capitalize() for word in rest)
        if key == "properties":
            out[name] = {prop: camel_schema(child) for prop, child in value.items()}
        else:
            out[name] = camel_schema(value)
    return out


def wrap(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


# --- schemas ------------------------------------------------------------------------------
ADAPTED = [
    pytest.param(
        {"type": "string", "title": "Name", "description": "Who", "minLength": 1},
        {"type": "STRING", "description": "Who", "minLength": 1},
        id="title-dropped",
    ),
    pytest.param(
        {"type": "array", "items": {"type": "string", "enum": ["light", "fan"]}, "maxItems": 3},
        {
            "type": "ARRAY",
            "items": {"type": "STRING", "format": "enum", "enum": ["light", "fan"]},
            "maxItems": 3,
        },
        id="enum-in-array",
    ),
    pytest.param(
        {"type": "integer", "minimum": 0, "maximum": 100, "default": 50},
        {"type": "INTEGER", "minimum": 0, "maximum": 100, "description": "default: 50"},
        id="default-folded",
    ),
    pytest.param(
        {"type": ["string", "null"], "format": "email"},
        {"type": "STRING", "nullable": True, "description": "format: email"},
        id="null-type-and-unknown-format",
    ),
    pytest.param(
        {"type": "string", "format": "date-time"},
        {"type": "STRING", "format": "date-time"},
        id="known-format",
    ),
    pytest.param(
        {"anyOf": [{"type": "string"}, {"type": "integer"}], "description": "Either"},
        {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}], "description": "Either"},
        id="any-of",
    ),
    pytest.param(
        {"oneOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "null"}]},
        {"type": "NUMBER", "nullable": True, "description": "greater than 0"},
        id="one-of-with-null",
    ),
    pytest.param(
        {"$ref": "#/$defs/Area"},
        {"type": "STRING", "description": "An area"},
        id="ref",
    ),
    pytest.param(
        {
            "allOf": [
                wrap(a={"type": "string"}),
                {"properties": {"b": {"type": "boolean"}}, "required": ["b"]},
            ]
        },
        {
            "type": "OBJECT",
            "properties": {"a": {"type": "STRING"}, "b": {"type": "BOOLEAN"}},
            "required": ["b"],
        },
        id="all-of",
    ),
    pytest.param(
        {"type": "object", "additionalProperties": True, "description": "Service data"},
        {"type": "STRING", "description": "Service data (a JSON object as a string)"},
        id="free-form-object",
    ),
    pytest.param(
        {"enum": [1, 2, 3]},
        {"type": "STRING", "format": "enum", "enum": ["1", "2", "3"]},
        id="number-enum",
    ),
    pytest.param(
        wrap(x={"type": "number"}) | {"additionalProperties": False, "required": ["x", "gone"]},
        {"type": "OBJECT", "properties": {"x": {"type": "NUMBER"}}, "required": ["x"]},
        id="nested-object",
    ),
]


@pytest.mark.parametrize(("schema", "expected"), ADAPTED)
async def test_a_json_schema_is_adapted_to_what_gemini_takes(
    fake: FakeGemini, provider: GeminiProvider, schema: dict[str, Any], expected: dict[str, Any]
) -> None:
    parameters = wrap(value=schema) | {
        "$defs": {"Area": {"type": "string", "description": "An area"}}
    }

    await provider.chat(offer(parameters), timeout=10)

    assert declared(fake) == {"type": "OBJECT", "properties": {"value": expected}}


RESTORED = [
    pytest.param({"enum": [1, 2, 3]}, "2", 2, id="number-enum"),
    pytest.param({"const": True}, "true", True, id="const"),
    pytest.param(
        {"type": "object", "additionalProperties": True}, '{"k": [1]}', {"k": [1]}, id="free-form"
    ),
    pytest.param({}, "[1, 2]", [1, 2], id="untyped"),
    pytest.param({"type": "array", "items": {"enum": [0.5, 1.5]}}, ["1.5"], [1.5], id="enum-items"),
    pytest.param(wrap(n={"enum": [7, 8]}), {"n": "8"}, {"n": 8}, id="nested"),
    pytest.param({"type": "string"}, "as is", "as is", id="untouched"),
]


@pytest.mark.parametrize(("schema", "sent", "restored"), RESTORED)
async def test_arguments_come_back_as_the_callers_schema_says(
    fake: FakeGemini, provider: GeminiProvider, schema: dict[str, Any], sent: Any, restored: Any
) -> None:
    fake.script_tools(ToolPlan("act", {"value": sent}))

    response = await provider.chat(offer(wrap(value=schema)), timeout=10)

    assert dict(response.tool_calls[0].arguments) == {"value": restored}


async def test_free_form_parameters_travel_as_one_json_argument(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.script_tools(ToolPlan("act", {"json": '{"entity_id": "light.porch", "on": true}'}))

    response = await provider.chat(
        offer({"type": "object", "additionalProperties": True}), timeout=10
    )

    assert declared(fake)["required"] == ["json"]
    assert dict(response.tool_calls[0].arguments) == {"entity_id": "light.porch", "on": True}


async def test_a_tool_without_parameters_declares_none(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    await provider.chat(offer({"type": "object", "properties": {}}), timeout=10)

    assert declared(fake) is None


@pytest.mark.parametrize(
    "parameters",
    [
        pytest.param(
            wrap(node={"$ref": "#/$defs/Node"})
            | {"$defs": {"Node": wrap(next={"$ref": "#/$defs/Node"})}},
            id="recursive",
        ),
        pytest.param(wrap(x={"$ref": "https://example.com/schema.json"}), id="external"),
    ],
)
async def test_a_ref_gemini_cannot_take_is_a_capability_miss(
    fake: FakeGemini, provider: GeminiProvider, parameters: dict[str, Any]
) -> None:
    with pytest.raises(ProviderCapabilityError, match=r"\$ref"):
        await provider.chat(offer(parameters), timeout=10)
    assert fake.requests == []


# --- thought signatures -------------------------------------------------------------------
def signatures(fake: FakeGemini) -> list[bytes | None]:
    """The signature of each ``functionCall`` part of the last request."""
    parts = [
        p for c in fake.requests[-1].body["contents"] for p in c["parts"] if "functionCall" in p
    ]
    return [
        decode_signature(p["thoughtSignature"]) if "thoughtSignature" in p else None for p in parts
    ]


def answered(request: ChatRequest, calls: tuple[ToolCall, ...]) -> ChatRequest:
    results = tuple(Message(Role.TOOL, "{}", tool_call_id=c.id, tool_name=c.name) for c in calls)
    history = (*request.messages, Message(Role.ASSISTANT, "", tool_calls=calls), *results)
    return ChatRequest(messages=history, model=request.model, tools=request.tools)


async def test_gemini_3_gets_its_own_signature_back(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.script_tools(ToolPlan("act", {}), ToolPlan("act", {}))
    first = offer(wrap(), model="gemini-3-flash-preview")
    calls = (await provider.chat(first, timeout=10)).tool_calls

    await provider.chat(answered(first, calls), timeout=10)

    first_signature, second_signature = signatures(fake)
    assert first_signature in fake.signatures
    assert second_signature is None  # Gemini signs the first call of a turn only


@pytest.mark.parametrize(
    ("model", "expected"),
    [("gemini-3-flash-preview", [SKIP_SIGNATURE, None]), ("gemini-2.5-flash", [None, None])],
)
async def test_calls_from_elsewhere_carry_the_placeholder_where_needed(
    fake: FakeGemini, provider: GeminiProvider, model: str, expected: list[bytes | None]
) -> None:
    calls = (ToolCall("toolu_01abc", "act", {}), ToolCall("toolu_01abd", "act", {}))

    await provider.chat(answered(offer(wrap(), model=model), calls), timeout=10)

    assert signatures(fake) == expected
