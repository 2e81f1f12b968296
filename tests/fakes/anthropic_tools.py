"""Anthropic's client tools on the Messages wire, for ``FakeAnthropic``.

Definitions are ``tools: [{name, description, input_schema}]`` (names match
``^[a-zA-Z0-9_-]{1,64}$``, ``input_schema`` is an object schema); ``tool_choice`` is ``{"type":
"auto" | "any" | "tool" | "none"}`` (``name`` with ``tool``), with ``disable_parallel_tool_use``
for at most one call, and only allowed with ``tools``. The model answers with ``tool_use``
content blocks (``id`` matching ``^[a-zA-Z0-9_-]+$``, ``name``, ``input`` object) and
``stop_reason: "tool_use"``; a stream opens each block with an empty ``input`` and sends the
input as ``input_json_delta`` fragments. Results go back in the next ``user`` message as
``tool_result`` blocks, one per ``tool_use`` of the assistant message right before it, and a
result must answer one of those. The 400s below are the API's own wording.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Mapping, Sequence
from typing import Any

from tests.fakes.tools import Choice, ToolPlan, plan_calls

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
TOOL_USE_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
_CHOICES = {"auto": Choice.AUTO, "any": Choice.REQUIRED, "tool": Choice.TOOL, "none": Choice.NONE}
_ID_ALPHABET = string.ascii_letters + string.digits


def choice_problem(body: Mapping[str, Any]) -> str | None:
    """The 400 for a ``tool_choice`` the API refuses, else None."""
    choice = body.get("tool_choice")
    if choice is None:
        return None
    if not body.get("tools") and isinstance(choice, dict) and choice.get("type") != "none":
        return "tool_choice: tool_choice may only be specified while providing tools"
    if not isinstance(choice, dict) or choice.get("type") not in _CHOICES:
        return (
            "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', "
            "'tool', 'none'"
        )
    parallel = choice.get("disable_parallel_tool_use")
    if parallel is not None and (choice["type"] == "none" or not isinstance(parallel, bool)):
        return "tool_choice.none.disable_parallel_tool_use: Extra inputs are not permitted"
    return None


def name_problem(index: int, tool: Mapping[str, Any]) -> str | None:
    """The 400 for a tool name the API refuses, else None."""
    if NAME.match(str(tool.get("name", ""))):
        return None
    return f"tools.{index}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"


def history_problem(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """Every ``tool_use`` answered in the next user message, every ``tool_result`` matched."""
    previous: set[str] = set()
    for index, message in enumerate(messages):
        blocks = message.get("content")
        blocks = blocks if isinstance(blocks, list) else []
        results = [b for b in blocks if b.get("type") == "tool_result"]
        for number, block in enumerate(results):
            if block.get("tool_use_id") not in previous:
                return (
                    f"messages.{index}.content.{number}: unexpected `tool_use_id` found in "
                    f"`tool_result` blocks: {block.get('tool_use_id')}. Each `tool_result` block "
                    "must have a corresponding `tool_use` block in the previous message."
                )
        missing = sorted(previous - {str(b.get("tool_use_id")) for b in results})
        if missing:
            return (
                f"messages.{index - 1}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
                "corresponding `tool_result` block in the next message."
            )
        uses = [b for b in blocks if b.get("type") == "tool_use"]
        for number, block in enumerate(uses):
            if not TOOL_USE_ID.match(str(block.get("id", ""))):
                return (
                    f"messages.{index}.content.{number}.tool_use.id: String should match "
                    "pattern '^[a-zA-Z0-9_-]+$'"
                )
        previous = {str(b.get("id")) for b in uses}
    if previous:
        return (
            f"messages.{len(messages) - 1}: `tool_use` ids were found without `tool_result` "
            f"blocks immediately after: {', '.join(sorted(previous))}. Each `tool_use` block "
            "must have a corresponding `tool_result` block in the next message."
        )
    return None


def planned_calls(body: Mapping[str, Any], script: Sequence[ToolPlan]) -> list[ToolPlan]:
    """The calls the model makes for ``body``."""
    choice = body.get("tool_choice") or {"type": "auto"}
    offered = {str(t["name"]): t.get("input_schema") or {} for t in body.get("tools", [])}
    last = (body.get("messages") or [{}])[-1].get("content")
    answered = isinstance(last, list) and any(b.get("type") == "tool_result" for b in last)
    return plan_calls(
        offered,
        script,
        choice=_CHOICES[choice["type"]],
        forced=choice.get("name"),
        parallel=not choice.get("disable_parallel_tool_use", False),
        answered=answered,
    )


def tool_use_blocks(plans: Sequence[ToolPlan]) -> list[dict[str, Any]]:
    """``tool_use`` content blocks for ``plans`` (ids as Anthropic makes them)."""
    return [
        {
            "type": "tool_use",
            "id": plan.id or "toolu_01" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(22)),
            "name": plan.name,
            "input": dict(plan.arguments),
        }
        for plan in plans
    ]


def legacy_plans(tool_uses: Sequence[tuple[str, Mapping[str, Any]]]) -> list[ToolPlan]:
    """Plans from ``FakeAnthropic.tool_uses`` (the older way to steer), numbered ids."""
    return [
        ToolPlan(name, dict(arguments), id=f"toolu_fake{number:04d}")
        for number, (name, arguments) in enumerate(tool_uses, start=1)
    ]
