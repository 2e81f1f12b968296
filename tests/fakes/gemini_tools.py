"""Gemini's function calling on the REST wire, for ``FakeGemini``.

Definitions are ``tools: [{"functionDeclarations": [{name, description, parameters}]}]``:
names start with a letter or ``_`` (then letters, digits, ``_ . : -``, 64 at most) and
``parameters`` is Gemini's OpenAPI-style ``Schema`` subset (upper-case ``type``, string
``enum`` values, non-empty ``properties`` for an ``OBJECT``, ``items`` for an ``ARRAY``, no
other keyword: the API answers "Unknown name ... Cannot find field"); ``parametersJsonSchema``
takes plain JSON schema instead. ``toolConfig.functionCallingConfig`` says ``mode`` (AUTO, ANY,
NONE) and, with ANY, ``allowedFunctionNames``. The model answers with ``functionCall`` parts
(``name``, ``args``; no ids) in one chunk of a stream, and Gemini 3 models sign the first call
of a turn (``thoughtSignature``) and refuse a replayed call turn of the current turn without a
signature, unless it carries Google's documented ``skip_thought_signature_validator``. Results
come back as ``functionResponse`` parts (``name``, ``response`` object) in the next user turn,
as many as there were calls.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, Final

from tests.fakes.tools import Choice, ToolPlan, plan_calls

NAME: Final = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$")
SCHEMA_FIELDS: Final = frozenset(
    {
        "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
        "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
        "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum",
        "maximum",
        # Proto JSON also takes the fields' proto names (the SDK sends these).
        "max_items", "min_items", "min_properties", "max_properties", "min_length",
        "max_length", "any_of", "property_ordering",
    }
)  # fmt: skip
TYPES: Final = frozenset({"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"})
SKIP_SIGNATURE: Final = b"skip_thought_signature_validator"
_MODES: Final = {"AUTO": Choice.AUTO, "ANY": Choice.REQUIRED, "NONE": Choice.NONE}
MISSING_SIGNATURE: Final = (
    "Function call is missing a thought_signature in functionCall parts. This is required for "
    "tools to work correctly, and missing thought_signature may lead to degraded model "
    "performance. Additional data, function call `default_api:{name}`, position {position}. "
    "Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
)


def signs_calls(model: str) -> bool:
    """Gemini 3 models sign their function calls and check the signatures."""
    return model.startswith("gemini-3")


def declaration_problem(body: Mapping[str, Any]) -> str | None:
    """The 400 for tool declarations the API refuses, else None."""
    for t, tool in enumerate(body.get("tools") or []):
        for d, declaration in enumerate(tool.get("functionDeclarations") or []):
            where = f"tools[{t}].function_declarations[{d}]"
            name = str(declaration.get("name", ""))
            if not NAME.match(name):
                return (
                    f"* GenerateContentRequest.{where}.name: Invalid function name. Must start "
                    "with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), "
                    "underscores (_), dots (.), colons (:) or dashes (-), with a maximum "
                    "length of 64.\n"
                )
            if "parameters" in declaration and "parametersJsonSchema" in declaration:
                return (
                    f"* GenerateContentRequest.{where}: parameters and parameters_json_schema "
                    "are mutually exclusive\n"
                )
            if "parameters" in declaration:
                problem = _schema_problem(declaration["parameters"], f"{where}.parameters")
                if problem:
                    return problem
    return None


def _schema_problem(schema: Any, where: str) -> str | None:
    if not isinstance(schema, Mapping):
        return f"Invalid value at '{where}' (google.ai.generativelanguage.v1beta.Schema)"
    for key in schema:
        if key not in SCHEMA_FIELDS:
            return (
                f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': "
                "Cannot find field."
            )
    kind = schema.get("type")
    if kind is not None and kind not in TYPES:
        return (
            f"Invalid value at '{where}.type' "
            f'(type.googleapis.com/google.ai.generativelanguage.v1beta.Type), "{kind}"'
        )
    for index, value in enumerate(schema.get("enum") or []):
        if not isinstance(value, str):
            return f"Invalid value at '{where}.enum[{index}]' (TYPE_STRING), {value}"
    if kind == "OBJECT" and not schema.get("properties"):
        return f"* GenerateContentRequest.{where}.properties: should be non-empty for OBJECT type\n"
    if kind == "ARRAY" and "items" not in schema:
        return f"* GenerateContentRequest.{where}.items: missing field.\n"
    children = [
        (f"{where}.properties[{i}].value", child)
        for i, child in enumerate((schema.get("properties") or {}).values())
    ]
    variants = schema.get("anyOf") or schema.get("any_of") or []
    children += [(f"{where}.any_of[{i}]", child) for i, child in enumerate(variants)]
    if "items" in schema:
        children.append((f"{where}.items", schema["items"]))
    return next((p for path, child in children if (p := _schema_problem(child, path))), None)


def config_problem(body: Mapping[str, Any]) -> str | None:
    """The 400 for a ``toolConfig`` the API refuses, else None."""
    calling = (body.get("toolConfig") or {}).get("functionCallingConfig")
    if calling is None:
        return None
    mode = calling.get("mode", "AUTO")
    if mode not in (*_MODES, "VALIDATED", "MODE_UNSPECIFIED"):
        return f"Invalid value at 'tool_config.function_calling_config.mode', \"{mode}\""
    allowed = calling.get("allowedFunctionNames")
    if allowed and mode != "ANY":
        return (
            "* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: "
            "allowed_function_names can only be set when mode is ANY.\n"
        )
    unknown = [name for name in allowed or [] if name not in offered_tools(body)]
    if unknown:
        return (
            "* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: "
            f"function {unknown[0]} is not declared.\n"
        )
    return None


def history_problem(contents: Sequence[Mapping[str, Any]]) -> str | None:
    """Every call turn answered by as many ``functionResponse`` parts in the next turn."""
    calls: list[str] = []
    for index, content in enumerate(contents):
        parts = content.get("parts") or []
        responses = [p["functionResponse"] for p in parts if "functionResponse" in p]
        if responses and not calls:
            return (
                "Please ensure that function response turn comes immediately after a function "
                "call turn."
            )
        if calls and len(responses) != len(calls):
            return (
                "Please ensure that the number of function response parts is equal to the "
                "number of function call parts of the function call turn."
            )
        for number, response in enumerate(responses):
            if not response.get("name"):
                return (
                    f"* GenerateContentRequest.contents[{index}].parts[{number}].function_response"
                    ".name: Name cannot be empty.\n"
                )
        calls = [p["functionCall"].get("name", "") for p in parts if "functionCall" in p]
    return None


def signature_problem(contents: Sequence[Mapping[str, Any]], issued: set[bytes]) -> str | None:
    """Gemini 3: in the current turn, each call turn's first call carries a valid signature."""
    current = 0
    for index, content in enumerate(contents):
        parts = content.get("parts") or []
        if content.get("role", "user") == "user" and any("text" in p for p in parts):
            current = index
    for content in contents[current:]:
        calls = [(i, p) for i, p in enumerate(content.get("parts") or []) if "functionCall" in p]
        if not calls:
            continue
        position, first = calls[0]
        signature = first.get("thoughtSignature")
        if signature is None:
            name = first["functionCall"].get("name", "")
            return MISSING_SIGNATURE.format(name=name, position=position)
        if decode_signature(signature) not in issued | {SKIP_SIGNATURE}:
            return "Corrupted thought signature."
    return None


def decode_signature(signature: str) -> bytes:
    """The bytes of a ``thoughtSignature`` (base64, standard or URL-safe, padded or not)."""
    try:
        return base64.b64decode(signature + "=" * (-len(signature) % 4), altchars=b"-_")
    except ValueError:
        return b""


def offered_tools(body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Function name -> parameters (Gemini ``Schema`` or JSON schema), as declared."""
    return {
        str(d.get("name")): d.get("parameters") or d.get("parametersJsonSchema") or {}
        for tool in body.get("tools") or []
        for d in tool.get("functionDeclarations") or []
    }


def planned_calls(body: Mapping[str, Any], script: Sequence[ToolPlan]) -> list[ToolPlan]:
    """The calls the model makes for ``body``."""
    calling = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
    allowed = calling.get("allowedFunctionNames") or []
    mode = _MODES.get(calling.get("mode", "AUTO"), Choice.AUTO)
    forced = allowed[0] if mode is Choice.REQUIRED and len(allowed) == 1 else None
    last = (body.get("contents") or [{}])[-1].get("parts") or []
    return plan_calls(
        offered_tools(body),
        script,
        choice=Choice.TOOL if forced else mode,
        forced=forced,
        answered=any("functionResponse" in part for part in last),
    )


def call_parts(plans: Sequence[ToolPlan], model: str, issued: set[bytes]) -> list[dict[str, Any]]:
    """``functionCall`` parts for ``plans``; Gemini 3 signs the first one."""
    parts: list[dict[str, Any]] = []
    for index, plan in enumerate(plans):
        part: dict[str, Any] = {"functionCall": {"name": plan.name, "args": dict(plan.arguments)}}
        if index == 0 and signs_calls(model):
            signature = secrets.token_bytes(48)
            issued.add(signature)
            part["thoughtSignature"] = base64.b64encode(signature).decode()
        parts.append(part)
    return parts
