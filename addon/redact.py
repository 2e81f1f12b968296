"""Log redaction: nothing that looks like a key or token reaches a log line in plaintext.

``RedactingFilter`` rewrites each record's final message (``msg % args``), its formatted
traceback and its stack text. It masks two kinds of secrets:

* shapes: vendor key prefixes (``sk-``, ``sk-ant-``, ``sk-proj-``, ``AIza``...), JWTs,
  ``Bearer <x>``, ``x-api-key: <x>``, ``api_key=<x>``, ``"token": "<x>"``, ``?key=<x>``;
* values registered at runtime with ``register`` (stored API keys, the API token, the
  Supervisor token), wherever they appear.

Masks look like ``Secret.masked()`` (``sk-…abcd``, or ``…`` for short values). Attach the
filter with ``install``: a filter on a logger only sees records logged on that very logger,
so ``install`` also puts it on the logger's handlers, which see every propagated record.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Final

from addon.settings import Secret

MIN_REGISTERED_LENGTH: Final = 6

_VALUE = r"[A-Za-z0-9\-._~+/]{6,}=*"
_KEY_NAMES = (
    r"[\w-]*(?:api[_-]?key|apikey|access[_-]?key|secret[_-]?key|client[_-]?secret"
    r"|access[_-]?token|auth[_-]?token|refresh[_-]?token|token|secret|password|passwd"
    r"|authorization)"
)

SHAPES: Final[tuple[re.Pattern[str], ...]] = (
    # Vendor key formats, recognised anywhere (OpenAI/Anthropic/OpenRouter/DeepSeek "sk-",
    # Google "AIza", Groq/Hugging Face/GitHub/Slack prefixes, xAI, JWTs).
    re.compile(
        r"(?<![A-Za-z0-9])(?P<secret>sk-[A-Za-z0-9_\-]{8,}"
        r"|AIza[0-9A-Za-z_\-]{20,}"
        r"|(?:gsk|hf|ghp|gho|github_pat|xox[abpr])_[A-Za-z0-9_]{12,}"
        r"|xai-[A-Za-z0-9]{12,}"
        r"|eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,})"
    ),
    re.compile(rf"(?i)\b(?:bearer|basic|token)\s+(?P<secret>{_VALUE})"),
    # key-ish names followed by a value: headers, kwargs, JSON, YAML, env lines.
    re.compile(
        rf"(?i)(?<![A-Za-z0-9])(?:{_KEY_NAMES})[\"']?\s*[:=]\s*[\"']?"
        rf"(?!(?:bearer|basic|token)\s)(?P<secret>{_VALUE})"
    ),
    # Gemini and others accept the key as a query parameter.
    re.compile(r"(?i)[?&](?:key|api_key|access_token|token)=(?P<secret>[^&\s#\"'…]{6,})"),
)


def mask(value: str) -> str:
    """The display form of a secret, the same as ``Secret.masked()``."""
    return Secret(value).masked()


def _mask_group(match: re.Match[str]) -> str:
    whole, offset = match.group(0), match.start()
    start, end = match.span("secret")
    return whole[: start - offset] + mask(match.group("secret")) + whole[end - offset :]


class RedactingFilter(logging.Filter):
    """A ``logging.Filter`` that masks keys and tokens in every record it sees."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._registered: re.Pattern[str] | None = None
        self._guard = threading.Lock()
        self.generation = 0  # grows with every new secret: redactions made before are stale

    def register(self, value: str) -> None:
        """Mask ``value`` wherever it appears from now on (values under 6 chars are ignored)."""
        value = value.strip()
        if len(value) < MIN_REGISTERED_LENGTH or value in self._secrets:
            return
        with self._guard:
            self._secrets.add(value)
            # Longest first, so a secret containing another one is masked whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._registered = re.compile("|".join(map(re.escape, ordered)))
            self.generation += 1

    def redact(self, text: str) -> str:
        """``text`` with registered secrets and key-shaped substrings masked."""
        registered = self._registered
        if registered is not None:
            text = registered.sub(lambda m: mask(m.group(0)), text)
        for shape in SHAPES:
            text = shape.sub(_mask_group, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        record.msg = self.redact(_message(record))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except (TypeError, ValueError):
        # A broken format string must not let the raw arguments through unredacted.
        return " ".join([str(record.msg), *(repr(arg) for arg in record.args or ())])


_DEFAULT = RedactingFilter()


def default_filter() -> RedactingFilter:
    """The process-wide filter that ``register`` and ``install`` use."""
    return _DEFAULT


def register(value: str) -> None:
    """Register a secret with the process-wide filter."""
    _DEFAULT.register(value)


def redact(text: str) -> str:
    """Redact ``text`` with the process-wide filter (for strings that bypass logging)."""
    return _DEFAULT.redact(text)


def generation() -> int:
    """The process-wide filter's generation (see ``RedactingFilter.generation``)."""
    return _DEFAULT.generation


def install(logger: logging.Logger | None = None) -> RedactingFilter:
    """Attach the process-wide filter to ``logger`` (root by default) and its handlers.

    Handlers added to the logger later need ``handler.addFilter(default_filter())`` too.
    """
    target = logger if logger is not None else logging.getLogger()
    for owner in (target, *target.handlers):
        if _DEFAULT not in owner.filters:
            owner.addFilter(_DEFAULT)
    return _DEFAULT
