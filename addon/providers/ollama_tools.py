"""Tool calling on Ollama: definitions, what the hub does with a tool choice, calls read back.

Ollama takes ``tools`` (OpenAI-style function definitions, the JSON schema sent as written) and
answers with ``message.tool_calls`` (arguments as an object, no ids); results go back as
``role: tool`` messages with ``tool_name``. Ollama has no ``tool_choice``, so the hub maps it:

* ``none``: the tools are not sent at all (the model cannot call one);
* ``auto`` (or nothing said): the tools are sent;
* ``required``: the tools are sent with a system instruction to answer with a call;
* a named tool: only that tool is sent, with an instruction to call it.

For ``required`` and a named tool, an answer without a call is refused as a capability miss
(the model would not call a tool): the hub moves on to the next provider without blaming this
one; a stream holds back its text until it knows. Ollama has no switch for parallel calls
either: with ``parallel_tool_calls`` off the hub keeps the first call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import ollama

from addon.errors import InvalidRequestError, ProviderCapabilityError
from addon.models import ChatRequest, ToolCall, ToolChoiceMode, ToolSpec
from addon.providers.tooling import new_call_id, object_schema

REQUIRED_INSTRUCTION: Final = (
    "You must answer by calling one (or more) of the tools you were given; do not answer in text."
)
NAMED_INSTRUCTION: Final = "You must answer by calling the tool {name}; do not answer in text."
NO_TOOLS: Final = "does not support tools"


@dataclass(frozen=True, slots=True)
class OllamaTools:
    """What one request sends Ollama about tools, and whether a call is required."""

    definitions: list[dict[str, Any]]
    instruction: str | None = None
    required: bool = False


def plan_tools(request: ChatRequest) -> OllamaTools:
    """The tool definitions (and instruction) for ``request``; nothing when none may be called."""
    mode = request.tool_choice.mode if request.tool_choice else ToolChoiceMode.AUTO
    if not request.tools or mode is ToolChoiceMode.NONE:
        return OllamaTools([])
    indexed = list(enumerate(request.tools))
    if mode is ToolChoiceMode.TOOL:
        name = request.tool_choice.name if request.tool_choice else None
        indexed = [(i, spec) for i, spec in indexed if spec.name == name]
        if not indexed:
            raise InvalidRequestError(
                f"tool_choice names {name!r}, which is not one of the tools", param="tool_choice"
            )
        instruction: str | None = NAMED_INSTRUCTION.format(name=name)
    else:
        instruction = REQUIRED_INSTRUCTION if mode is ToolChoiceMode.REQUIRED else None
    definitions = [wire_tool(spec, f"tools[{i}]") for i, spec in indexed]
    return OllamaTools(definitions, instruction, required=instruction is not None)


def wire_tool(spec: ToolSpec, where: str = "tools") -> dict[str, Any]:
    """Ollama's function-tool definition (the parameters' JSON schema as the caller wrote it)."""
    function: dict[str, Any] = {"name": spec.name, "parameters": object_schema(spec, where=where)}
    if spec.description:
        function["description"] = spec.description
    return {"type": "function", "function": function}


class CallReader:
    """Reads the calls of each answer or chunk: fresh ids, at most ``limit`` in all."""

    def __init__(self, request: ChatRequest) -> None:
        self._limit = 1 if request.parallel_tool_calls is False else None
        self.count = 0

    def read(self, message: ollama.Message) -> tuple[ToolCall, ...]:
        """The calls in ``message`` that the limit still allows."""
        calls = []
        for call in message.tool_calls or ():
            if self._limit is not None and self.count >= self._limit:
                break
            function = call.function
            calls.append(ToolCall(new_call_id(), function.name, dict(function.arguments)))
            self.count += 1
        return tuple(calls)


def require_call(
    plan: OllamaTools, calls: Iterable[ToolCall] | int, provider: str, model: str
) -> None:
    """Refuse an answer without a call when the caller required one (a capability miss)."""
    made = calls if isinstance(calls, int) else len(list(calls))
    if plan.required and not made:
        raise ProviderCapabilityError(
            f"{provider}: model {model!r} answered without calling a tool, though the request "
            "required a call (Ollama cannot force one)"
        )
