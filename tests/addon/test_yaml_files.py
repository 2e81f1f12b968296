"""The add-on's YAML data files read the same with libyaml's parser as with PyYAML's own."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from addon import yaml_files
from addon.api.openapi import OPENAPI_FILE
from addon.pricing import PRICING_FILE
from addon.providers.traits import TRAITS_FILE


def test_libyaml_is_used_where_pyyaml_has_it() -> None:
    assert yaml_files.SafeLoader is getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@pytest.mark.parametrize("path", [OPENAPI_FILE, PRICING_FILE, TRAITS_FILE], ids=lambda p: p.name)
def test_a_data_file_reads_the_same_with_either_parser(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert yaml_files.safe_load(text) == yaml.safe_load(text)


def test_a_malformed_file_is_a_yaml_error() -> None:
    with pytest.raises(yaml.YAMLError):
        yaml_files.safe_load("a: [1, 2")
