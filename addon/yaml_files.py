"""Reading the add-on's YAML data files with libyaml's parser when PyYAML has it.

PyYAML's pure-Python parser takes about 0.6 s of CPU for the OpenAPI document alone (seconds on
a busy small machine, on the event loop of the first request that needs it); libyaml's, which
the PyYAML wheels ship, about a seventh. Both build the same data (a test compares them).
"""

from __future__ import annotations

from typing import Any, Final

import yaml

SafeLoader: Final[type[yaml.SafeLoader]] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)``, with libyaml's parser when available."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader
