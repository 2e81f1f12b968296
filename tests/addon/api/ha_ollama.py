"""What Home Assistant's Ollama integration sends, rebuilt on the official ``ollama`` client.

Mirrors ``homeassistant/components/ollama/entity.py``: tools formatted as
``{"type": "function", "function": {name, parameters, description}}``, every call streamed with
``keep_alive`` as a duration string and ``options.num_ctx``; the answer's chunks folded into one
assistant turn (content, tool calls without ids); each tool's result sent back as
``{"role": "tool", "content": json({"data", "error"})}`` (no id, no name); at most ten rounds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ollama

MAX_TOOL_ITERATIONS = 10
Tool = Callable[[Mapping[str, Any]], Any]


@dataclass
class Turn:
    """One streamed answer folded the way Home Assistant's chat log folds it."""

    content: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class Conversation:
    """A conversation agent on one model, with the house's tools."""

    client: ollama.AsyncClient
    model: str
    tools: Mapping[str, tuple[dict[str, Any], Tool]]
    system: str = "You are a voice assistant for Home Assistant."
    keep_alive: str | int = "300s"
    messages: list[dict[str, Any]] = field(default_factory=list)
    rounds: int = 0

    def definitions(self) -> list[dict[str, Any]]:
        """The tools as the integration formats them."""
        return [
            {
                "type": "function",
                "function": {"name": name, "parameters": schema, "description": f"{name} tool"},
            }
            for name, (schema, _) in self.tools.items()
        ]

    async def ask(self, text: str) -> str:
        """One user turn: run tools until the model answers in text; that text."""
        if not self.messages:
            self.messages.append({"role": "system", "content": self.system})
        self.messages.append({"role": "user", "content": text})
        for _ in range(MAX_TOOL_ITERATIONS):
            self.rounds += 1
            turn = await self._stream()
            self.messages.append(_assistant(turn))
            if not turn.tool_calls:
                return turn.content
            for name, arguments in turn.tool_calls:
                self.messages.append(self._run(name, arguments))
        raise AssertionError("no final answer within the integration's iteration limit")

    async def _stream(self) -> Turn:
        chunks = await self.client.chat(
            model=self.model,
            messages=list(self.messages),
            tools=self.definitions(),
            stream=True,
            keep_alive=self.keep_alive,
            options={"num_ctx": 8192},
            think=None,
            format=None,
        )
        turn = Turn()
        async for chunk in chunks:
            message = chunk["message"]
            for call in message.get("tool_calls") or ():
                turn.tool_calls.append(
                    (call["function"]["name"], dict(call["function"]["arguments"]))
                )
            turn.content += message.get("content") or ""
        return turn

    def _run(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        _, tool = self.tools[name]
        try:
            data, error = tool(arguments), None
        except ValueError as err:
            data, error = None, str(err)
        return {"role": "tool", "content": json.dumps({"data": data, "error": error})}


def _assistant(turn: Turn) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": turn.content}
    if turn.tool_calls:
        message["tool_calls"] = [
            {"function": {"name": name, "arguments": arguments}}
            for name, arguments in turn.tool_calls
        ]
    return message
