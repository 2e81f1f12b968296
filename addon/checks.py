"""Values that leave the hub on the wire: API keys (HTTP header values) and base URLs.

One place decides, for the options file, the environment, the credential store and the API
alike, so a value no SDK can send is refused where it enters, never found at start-up (an SDK
that cannot encode its key header fails while being built, which took the whole hub down).
"""

from __future__ import annotations

import re
from typing import Final

import yarl

MAX_KEY_LENGTH: Final = 4096
# Visible ASCII: every vendor's keys are, and the SDKs send them as ASCII header values
# (``Authorization: Bearer``, ``x-api-key``, ``x-goog-api-key``); no space, tab, CR, LF or
# other control character can ever be part of one.
_KEY_CHARS: Final = re.compile(r"[\x21-\x7e]+")
_URL_CHARS: Final = re.compile(r"[\x21-\x7e]+")
URL_SCHEMES: Final = ("http", "https")
KEY_RULE: Final = "printable ASCII (letters, digits, punctuation) without spaces"


def check_api_key(value: str) -> str:
    """``value`` without surrounding whitespace; ``ValueError`` when no HTTP header can carry it.

    Surrounding whitespace is dropped (a pasted key often ends in a newline); whitespace or a
    control character inside, anything beyond ASCII, or an empty or huge value is refused. The
    message never quotes the key.
    """
    key = value.strip()
    if not key:
        raise ValueError("an API key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"an API key must be at most {MAX_KEY_LENGTH} characters")
    if not _KEY_CHARS.fullmatch(key):
        raise ValueError(f"an API key must be {KEY_RULE}")
    return key


def check_base_url(value: str, *, bare_host: bool = False) -> str:
    """``value`` when it is an http(s) URL with a host (and a valid port); else ``ValueError``.

    With ``bare_host`` a URL without a scheme (``192.168.1.20:11434``, as ``OLLAMA_HOST`` is
    often written) is accepted as ``http://``; the Ollama SDK completes it the same way.
    """
    text = value.strip()
    example = "such as http://192.168.1.20:11434"
    if not _URL_CHARS.fullmatch(text):
        raise ValueError(f"base_url must be an http(s) URL without spaces, {example}")
    if "://" not in text and bare_host:
        text = f"http://{text}"
    try:
        url = yarl.URL(text)
        port = url.explicit_port
    except ValueError as err:
        raise ValueError(f"base_url is not a valid URL ({err}), {example}") from err
    if url.scheme not in URL_SCHEMES or not url.host:
        raise ValueError(f"base_url must be an http(s) URL with a host, {example}")
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"base_url has an invalid port, {example}")
    return value.strip()
