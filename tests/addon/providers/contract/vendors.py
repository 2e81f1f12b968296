"""The vendor table of the contract suite: one entry per provider type.

Each entry says how to build the provider (through ``create_provider``, as the hub does) against
its vendor fake, which models to use, and how to read from a recorded request what the provider
put on the wire (images, the structured-output schema, the key) in that vendor's format. The
contract tests in this package are written once and run against every entry.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from addon.errors import ProviderError, ProviderRateLimitError, ProviderResponseError
from addon.providers.anthropic_wire import STRUCTURED_TOOL
from addon.settings import ProviderSettings, Secret
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.base import FakeServer, Fault, RecordedRequest
from tests.fakes.gemini import FakeGemini
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI

Images = list[tuple[str | None, bytes]]  # (MIME type when the wire carries one, bytes)


@dataclass(frozen=True)
class Vendor:
    """How the contract suite drives one provider type against its fake."""

    name: str  # the provider type
    key: str  # the key the fake accepts
    requires_key: bool  # a provider without a key refuses every call before sending
    key_env: str  # the variable the SDK would fall back to without a configured key
    fake_class: type[FakeServer]
    path_prefix: str  # appended to the fake's URL for ``base_url``
    model: str  # the chat model of the tests
    reported_model: str  # the model the vendor reports for ``model`` (after ``snapshot``)
    vision_model: str
    text_only_model: str | None  # a model without vision, where the vendor has one
    unknown_model: str  # a model the vendor does not serve
    models: tuple[str, ...]  # what the fake lists
    listed: tuple[tuple[str, bool], ...]  # (id, vision) as ``list_models`` must report them
    is_generation: Callable[[RecordedRequest], bool]
    key_sent: Callable[[RecordedRequest], str | None]
    images_sent: Callable[[Any], tuple[str, Images]]  # (the user's text, the images)
    schema_sent: Callable[[Any], Any]
    snapshot: Callable[[FakeServer], None] = lambda _fake: None
    # Faults a started stream can suffer (``fail_next(fault, mid_stream=True)``) and their class.
    mid_stream: Mapping[Fault, type[ProviderError]] = field(
        default_factory=lambda: {Fault.SERVER_ERROR: ProviderResponseError}
    )
    exhaust_quota: Callable[[FakeServer], None] | None = None  # rate-limit headers say "0 left"

    def __str__(self) -> str:
        return self.name

    def make_fake(self, *, keyed: bool = True) -> FakeServer:
        """The vendor's fake (checking ``key`` unless ``keyed`` is False), models enforced."""
        fake = self.fake_class(api_key=self.key if keyed else None, models=list(self.models))
        if isinstance(fake, FakeOpenAI):
            fake.strict_models = True
        return fake

    def settings(self, url: str, *, key: str | None = None, **overrides: Any) -> ProviderSettings:
        """Provider settings pointing at the fake at ``url`` (``key`` defaults to the right one)."""
        values: dict[str, Any] = {
            "name": f"{self.name}-under-test",
            "type": self.name,
            "model": self.model,
            "vision_model": self.vision_model,
            "api_key": Secret(self.key if key is None else key),
            "base_url": f"{url}{self.path_prefix}",
            "timeout": 30.0,
            **overrides,
        }
        return ProviderSettings(**values)


# --- what went over the wire, per vendor ----------------------------------------------------
def _bearer(request: RecordedRequest) -> str | None:
    header = request.headers.get("Authorization")
    return header.removeprefix("Bearer ") if header is not None else None


def _openai_images(body: Any) -> tuple[str, Images]:
    parts = body["messages"][-1]["content"]
    text = "".join(p["text"] for p in parts if p["type"] == "text")
    images: Images = []
    for part in parts:
        if part["type"] == "image_url":
            head, encoded = part["image_url"]["url"].split(",", 1)
            mime = head.removeprefix("data:").removesuffix(";base64")
            images.append((mime, base64.b64decode(encoded)))
    return text, images


def _openai_schema(body: Any) -> Any:
    return body["response_format"]["json_schema"]["schema"]


def _anthropic_key(request: RecordedRequest) -> str | None:
    return request.headers.get("x-api-key") or _bearer(request)


def _anthropic_images(body: Any) -> tuple[str, Images]:
    blocks = body["messages"][-1]["content"]
    text = "".join(b["text"] for b in blocks if b["type"] == "text")
    images: Images = [
        (b["source"]["media_type"], base64.b64decode(b["source"]["data"]))
        for b in blocks
        if b["type"] == "image"
    ]
    return text, images


def _anthropic_schema(body: Any) -> Any:
    assert body["tool_choice"] == {"type": "tool", "name": STRUCTURED_TOOL}
    (tool,) = (t for t in body["tools"] if t["name"] == STRUCTURED_TOOL)
    return tool["input_schema"]


def _proto_bytes(data: str) -> bytes:
    """A proto3-JSON ``bytes`` field (standard or URL-safe base64)."""
    return base64.b64decode(data.replace("-", "+").replace("_", "/"), validate=True)


def _gemini_images(body: Any) -> tuple[str, Images]:
    parts = body["contents"][-1]["parts"]
    text = "".join(p["text"] for p in parts if "text" in p)
    blobs = [p.get("inlineData") or p.get("inline_data") for p in parts]
    images: Images = [
        (blob.get("mimeType") or blob.get("mime_type"), _proto_bytes(blob["data"]))
        for blob in blobs
        if blob is not None
    ]
    return text, images


def _gemini_alias(fake: FakeServer) -> None:
    assert isinstance(fake, FakeGemini)
    fake.aliases["gemini-2.5-flash"] = "gemini-2.5-flash-preview-09-2025"


def _openai_alias(fake: FakeServer) -> None:
    assert isinstance(fake, FakeOpenAI)
    fake.model_aliases["gpt-4.1-mini"] = "gpt-4.1-mini-2025-04-14"


def _openai_quota(fake: FakeServer) -> None:
    assert isinstance(fake, FakeOpenAI)
    fake.requests_left = 0


def _anthropic_quota(fake: FakeServer) -> None:
    assert isinstance(fake, FakeAnthropic)
    fake.requests_left = 0


def _ollama_images(body: Any) -> tuple[str, Images]:
    message = body["messages"][-1]
    return message["content"], [(None, base64.b64decode(i)) for i in message["images"]]


_OPENAI_COMMON: dict[str, Any] = {
    "key_env": "OPENAI_API_KEY",
    "fake_class": FakeOpenAI,
    "path_prefix": "/v1",
    "is_generation": lambda r: r.path == "/v1/chat/completions",
    "key_sent": _bearer,
    "images_sent": _openai_images,
    "schema_sent": _openai_schema,
    "exhaust_quota": _openai_quota,
}

VENDORS: tuple[Vendor, ...] = (
    Vendor(
        name="openai",
        key="sk-proj-test0123456789abcdefXYZ",
        requires_key=True,
        model="gpt-4.1-mini",
        reported_model="gpt-4.1-mini-2025-04-14",
        vision_model="gpt-4o",
        text_only_model="gpt-3.5-turbo",
        unknown_model="gpt-nope",
        models=("gpt-4.1-mini", "gpt-5", "gpt-4o", "text-embedding-3-small", "whisper-1", "tts-1"),
        listed=(("gpt-4.1-mini", True), ("gpt-4o", True), ("gpt-5", True)),
        snapshot=_openai_alias,
        **_OPENAI_COMMON,
    ),
    Vendor(
        # An OpenAI-compatible server with a key (OpenRouter, DeepSeek...); keys are optional.
        name="openai_compatible",
        key="sk-or-v1-compatible0123456789abcdef",
        requires_key=False,
        model="llama-3.1-8b-instruct",
        reported_model="llama-3.1-8b-instruct",
        vision_model="qwen2.5-vl-7b",
        text_only_model="llama-3.1-8b-instruct",
        unknown_model="llama-0-nope",
        models=("llama-3.1-8b-instruct", "qwen2.5-vl-7b"),
        listed=(("llama-3.1-8b-instruct", False), ("qwen2.5-vl-7b", True)),
        **_OPENAI_COMMON,
    ),
    Vendor(
        name="anthropic",
        key="sk-ant-api03-very-secret-test-key-0123456789",
        requires_key=True,
        key_env="ANTHROPIC_API_KEY",
        fake_class=FakeAnthropic,
        path_prefix="",
        model="claude-haiku-4-5",
        reported_model="claude-haiku-4-5-20251001",  # the API resolves the alias
        vision_model="claude-haiku-4-5",
        text_only_model=None,
        unknown_model="claude-nope",
        models=(
            "claude-haiku-4-5-20251001",
            "claude-sonnet-4-5-20250929",
            "claude-3-haiku-20240307",
        ),
        listed=(
            ("claude-haiku-4-5-20251001", True),
            ("claude-sonnet-4-5-20250929", True),
            ("claude-3-haiku-20240307", True),
        ),
        is_generation=lambda r: r.path == "/v1/messages",
        key_sent=_anthropic_key,
        images_sent=_anthropic_images,
        schema_sent=_anthropic_schema,
        mid_stream={
            Fault.SERVER_ERROR: ProviderResponseError,
            Fault.OVERLOADED: ProviderRateLimitError,
        },
        exhaust_quota=_anthropic_quota,
    ),
    Vendor(
        name="gemini",
        key="AIzaSyFAKE-gemini-test-key-0123456789",
        requires_key=True,
        key_env="GEMINI_API_KEY",
        fake_class=FakeGemini,
        path_prefix="",
        model="gemini-2.5-flash",
        reported_model="gemini-2.5-flash-preview-09-2025",
        vision_model="gemini-2.5-flash",
        text_only_model=None,
        unknown_model="gemini-0-nope",
        models=("gemini-2.5-flash", "gemini-2.5-pro", "gemma-3-27b-it", "text-embedding-004"),
        listed=(("gemini-2.5-flash", True), ("gemini-2.5-pro", True), ("gemma-3-27b-it", True)),
        is_generation=lambda r: r.path.startswith("/v1beta/models/") and ":" in r.path,
        key_sent=lambda r: r.headers.get("x-goog-api-key"),
        images_sent=_gemini_images,
        schema_sent=lambda body: body["generationConfig"]["responseJsonSchema"],
        snapshot=_gemini_alias,
        mid_stream={
            Fault.SERVER_ERROR: ProviderResponseError,
            Fault.OVERLOADED: ProviderRateLimitError,
        },
    ),
    Vendor(
        # Ollama behind an authenticating proxy (the key is optional for Ollama itself).
        name="ollama",
        key="proxy-secret-7f3a9c0123456789",
        requires_key=False,
        key_env="OLLAMA_API_KEY",
        fake_class=FakeOllama,
        path_prefix="",
        model="llama3.2",
        reported_model="llama3.2",
        vision_model="llava:7b",
        text_only_model="llama3.2",
        unknown_model="mistral:7b",
        models=("llama3.2", "llava:7b", "gemma3:4b"),
        listed=(("llama3.2:latest", False), ("llava:7b", True), ("gemma3:4b", True)),
        is_generation=lambda r: r.path == "/api/chat",
        key_sent=_bearer,
        images_sent=_ollama_images,
        schema_sent=lambda body: body["format"],
    ),
)
