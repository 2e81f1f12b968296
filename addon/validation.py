"""Helpers shared by every voluptuous validation: options, pricing file and API bodies."""

from __future__ import annotations

import voluptuous as vol


def humanize(err: vol.Invalid) -> str:
    """A voluptuous error as one readable sentence naming the offending path."""
    errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    parts = []
    for error in errors:
        path = ".".join(str(p) for p in error.path) or "options"
        parts.append(f"{path}: {error.error_message}")
    return "; ".join(parts)
