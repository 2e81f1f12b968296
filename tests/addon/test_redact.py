"""Log redaction: key shapes and registered secrets never reach a log line in plaintext."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from addon import redact
from addon.redact import RedactingFilter, mask
from addon.settings import Secret

OPENAI = "sk-Canary1234567890abcdefghijklmnopqrstuvwx"
OPENAI_PROJECT = "sk-proj-Canary_abcdefghijklmnopqrstuvwxyz0123456789-AbCd"
ANTHROPIC = "sk-ant-api03-CanaryAnthropic-0123456789abcdefghij_KLMNOPQRST-uvwxyzAA"
OPENROUTER = "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
GEMINI = "AIzaSyCanaryGeminiKey_0123456789abcdEFG"
GROQ = "gsk_Canary0123456789abcdefghijklmnopqrstuvwxyzAB"
HUGGING_FACE = "hf_CanaryHuggingFace0123456789abcdefgh"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJob21lYXNzaXN0YW50In0.c2lnbmF0dXJlX2NhbmFyeQ"
HEX = "0123456789abcdef0123456789abcdef"
BASE64 = "Q2FuYXJ5U2VjcmV0VmFsdWVCYXNlNjQ="
OPAQUE = "opaque-canary-token-42XYZ"

# (label, text, secret that must vanish)
SHAPES = [
    ("openai", f"calling OpenAI with {OPENAI}", OPENAI),
    ("openai project", f"key={OPENAI_PROJECT} rejected", OPENAI_PROJECT),
    ("anthropic", f"Anthropic key {ANTHROPIC}.", ANTHROPIC),
    ("openrouter", f"OpenRouter: {OPENROUTER}", OPENROUTER),
    ("gemini", f"gemini key {GEMINI}", GEMINI),
    ("groq", f"groq {GROQ}", GROQ),
    ("hugging face", f"token {HUGGING_FACE}", HUGGING_FACE),
    ("jwt", f"long-lived token {JWT}", JWT),
    ("bearer header", f"Authorization: Bearer {OPAQUE}", OPAQUE),
    ("bearer lower", f"authorization=bearer {HEX}", HEX),
    ("x-api-key header", f"headers: {{'x-api-key': '{OPAQUE}'}}", OPAQUE),
    ("x-goog-api-key header", f"x-goog-api-key: {OPAQUE}", OPAQUE),
    ("api_key kwarg", f"Client(api_key={OPAQUE}, timeout=5)", OPAQUE),
    ("api_key repr", f"Client(api_key='{OPAQUE}')", OPAQUE),
    ("json api_key hex", f'{{"api_key": "{HEX}", "model": "x"}}', HEX),
    ("json token base64", f'{{"access_token": "{BASE64}"}}', BASE64),
    ("yaml secret", f"client_secret: {BASE64}", BASE64),
    ("env line", f"OPENAI_API_KEY={OPAQUE}", OPAQUE),
    ("password", f"password = {OPAQUE}", OPAQUE),
    ("supervisor token", f"SUPERVISOR_TOKEN={HEX}", HEX),
    ("query key", f"GET https://host/v1beta/models?key={OPAQUE}&alt=sse", OPAQUE),
    ("query token", f"GET /api/x?foo=1&token={OPAQUE}", OPAQUE),
]

HARMLESS = [
    "Stored the API key of provider openai",
    "usage input_tokens: 120, output_tokens: 33, max_tokens=1024",
    "error key=provider_auth status=502",
    "task-manager-service started on disk-array-0001",
    "provider openai answered in 231 ms (model gpt-4.1-mini)",
    "masked key sk-…abcd",
    "api_key=None",
    "GET /health 200",
]


@pytest.fixture
def redactor() -> RedactingFilter:
    return RedactingFilter()


@pytest.fixture
def logger(redactor: RedactingFilter) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(redactor)
    log = logging.getLogger(f"test.redact.{id(stream)}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    yield log, stream
    log.removeHandler(handler)


@pytest.mark.parametrize(("text", "secret"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_key_shapes_are_masked_in_the_message(
    logger: tuple[logging.Logger, io.StringIO], text: str, secret: str
) -> None:
    log, stream = logger
    log.warning(text)
    output = stream.getvalue()
    assert secret not in output
    assert mask(secret) in output


@pytest.mark.parametrize(("text", "secret"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_key_shapes_are_masked_in_the_arguments(
    logger: tuple[logging.Logger, io.StringIO], text: str, secret: str
) -> None:
    log, stream = logger
    log.info("request failed: %s (attempt %d)", text, 2)
    log.info("%(detail)s", {"detail": text})
    output = stream.getvalue()
    assert secret not in output
    assert output.count(mask(secret)) == 2
    assert "(attempt 2)" in output


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_lines_are_left_alone(redactor: RedactingFilter, text: str) -> None:
    assert redactor.redact(text) == text


@pytest.mark.parametrize("text", [s[1] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_redaction_is_idempotent(redactor: RedactingFilter, text: str) -> None:
    once = redactor.redact(text)
    assert redactor.redact(once) == once


def test_mask_matches_secret_masked() -> None:
    for value in (OPENAI, GEMINI, "short", ""):
        assert mask(value) == Secret(value).masked()
    assert mask(OPENAI) == "sk-…uvwx"


def test_registered_secrets_are_masked_wherever_they_appear(
    redactor: RedactingFilter, logger: tuple[logging.Logger, io.StringIO]
) -> None:
    log, stream = logger
    redactor.register("plain passphrase 42")
    redactor.register("local-llama-secret")
    log.info("config: %r", {"pass": "plain passphrase 42", "url": "http://x/local-llama-secret"})
    log.info("the key plain passphrase 42 was set")
    output = stream.getvalue()
    assert "plain passphrase 42" not in output
    assert "local-llama-secret" not in output
    assert "pla…e 42" in output
    assert "loc…cret" in output


def test_the_longest_registered_secret_wins(redactor: RedactingFilter) -> None:
    redactor.register("abcdef123456")
    redactor.register("abcdef123456789xyz")
    assert redactor.redact("v=abcdef123456789xyz!") == "v=abc…9xyz!"


def test_tiny_values_are_not_registered(redactor: RedactingFilter) -> None:
    redactor.register("abc")
    redactor.register("      ")
    assert redactor.redact("abc and abcabc") == "abc and abcabc"


def test_tracebacks_are_redacted(
    redactor: RedactingFilter, logger: tuple[logging.Logger, io.StringIO]
) -> None:
    log, stream = logger
    redactor.register(OPAQUE)
    try:
        raise ValueError(f"Incorrect API key provided: {OPENAI} (also {OPAQUE})")
    except ValueError:
        log.exception("provider call failed")
    output = stream.getvalue()
    assert "Traceback" in output
    assert "ValueError: Incorrect API key provided: sk-…uvwx" in output
    assert OPENAI not in output
    assert OPAQUE not in output


def test_stack_info_is_redacted(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logger
    key = OPENAI  # shows up in the stack text through this very source line
    log.info("where am I", stack_info=True)
    assert key not in stream.getvalue()


def test_a_broken_format_string_does_not_leak_its_arguments(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    log.error("two placeholders %s %s", f"Bearer {OPAQUE}")  # noqa: PLE1206
    output = stream.getvalue()
    assert OPAQUE not in output
    assert "two placeholders" in output


def test_secret_objects_stay_masked_in_arguments(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    log.info("key %s / %r", Secret(OPENAI), Secret(OPENAI))
    assert OPENAI not in stream.getvalue()


@pytest.fixture
def tree() -> Iterator[tuple[logging.Logger, logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    parent = logging.getLogger("test.redact.tree")
    parent.propagate = False
    parent.setLevel(logging.DEBUG)
    parent.addHandler(handler)
    yield parent, logging.getLogger("test.redact.tree.child.grandchild"), stream
    parent.removeHandler(handler)
    parent.removeFilter(redact.default_filter())


def test_install_covers_records_from_child_loggers(
    tree: tuple[logging.Logger, logging.Logger, io.StringIO],
) -> None:
    parent, child, stream = tree
    installed = redact.install(parent)
    redact.install(parent)
    handler = parent.handlers[0]
    assert handler.filters.count(installed) == 1
    assert parent.filters.count(installed) == 1
    redact.register("module-wide-secret-77")
    child.info("child says %s and %s", GEMINI, "module-wide-secret-77")
    parent.info("parent says %s", GEMINI)
    output = stream.getvalue()
    assert GEMINI not in output
    assert "module-wide-secret-77" not in output
    assert output.count(mask(GEMINI)) == 2


def test_module_redact_uses_registered_secrets() -> None:
    redact.register("registered-everywhere-99")
    assert redact.redact("x registered-everywhere-99 y") == "x reg…e-99 y"
