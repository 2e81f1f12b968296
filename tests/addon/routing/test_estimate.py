"""Token estimates before a call: tool definitions and tool conversations are counted."""

from __future__ import annotations

import json

import pytest

from addon.models import ChatRequest, Message, Role, ToolCall, ToolSpec
from addon.routing.estimate import CHARS_PER_TOKEN, estimate_input_tokens

PARAMETERS = {
    "type": "object",
    "properties": {
        "entity_id": {"type": "string", "description": "The entity to act on"},
        "brightness": {"type": "integer", "minimum": 0, "maximum": 255},
    },
    "required": ["entity_id"],
}
TOOL = ToolSpec("turn_on", "Turns on a light, a switch or a fan in the house", PARAMETERS)
CALL = ToolCall("call_abcdefghijklmnop", "turn_on", {"entity_id": "light.porch_light_left"})
QUESTION = Message(Role.USER, "Porch light on")


def tokens(request: ChatRequest) -> int:
    return estimate_input_tokens(request, "openai", None)


def test_tool_definitions_count() -> None:
    bare = ChatRequest(messages=(QUESTION,))
    with_tool = ChatRequest(messages=(QUESTION,), tools=(TOOL,))

    added = tokens(with_tool) - tokens(bare)

    definition = len(json.dumps(PARAMETERS)) + len(TOOL.description) + len(TOOL.name)
    assert added >= definition / CHARS_PER_TOKEN


@pytest.mark.parametrize("tools", [(), (TOOL,)], ids=["history-only", "with-tools"])
def test_calls_and_results_count(tools: tuple[ToolSpec, ...]) -> None:
    result = Message(Role.TOOL, '{"ok": true}', tool_call_id=CALL.id, tool_name=CALL.name)
    before = ChatRequest(messages=(QUESTION,), tools=tools)
    after = ChatRequest(
        messages=(QUESTION, Message(Role.ASSISTANT, "", tool_calls=(CALL,)), result), tools=tools
    )

    added = tokens(after) - tokens(before)

    call_text = len(json.dumps(dict(CALL.arguments))) + len(CALL.id) + len(CALL.name)
    assert added >= (call_text + len(result.content)) / CHARS_PER_TOKEN
