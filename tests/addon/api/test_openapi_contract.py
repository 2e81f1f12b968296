"""The OpenAPI document and the code agree: error keys both ways, undeclared methods are 405
``method_not_allowed`` on every route, and no schema hides a YAML slip (an unquoted comma in a
flow mapping turns words into keys)."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest

import addon
from addon import errors
from addon.api.openapi import openapi_document
from tests.conftest import AUTH, HubClientFactory

HTTP_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH")
SCHEMA_KEYWORDS = frozenset(
    {
        "type",
        "description",
        "enum",
        "items",
        "properties",
        "required",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minProperties",
        "maxProperties",
        "contains",
        "pattern",
        "format",
        "oneOf",
        "anyOf",
        "allOf",
        "$ref",
        "additionalProperties",
        "default",
        "const",
        "nullable",
        "examples",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "not",
        "title",
        "contentMediaType",
        "discriminator",
    }
)


def every_error_key() -> set[str]:
    """The key of every ``HubError`` subclass anywhere in the add-on."""
    for module in pkgutil.walk_packages(addon.__path__, "addon."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    keys: set[str] = set()
    pending: list[type[errors.HubError]] = [errors.HubError]
    while pending:
        cls = pending.pop()
        keys.add(cls.key)
        pending.extend(cls.__subclasses__())
    return keys


def documented_keys() -> set[str]:
    error = openapi_document()["components"]["schemas"]["Error"]["properties"]["error"]
    return set(error["properties"]["key"]["enum"])


def test_error_keys_are_documented_both_ways() -> None:
    assert documented_keys() == every_error_key()


def schemas(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every schema object under ``node`` (properties, items, combinators), with its path."""
    found: list[tuple[str, dict[str, Any]]] = []
    if not isinstance(node, dict):
        return found
    found.append((path, node))
    for name, child in (node.get("properties") or {}).items():
        found += schemas(child, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        found += schemas(node.get(key), f"{path}.{key}")
    for key in ("oneOf", "anyOf", "allOf"):
        for index, child in enumerate(node.get(key) or []):
            found += schemas(child, f"{path}.{key}[{index}]")
    return found


def test_every_schema_uses_only_schema_keywords() -> None:
    document = openapi_document()
    roots = list(document["components"]["schemas"].items())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                roots.append((f"{method} {path} {media}", content.get("schema")))
    wrong = [
        f"{root}{where}: {sorted(set(node) - SCHEMA_KEYWORDS)}"
        for root, schema in roots
        for where, node in schemas(schema)
        if set(node) - SCHEMA_KEYWORDS or None in node.values()
    ]
    assert not wrong, "\n".join(wrong)


async def test_undeclared_methods_are_405_on_every_route(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    served: dict[str, set[str]] = {}
    for route in client.app.router.routes():
        if route.resource is not None and route.method != "HEAD":
            served.setdefault(route.resource.canonical, set()).add(route.method)
    wrong = []
    for template, methods in sorted(served.items()):
        path = template.replace("{name}", "openai").replace("{file}", "app.js")
        for method in sorted(set(HTTP_METHODS) - methods):
            response = await client.request(method, path, headers=AUTH)
            body = await response.json()
            error = body["error"]
            key = error.get("code") if path.startswith("/v1/") else error.get("key")
            allow = set(response.headers.get("Allow", "").replace(" ", "").split(","))
            if response.status != 405 or key != "method_not_allowed" or not methods <= allow:
                wrong.append(f"{method} {path}: {response.status} {key} {allow}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", ["/api/v1/chat", "/v1/chat/completions"])
async def test_a_405_names_the_allowed_methods(hub_client: HubClientFactory, path: str) -> None:
    client = await hub_client()
    response = await client.delete(path, headers=AUTH)
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert "POST" in (await response.json())["error"]["message"]
