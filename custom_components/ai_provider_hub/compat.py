"""Names that moved between the Home Assistant versions this integration supports.

Home Assistant 2026.3+ validates with ``probatio`` (voluptuous' API, typed, with its own OpenAPI
codec; ``voluptuous`` is aliased to it at run time, but its schemas no longer type-check against
Home Assistant's, and ``voluptuous-openapi`` is gone). Older releases ship ``voluptuous`` and
``voluptuous-openapi``. Import ``vol`` and ``openapi_schema`` from here, never those packages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    import probatio as vol  # type: ignore[import-not-found, unused-ignore]
    from probatio import to_openapi as _to_openapi  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # Home Assistant before probatio
    import voluptuous as vol  # type: ignore[no-redef, unused-ignore]
    from voluptuous_openapi import (  # type: ignore[assignment, no-redef, unused-ignore]
        convert as _to_openapi,
    )

__all__ = ["openapi_schema", "vol"]


def openapi_schema(schema: Any, custom_serializer: Callable[[Any], Any] | None) -> dict[str, Any]:
    """The OpenAPI 3.0 schema object (JSON schema) of a validation schema."""
    result: dict[str, Any] = _to_openapi(schema, custom_serializer=custom_serializer)
    return result
