"""Every error key, action field and translation key used in code has an English string."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from homeassistant.util.yaml import load_yaml_dict

from custom_components.ai_provider_hub.api_errors import ERROR_CLASSES
from custom_components.ai_provider_hub.errors import HUB_ERROR_KEYS

from .addon_process import hub_python
from .helpers import translations

ROOT = Path(__file__).parents[2]
INTEGRATION = ROOT / "custom_components" / "ai_provider_hub"


@pytest.fixture(scope="module")
def addon_error_keys() -> set[str]:
    """The add-on's own list of its error keys (``python -m addon.error_keys``)."""
    listed = subprocess.run(
        [hub_python(), "-m", "addon.error_keys"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
        timeout=120,
    )
    keys: list[str] = json.loads(listed.stdout)
    return set(keys)


def test_add_on_keys_are_found(addon_error_keys: set[str]) -> None:
    assert {"circuit_open", "budget_exceeded", "rate_limited", "ledger_error"} <= addon_error_keys


def test_client_classes_cover_exactly_the_add_on_keys(addon_error_keys: set[str]) -> None:
    """A key the add-on gained needs a client class; one it dropped leaves the client too."""
    assert set(ERROR_CLASSES) == addon_error_keys


def test_every_key_is_translated() -> None:
    assert HUB_ERROR_KEYS - set(translations()["exceptions"]) == set()


def test_english_is_the_only_source() -> None:
    """Custom integrations ship translations/en.json; strings.json is a core build input."""
    assert not (INTEGRATION / "strings.json").exists()
    assert translations()["exceptions"]


def test_every_translation_key_in_code_exists() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in INTEGRATION.glob("*.py"))
    used = set(re.findall(r'(?:validation_error|_fetch_error)\(\s*"(\w+)"', source))
    used |= set(re.findall(r'translation_key="(\w+)"', source))
    known = set(translations()["exceptions"]) | set(translations()["entity"]["sensor"])
    assert "empty_prompt" in used
    assert used - known == set()


def test_every_action_field_is_translated() -> None:
    services = load_yaml_dict(str(INTEGRATION / "services.yaml"))
    strings = translations()["services"]
    for action, spec in services.items():
        assert set(spec["fields"]) == set(strings[action]["fields"]), action
