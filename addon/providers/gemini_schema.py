"""Tool parameters as people write them (JSON schema) -> the subset Gemini takes, and back.

Gemini's ``FunctionDeclaration.parameters`` is an OpenAPI-3.0-style ``Schema``: ``type`` (upper
case), ``format``, ``description``, ``nullable``, ``enum`` (strings), ``properties``,
``required``, ``items``, ``anyOf``, ``minItems``/``maxItems``, ``minimum``/``maximum``,
``minLength``/``maxLength``, ``pattern``, ``minProperties``/``maxProperties``; anything else
is a 400. Home Assistant's LLM API emits full JSON schema (from voluptuous), so each schema is
adapted the way Home Assistant's own Gemini integration does it, and what the adaptation
changes is undone on the model's arguments (``Restorer``), so callers get the values their
schema describes:

* ``$ref`` is inlined from ``$defs``/``definitions``; ``allOf`` is merged; ``oneOf`` becomes
  ``anyOf``; ``[X, null]`` types and ``null`` variants become ``nullable``;
* ``const`` becomes a one-value ``enum``; an enum of numbers or booleans is sent as strings
  (Gemini's enums are strings) and mapped back to the original values;
* an object without ``properties`` (free-form, e.g. ``additionalProperties: true``), an array
  without ``items`` and a schema without any type are sent as a string holding JSON, and
  decoded back; a tool whose whole parameters are free-form takes one ``json`` argument;
* ``format`` is kept only where Gemini knows it (``enum``, ``date-time``; ``float``,
  ``double``; ``int32``, ``int64``); ``default``, exclusive bounds, ``multipleOf``,
  ``uniqueItems`` and unknown formats are folded into the description; other keywords
  (``title``, ``examples``, ``additionalProperties``, ``$schema``...) are dropped;
* what cannot be expressed (a recursive or external ``$ref``) is a capability miss: another
  vendor may serve the request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from addon.errors import ProviderCapabilityError
from addon.models import ToolSpec
from addon.providers.tooling import object_schema

FORMATS: Final[Mapping[str, frozenset[str]]] = {
    "string": frozenset({"enum", "date-time"}),
    "number": frozenset({"float", "double"}),
    "integer": frozenset({"int32", "int64"}),
}
KEPT: Final[Mapping[str, str]] = {
    "minimum": "minimum",
    "maximum": "maximum",
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "minItems": "min_items",
    "maxItems": "max_items",
    "minProperties": "min_properties",
    "maxProperties": "max_properties",
}
FOLDED: Final[Mapping[str, str]] = {
    "default": "default: {}",
    "exclusiveMinimum": "greater than {}",
    "exclusiveMaximum": "less than {}",
    "multipleOf": "a multiple of {}",
    "uniqueItems": "unique items: {}",
}
TYPES: Final = frozenset({"string", "number", "integer", "boolean", "array", "object"})
JSON_ARGUMENT: Final = "json"


@dataclass(frozen=True, slots=True)
class Restorer:
    """Undoes the adaptation on a value the model produced for the adapted schema."""

    decode: bool = False  # sent as a string holding JSON
    choices: Mapping[str, Any] | None = None  # enum value as sent -> the original value
    properties: Mapping[str, Restorer] = field(default_factory=dict)
    items: Restorer | None = None
    unwrap: str | None = None  # the root: the arguments are this one JSON argument

    @property
    def needed(self) -> bool:
        """False when values pass through unchanged."""
        return bool(self.decode or self.choices or self.properties or self.items or self.unwrap)

    def restore(self, value: Any) -> Any:
        """``value`` as the caller's schema describes it."""
        if self.unwrap is not None and isinstance(value, Mapping):
            decoded = _decode(value.get(self.unwrap, "{}"))
            return decoded if isinstance(decoded, dict) else {}
        if self.decode and isinstance(value, str):
            return _decode(value)
        if self.choices is not None and isinstance(value, str):
            return self.choices.get(value, value)
        if self.properties and isinstance(value, Mapping):
            return {
                key: self.properties[key].restore(item) if key in self.properties else item
                for key, item in value.items()
            }
        if self.items is not None and isinstance(value, list):
            return [self.items.restore(item) for item in value]
        return value


NOTHING: Final = Restorer()
JSON_STRING: Final = Restorer(decode=True)


def gemini_parameters(spec: ToolSpec, *, where: str) -> tuple[dict[str, Any] | None, Restorer]:
    """Gemini ``Schema`` fields (snake case, for ``types.Schema``) for the tool's parameters."""
    converter = _Converter(spec, where)
    root, refs = converter.resolve(object_schema(spec, where=where), ())
    if root.get("properties"):
        return converter.node(root, refs)
    if root.get("additionalProperties"):
        argument = {"type": "STRING", "description": "All arguments, as one JSON object"}
        schema = {"type": "OBJECT", "properties": {JSON_ARGUMENT: argument}}
        return {**schema, "required": [JSON_ARGUMENT]}, Restorer(unwrap=JSON_ARGUMENT)
    return None, NOTHING


Refs = tuple[str, ...]  # the $refs followed to reach a schema (to stop at a recursion)
Adapted = tuple[dict[str, Any], Restorer]


class _Converter:
    """One tool's conversion: its definitions, and what to name when something fails."""

    def __init__(self, spec: ToolSpec, where: str) -> None:
        parameters = spec.parameters
        self.defs = {**parameters.get("definitions", {}), **parameters.get("$defs", {})}
        self.tool = spec.name
        self.where = where

    def resolve(self, schema: Any, refs: Refs) -> tuple[dict[str, Any], Refs]:
        """``schema`` with ``$ref`` inlined and ``allOf`` merged (at this level)."""
        if not isinstance(schema, Mapping):
            return {}, refs
        node = dict(schema)
        while "$ref" in node:
            ref = str(node.pop("$ref"))
            node = {**self._target(ref, refs), **node}
            refs = (*refs, ref)
        for part in node.pop("allOf", ()):
            merged, refs = self.resolve(part, refs)
            _merge(node, merged)
        return node, refs

    def node(self, schema: Mapping[str, Any], refs: Refs) -> Adapted:
        """One adapted schema and the restorer of its values."""
        kinds = schema.get("type")
        kinds = list(kinds) if isinstance(kinds, list) else [kinds] if kinds else []
        nullable = "null" in kinds
        kinds = [k for k in kinds if k != "null"]
        variants = schema.get("anyOf", schema.get("oneOf"))
        if variants is not None:
            return self._variants(schema, list(variants), refs, nullable)
        if len(kinds) > 1:
            return self._variants(schema, [{"type": k} for k in kinds], refs, nullable)
        kind = kinds[0] if kinds else _infer(schema)
        if "const" in schema or "enum" in schema:
            out, restorer = _enum(schema)
        elif kind == "object" and schema.get("properties"):
            out, restorer = self._object(schema, refs)
        elif kind == "array":
            out, restorer = self._array(schema, refs)
        elif kind in TYPES - {"object", "array"}:
            out, restorer = {"type": str(kind).upper()}, NOTHING
        else:  # a free-form object, or no type at all: JSON in a string
            what = "a JSON object" if kind == "object" else "any JSON value"
            out, restorer = {"type": "STRING", "_note": f"{what} as a string"}, JSON_STRING
        if nullable or None in (schema.get("enum") or ()):
            out["nullable"] = True
        return _annotate(out, schema, kind), restorer

    def _object(self, schema: Mapping[str, Any], refs: Refs) -> Adapted:
        properties: dict[str, Any] = {}
        restorers: dict[str, Restorer] = {}
        for name, child in schema["properties"].items():
            properties[name], restorer = self.node(*self.resolve(child, refs))
            if restorer.needed:
                restorers[name] = restorer
        out: dict[str, Any] = {"type": "OBJECT", "properties": properties}
        required = [name for name in schema.get("required", ()) if name in properties]
        if required:
            out["required"] = required
        return out, Restorer(properties=restorers) if restorers else NOTHING

    def _array(self, schema: Mapping[str, Any], refs: Refs) -> Adapted:
        items = schema.get("items") or (schema.get("prefixItems") or [None])[0]
        if isinstance(items, list):  # the old tuple form: the first item speaks for all
            items = items[0] if items else None
        item, restorer = self.node(*self.resolve(items or {}, refs))
        return {"type": "ARRAY", "items": item}, (
            Restorer(items=restorer) if restorer.needed else NOTHING
        )

    def _variants(
        self, schema: Mapping[str, Any], variants: list[Any], refs: Refs, nullable: bool
    ) -> Adapted:
        resolved = [self.resolve(variant, refs) for variant in variants]
        nullable = nullable or any(v.get("type") == "null" for v, _ in resolved)
        rest = [(v, r) for v, r in resolved if v.get("type") != "null"]
        base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf", "type")}
        if len(rest) == 1:
            out, restorer = self.node({**rest[0][0], **base}, rest[0][1])
        else:
            # Which variant the model chose is unknown, so its values pass unchanged.
            choices = [self.node(v, r)[0] for v, r in rest] or [{"type": "STRING"}]
            out, restorer = _annotate({"any_of": choices}, base, None), NOTHING
        if nullable:
            out["nullable"] = True
        return out, restorer

    def _target(self, ref: str, refs: Refs) -> Mapping[str, Any]:
        name = ref.rsplit("/", 1)[-1]
        if ref in refs or ref == "#":
            raise self._miss(f"the recursive $ref {ref!r}")
        if not ref.startswith(("#/$defs/", "#/definitions/")) or name not in self.defs:
            raise self._miss(f"the $ref {ref!r} (only local #/$defs/... references)")
        target = self.defs[name]
        return target if isinstance(target, Mapping) else {}

    def _miss(self, what: str) -> ProviderCapabilityError:
        return ProviderCapabilityError(
            f"Gemini cannot take {what} in {self.where}.parameters (tool {self.tool!r})"
        )


def _infer(schema: Mapping[str, Any]) -> str | None:
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return None


def _enum(schema: Mapping[str, Any]) -> tuple[dict[str, Any], Restorer]:
    values = [schema["const"]] if "const" in schema else list(schema["enum"])
    values = [v for v in values if v is not None]
    wire = [v if isinstance(v, str) else json.dumps(v) for v in values]
    if all(isinstance(v, str) for v in values):
        return {"type": "STRING", "format": "enum", "enum": wire}, NOTHING
    return (
        {"type": "STRING", "format": "enum", "enum": wire},
        Restorer(choices=dict(zip(wire, values, strict=True))),
    )


def _annotate(out: dict[str, Any], schema: Mapping[str, Any], kind: str | None) -> dict[str, Any]:
    """Kept keywords, a format Gemini knows, and the rest folded into the description."""
    notes = [note] if (note := out.pop("_note", None)) else []
    for key, name in KEPT.items():
        if isinstance(schema.get(key), int | float | str) and not isinstance(schema[key], bool):
            out[name] = schema[key]
    notes += [text.format(json.dumps(schema[key])) for key, text in FOLDED.items() if key in schema]
    form = schema.get("format")
    if isinstance(form, str) and "format" not in out:
        if form in FORMATS.get(str(kind), frozenset()):
            out["format"] = form
        else:
            notes.append(f"format: {form}")
    description = str(schema.get("description") or "").strip()
    if notes:
        joined = "; ".join(notes)
        description = f"{description} ({joined})" if description else joined
    if description:
        out["description"] = description
    return out


def _merge(into: dict[str, Any], part: Mapping[str, Any]) -> None:
    """``allOf``: properties and required are joined, the first word on anything else wins."""
    for key, value in part.items():
        if key == "properties":
            properties = dict(into.get("properties", {}))
            for name, child in value.items():
                properties.setdefault(name, child)
            into["properties"] = properties
        elif key == "required":
            into["required"] = [*into.get("required", []), *value]
        else:
            into.setdefault(key, value)


def _decode(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
