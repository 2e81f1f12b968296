"""Tool calling shared by the vendor fakes: what the simulated model decides to call.

Every vendor has its own wire format for tool definitions, calls and results (each fake maps
them in its own module); what a model *does* with the tools it is offered is the same
everywhere, and a test steers it here:

* ``FakeServer.script_tools(ToolPlan("turn_on", {"entity_id": "light.porch"}), ...)`` lists the
  calls the model makes when it may (several calls = a parallel turn);
* the model calls only tools the request offers, never when told ``none``, calls the forced
  tool (with arguments made from its schema when the script has none for it), calls some tool
  when a call is required, makes one call at most when parallel calls are off;
* once results came back (the last turn holds tool results) and the model may choose, it
  answers in text: that is the end of a round trip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Choice(StrEnum):
    """How the request told the model to use its tools (vendor wording normalised)."""

    AUTO = "auto"
    NONE = "none"
    REQUIRED = "required"
    TOOL = "tool"


@dataclass(frozen=True)
class ToolPlan:
    """One call the simulated model makes: the tool, its arguments, optionally its id."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None


def plan_calls(
    offered: Mapping[str, Mapping[str, Any]],
    script: Sequence[ToolPlan],
    *,
    choice: Choice = Choice.AUTO,
    forced: str | None = None,
    parallel: bool = True,
    answered: bool = False,
) -> list[ToolPlan]:
    """The calls the model makes. ``offered`` maps tool names to their parameter schemas."""
    if choice is Choice.NONE or not offered:
        return []
    if choice is Choice.AUTO and answered:
        return []
    calls = [call for call in script if call.name in offered]
    if choice is Choice.TOOL and forced is not None and forced in offered:
        calls = [call for call in calls if call.name == forced] or [
            ToolPlan(forced, example_value(offered[forced]))
        ]
    elif choice is not Choice.AUTO and not calls:
        first = next(iter(offered))
        calls = [ToolPlan(first, example_value(offered[first]))]
    return calls[:1] if not parallel else calls


def example_value(schema: Any, root: Mapping[str, Any] | None = None) -> Any:
    """A minimal value valid for a JSON schema (or Gemini's OpenAPI-style ``Schema``)."""
    if not isinstance(schema, Mapping):
        return None
    root = schema if root is None else root
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        defs = {**root.get("definitions", {}), **root.get("$defs", {})}
        return example_value(defs.get(name, {}), root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf", "any_of"):
        if schema.get(key):
            return example_value(schema[key][0], root)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    kind = str(kind).lower()
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            name: example_value(properties.get(name, {}), root)
            for name in schema.get("required", [])
        }
    if kind == "array":
        minimum = int(schema.get("minItems", schema.get("min_items", 0)))
        return [example_value(schema.get("items", {}), root) for _ in range(minimum)]
    samples: dict[str, Any] = {"string": "example", "integer": 0, "number": 0, "boolean": False}
    return samples.get(kind)


def split_json(value: Any, pieces: int) -> list[str]:
    """``value`` as JSON cut into ``pieces`` fragments (how vendors stream call arguments)."""
    text = json.dumps(value)
    count = max(1, min(pieces, len(text)))
    size = -(-len(text) // count)
    return [text[i : i + size] for i in range(0, len(text), size)]
