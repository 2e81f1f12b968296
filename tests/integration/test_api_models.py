"""The client's models against the add-on's OpenAPI document: same names, nothing more required."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from homeassistant.util.yaml import load_yaml_dict

from custom_components.ai_provider_hub.api_models import (
    Attempt,
    BudgetWindow,
    GenerationResult,
    Model,
    ProviderInfo,
    ToolCall,
    UsageTotals,
)

OPENAPI = Path(__file__).parents[2] / "addon" / "api" / "openapi.yaml"
# Model -> the schema of the same object in the add-on's OpenAPI document.
MODELS = [
    (GenerationResult, "ChatResponse"),
    (Attempt, "Attempt"),
    (ToolCall, "ToolCall"),
    (UsageTotals, "UsageStats"),
    (ProviderInfo, "ProviderDetails"),
    (BudgetWindow, "BudgetPeriod"),
]


@cache
def schemas() -> dict[str, Any]:
    found: dict[str, Any] = load_yaml_dict(str(OPENAPI))["components"]["schemas"]
    return found


def required_fields(model: type[Model]) -> set[str]:
    missing = dataclasses.MISSING
    return {
        f.name
        for f in dataclasses.fields(model)  # type: ignore[arg-type]
        if f.default is missing and f.default_factory is missing
    }


@pytest.mark.parametrize(("model", "name"), MODELS)
def test_fields_are_documented_properties(model: type[Model], name: str) -> None:
    properties = set(schemas()[name]["properties"])
    assert {f.name for f in dataclasses.fields(model)} - properties == set()  # type: ignore[arg-type]


@pytest.mark.parametrize(("model", "name"), MODELS)
def test_the_model_requires_no_more_than_the_add_on_promises(model: type[Model], name: str) -> None:
    assert required_fields(model) - set(schemas()[name].get("required", [])) == set()


@pytest.mark.parametrize(("model", "name"), MODELS)
def test_what_the_add_on_promises_is_modelled(model: type[Model], name: str) -> None:
    fields = {f.name for f in dataclasses.fields(model)}  # type: ignore[arg-type]
    assert set(schemas()[name].get("required", [])) - fields == set()
