"""The one validator of what leaves the hub on the wire: API keys and base URLs."""

from __future__ import annotations

import httpx
import pytest

from addon.checks import MAX_KEY_LENGTH, check_api_key, check_base_url

# Keys no HTTP header can carry (and an empty or oversized one): the corpus every door uses.
BAD_KEYS = [
    pytest.param("k\u2026ey", id="ellipsis"),
    pytest.param("k\xe9y-latin1", id="latin1"),
    pytest.param("sk-\u00a0abc", id="nbsp-inside"),
    pytest.param("sk-abc\r\nX-Injected: 1", id="crlf"),
    pytest.param("sk-abc\ndef", id="lf"),
    pytest.param("sk-\x00abc", id="nul"),
    pytest.param("sk-\x7fabc", id="del"),
    pytest.param("sk-a\tb", id="tab-inside"),
    pytest.param("sk-a b", id="space-inside"),
    pytest.param("sk-\ud800", id="lone-surrogate"),
    pytest.param("\U0001f511key", id="emoji"),
    pytest.param("", id="empty"),
    pytest.param(" \t\n", id="blank"),
    pytest.param("k" * (MAX_KEY_LENGTH + 1), id="too-long"),
]
GOOD_KEYS = [
    ("sk-proj-AbC_123-xyz", "sk-proj-AbC_123-xyz"),
    ("  sk-pasted-with-spaces  ", "sk-pasted-with-spaces"),
    ("sk-pasted-with-newline\n", "sk-pasted-with-newline"),
    ("AIzaSy~!#$%&'*+./:;<=>?@[]^`{|}", "AIzaSy~!#$%&'*+./:;<=>?@[]^`{|}"),
    ("k" * MAX_KEY_LENGTH, "k" * MAX_KEY_LENGTH),
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_a_key_no_header_can_carry_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="API key") as caught:
        check_api_key(key)
    assert key.strip() == "" or key not in str(caught.value)  # never quotes the key


@pytest.mark.parametrize(("key", "clean"), GOOD_KEYS)
def test_a_good_key_is_returned_stripped_and_fits_a_header(key: str, clean: str) -> None:
    assert check_api_key(key) == clean
    httpx.Headers({"Authorization": f"Bearer {clean}"}).raw  # noqa: B018 - encodes or raises


@pytest.mark.parametrize(
    ("url", "bare_host"),
    [
        ("http://[::1", False),
        ("http://localhost:99999", False),
        ("http://h:abc", False),
        ("http://a b", False),
        ("http://h/\u2026", False),
        ("http://h/\r\nx", False),
        ("ftp://h", False),
        ("http://", False),
        ("localhost:11434", False),
        ("http://h:0", True),
        ("", True),
    ],
)
def test_bad_base_urls_are_refused(url: str, bare_host: bool) -> None:
    with pytest.raises(ValueError, match="base_url"):
        check_base_url(url, bare_host=bare_host)


@pytest.mark.parametrize(
    ("url", "bare_host"),
    [
        ("http://192.168.1.20:11434", False),
        ("https://openrouter.ai/api/v1", False),
        ("http://[::1]:11434", False),
        ("localhost:11434", True),
        (" http://h ", False),
    ],
)
def test_good_base_urls_pass(url: str, bare_host: bool) -> None:
    assert check_base_url(url, bare_host=bare_host) == url.strip()
