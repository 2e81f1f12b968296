"""Helpers shared by every voluptuous validation: options, pricing file and API bodies."""

from __future__ import annotations

import voluptuous as vol


def humanize(err: vol.Invalid, prefix: str = "") -> str:
    """A voluptuous error as one readable sentence naming the offending path.

    ``prefix`` is where the validated value sits in a larger document (``providers.2``).
    """
    errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    parts = []
    for error in errors:
        path = ".".join(str(p) for p in [*([prefix] if prefix else []), *error.path])
        parts.append(f"{path or 'options'}: {error.error_message}")
    return "; ".join(parts)
