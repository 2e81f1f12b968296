"""Every error key, action field and translation key used in code has an English string."""

from __future__ import annotations

import re
from pathlib import Path

from homeassistant.util.yaml import load_yaml_dict

from addon import errors as addon_errors
from custom_components.ai_provider_hub.api import ERROR_CLASSES
from custom_components.ai_provider_hub.errors import HUB_ERROR_KEYS

from .helpers import translations

ROOT = Path(__file__).parents[2]
INTEGRATION = ROOT / "custom_components" / "ai_provider_hub"
# ``key = "..."`` class attributes anywhere in the add-on (errors outside addon/errors.py too);
# exactly one indent, so a function's local ``key = "..."`` is not one.
KEY_ATTRIBUTE = re.compile(r'^    key = "(\w+)"', re.MULTILINE)


def addon_error_keys() -> set[str]:
    found: set[str] = set()
    pending: list[type[addon_errors.HubError]] = [addon_errors.HubError]
    while pending:
        cls = pending.pop()
        found.add(cls.key)
        pending.extend(cls.__subclasses__())
    for source in (ROOT / "addon").rglob("*.py"):
        found.update(KEY_ATTRIBUTE.findall(source.read_text(encoding="utf-8")))
    return found


def test_add_on_keys_are_found() -> None:
    keys = addon_error_keys()
    assert {"circuit_open", "budget_exceeded", "rate_limited", "ledger_error"} <= keys


def test_english_is_the_only_source() -> None:
    """Custom integrations ship translations/en.json; strings.json is a core build input."""
    assert not (INTEGRATION / "strings.json").exists()
    assert translations()["exceptions"]


def test_every_add_on_error_key_is_translated() -> None:
    exceptions = translations()["exceptions"]
    missing = {k for k in addon_error_keys() if k not in HUB_ERROR_KEYS or k not in exceptions}
    assert missing == set()


def test_every_add_on_error_key_has_a_client_class() -> None:
    assert addon_error_keys() - set(ERROR_CLASSES) == set()


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
