"""Structured output: the caller's JSON schema checked once at the edge, every answer against it.

``jsonschema`` validates with the draft the schema names in ``$schema`` (Draft 2020-12 when it
names none). A schema that is not valid is the caller's fault (400 ``invalid_request``); an
answer that does not match a valid schema is the provider's (``provider_bad_response``, so
another provider may be tried). ``jsonschema`` is imported on first use: most requests name no
structure, and its import is a tenth of the add-on's start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from addon.errors import InvalidRequestError
from addon.models import ChatRequest


def check_structure(chat: ChatRequest) -> None:
    """Refuse a structure that is not a valid JSON schema, before any provider is called."""
    if chat.json_schema is None:
        return
    from jsonschema import exceptions, validators

    schema = dict(chat.json_schema)
    try:
        validators.validator_for(schema).check_schema(schema)
    except exceptions.SchemaError as err:
        where = "/".join(str(p) for p in err.path) or "the top level"
        raise InvalidRequestError(
            f"Invalid request: the structure is not a valid JSON schema at {where}: {err.message}",
            field="structure",
        ) from err


def mismatch(value: Any, schema: Mapping[str, Any]) -> str | None:
    """How ``value`` fails ``schema`` (the most relevant error), or None when it matches."""
    from jsonschema import exceptions, validators

    schema = dict(schema)
    validator = validators.validator_for(schema)(schema)
    error = exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{error.message} (at {where})" if where else error.message
