"""The quality scale file is well formed, and the claims that code can show hold."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from homeassistant.util.yaml import load_yaml_dict

from custom_components.ai_provider_hub import PLATFORMS

from .helpers import translations

INTEGRATION = Path(__file__).parents[2] / "custom_components" / "ai_provider_hub"


def rules() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml_dict(str(INTEGRATION / "quality_scale.yaml"))["rules"]
    return data


def status(rule: str) -> str:
    value = rules()[rule]
    return str(value["status"] if isinstance(value, dict) else value)


def test_every_rule_has_a_status_and_exemptions_a_reason() -> None:
    for name, value in rules().items():
        entry = value if isinstance(value, dict) else {"status": value}
        assert entry["status"] in ("done", "todo", "exempt"), name
        if entry["status"] == "exempt":
            assert entry.get("comment"), name


@pytest.mark.parametrize("platform", [str(p) for p in PLATFORMS])
def test_parallel_updates_on_every_platform(platform: str) -> None:
    assert status("parallel-updates") == "done"
    module = importlib.import_module(f"custom_components.ai_provider_hub.{platform}")
    assert isinstance(getattr(module, "PARALLEL_UPDATES", None), int)


def test_manifest_and_brand() -> None:
    manifest = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["requirements"] == []
    assert manifest["iot_class"] == "local_polling"
    assert manifest["version"]
    assert (INTEGRATION / "brand" / "icon.png").stat().st_size > 0
    assert (INTEGRATION / "icons.json").exists()


def test_repair_issues_claim() -> None:
    """Every alert the integration raises is a translated issue; the fixable one has a flow."""
    assert status("repair-issues") == "done"
    source = (INTEGRATION / "alerts.py").read_text(encoding="utf-8")
    kinds = set(re.findall(r'Alert\(\s*"(\w+)"', source))
    assert kinds == {"key_rejected", "provider_down", "budget_warning", "budget_exhausted"}
    issues = translations()["issues"]
    assert kinds <= set(issues)
    assert "fix_flow" in issues["key_rejected"]
    assert all("description" in issues[k] for k in kinds - {"key_rejected"})
