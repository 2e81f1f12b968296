"""The add-on's list of error keys (read by the integration's tests) is complete and exact."""

from __future__ import annotations

import ast
from pathlib import Path

from addon.error_keys import error_keys

ADDON = Path(__file__).parents[2] / "addon"


def class_key_attributes() -> set[str]:
    """Every ``key = "..."`` written in a class body anywhere in the add-on's source."""
    found: set[str] = set()
    for source in ADDON.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            for statement in node.body:
                match statement:
                    case ast.Assign(
                        targets=[ast.Name(id="key")], value=ast.Constant(value=str() as key)
                    ):
                        found.add(key)
    return found


def test_keys_equal_the_class_attributes_in_the_source() -> None:
    assert error_keys() == class_key_attributes()


def test_keys_outside_errors_module_are_found() -> None:
    assert {"forbidden", "ledger_error", "supervisor_error", "credentials_unreadable"} <= (
        error_keys()
    )
    assert "internal_error" in error_keys()  # the root's own key
