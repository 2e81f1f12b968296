"""Ollama's tool calling on ``/api/chat``, for ``FakeOllama``.

``tools`` are OpenAI-style function definitions; a model whose template has no tool support
refuses any request that carries tools with HTTP 400 ``{"error": "registry.ollama.ai/library/
<model> does not support tools"}`` (and ``/api/show`` lists ``tools`` among its capabilities
only when it has it). There is no ``tool_choice``. The model answers with
``message.tool_calls: [{"id", "function": {"index", "name", "arguments": {...}}}]`` (arguments
an object), in one chunk of a stream; results come back as ``role: "tool"`` messages, named by
``tool_name``. Ollama does not check results against calls.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any, Final

from tests.fakes.tools import ToolPlan, plan_calls

# Families whose templates take no tools (the hub's traits know some; ``tinyllama`` and
# ``phi`` they do not, which is how a test meets Ollama's own refusal).
NO_TOOLS_FAMILIES: Final = (
    "gemma3", "llava", "bakllava", "moondream", "minicpm-v", "llama3.2-vision", "tinyllama",
    "phi",
)  # fmt: skip


def supports_tools(model: str) -> bool:
    """True when the model's template takes tools."""
    return not model.split(":", 1)[0].startswith(NO_TOOLS_FAMILIES)


def tools_problem(body: Mapping[str, Any], model: str) -> str | None:
    """Ollama's 400 for tools sent to a model without tool support, else None."""
    if body.get("tools") and not supports_tools(model):
        return f"registry.ollama.ai/library/{model} does not support tools"
    return None


def planned_calls(body: Mapping[str, Any], script: Sequence[ToolPlan]) -> list[ToolPlan]:
    """The calls the model makes: scripted calls to offered tools until results come back."""
    offered = {
        str(tool["function"]["name"]): tool["function"].get("parameters") or {}
        for tool in body.get("tools") or []
    }
    messages = body.get("messages") or [{}]
    return plan_calls(offered, script, answered=messages[-1].get("role") == "tool")


def wire_calls(plans: Sequence[ToolPlan]) -> list[dict[str, Any]]:
    """``message.tool_calls`` for ``plans``."""
    return [
        {
            "id": plan.id or f"call_{secrets.token_hex(4)}",
            "function": {"index": index, "name": plan.name, "arguments": dict(plan.arguments)},
        }
        for index, plan in enumerate(plans)
    ]


def legacy_plans(calls: Sequence[Mapping[str, Any]]) -> list[ToolPlan]:
    """Plans from ``FakeOllama.tool_calls`` (the older way to steer)."""
    return [
        ToolPlan(str(call["name"]), dict(call["arguments"]), id=f"call_{index:08x}")
        for index, call in enumerate(calls)
    ]
