"""Every error key the hub can answer with, as JSON: ``python -m addon.error_keys``.

The keys live on the ``HubError`` classes: most in ``addon/errors.py``, a few beside the module
that owns the error. This imports the whole package and walks the class tree, so none is missed;
the integration's tests read the list, so that its client and its translations cover exactly
the add-on's keys (one source, no hand copy).
"""

from __future__ import annotations

import importlib
import json
import pkgutil

import addon
from addon.errors import HubError


def error_keys() -> frozenset[str]:
    """The ``key`` of ``HubError`` and of every subclass anywhere in the add-on."""
    for module in pkgutil.walk_packages(addon.__path__, f"{addon.__name__}."):
        if not module.name.endswith(".__main__"):
            importlib.import_module(module.name)
    keys: set[str] = set()
    pending: list[type[HubError]] = [HubError]
    while pending:
        cls = pending.pop()
        keys.add(cls.key)
        pending.extend(cls.__subclasses__())
    return frozenset(keys)


if __name__ == "__main__":
    print(json.dumps(sorted(error_keys())))
