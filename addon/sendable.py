r"""Text no provider could accept, refused before any provider is called.

Two kinds of characters are refused anywhere in a request's text (messages, system prompt,
tool definitions and results, stop sequences, the structure's schema):

- lone UTF-16 surrogates (U+D800..U+DFFF not in a pair, e.g. from ``"\ud800"`` in JSON): they
  cannot be encoded as UTF-8, so no SDK can even send them;
- NUL (U+0000): it means nothing in text, and upstream stacks built on C strings or PostgreSQL
  text refuse or truncate it.

Other control characters (tab, newline, escape sequences...) are ordinary JSON string content
and pass. Such a request is the caller's fault, the same on every provider: it is answered
``invalid_request`` (400) and never counts against a provider.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Final

from addon.errors import InvalidRequestError
from addon.models import ChatRequest, MediaBody

UNSENDABLE: Final = re.compile("[\x00\ud800-\udfff]")


def check_sendable(request: ChatRequest | MediaBody) -> None:
    """Raise ``InvalidRequestError`` naming the first field whose text no provider accepts."""
    for parts, text in _strings(request, ()):
        found = UNSENDABLE.search(text)
        if found is not None:
            path = ".".join(parts)
            char = found.group()
            what = "a NUL character" if char == "\x00" else "a lone UTF-16 surrogate"
            raise InvalidRequestError(
                f"Invalid request: {path or 'the request'} contains {what} "
                f"(U+{ord(char):04X} at position {found.start()}), which no provider accepts",
                field=path,
            )


Path = tuple[str, ...]


def _strings(value: object, path: Path) -> Iterator[tuple[Path, str]]:
    """Every string inside ``value`` (dataclasses, mappings with their keys, sequences)."""
    if isinstance(value, str):
        yield path, value
    elif value is None or isinstance(value, int | float):
        return
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, str(index)))
    elif (names := _field_names(type(value))) is not None:
        for name in names:
            yield from _strings(getattr(value, name), (*path, name))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key, path)
            yield from _strings(item, (*path, str(key)))


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    """A dataclass's field names; None for any other type.

    Looked up once per type: requests are walked often, and failing the ``Mapping`` check is
    slow, so dataclasses are recognised first.
    """
    if cls not in _FIELD_NAMES:
        fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else None
        _FIELD_NAMES[cls] = None if fields is None else tuple(f.name for f in fields)
    return _FIELD_NAMES[cls]
