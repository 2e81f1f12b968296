"""Embeddings on every provider that has them, through the official SDKs against the fakes.

OpenAI (base64 on the wire), an OpenAI-compatible server (floats on the wire), Gemini
(``batchEmbedContents`` in batches of 100) and Ollama (``/api/embed``): the vectors the fake
computed come back in input order, at the length asked for, with the vendor's token count; the
request is the vendor's documented one; each vendor's refusals and faults map to the hub's
errors (a model that cannot embed is a capability miss, skipped without blame).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from addon.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderCapabilityError,
    ProviderError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from addon.models import EmbeddingRequest
from addon.providers import create_provider
from addon.providers.base import Provider
from addon.settings import ProviderSettings, Secret
from tests.fakes.base import FakeServer, Fault
from tests.fakes.embeddings import tokens, vector
from tests.fakes.gemini import FakeGemini
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI

KEY = "sk-test-embeddings-123456"
TEXTS = ("Turn on the kitchen light", "Le chat dort sur le canapé", "☀️ sunny")


@dataclass(frozen=True)
class Vendor:
    """One provider type with embeddings: its fake, its settings, its wire."""

    name: str
    make_fake: Callable[[], FakeServer]
    path: str
    model: str
    dimensions: int
    float32: bool  # vectors travel as float32 (base64) and come back rounded to it

    def settings(self, fake: FakeServer, **options: Any) -> ProviderSettings:
        base = {"openai": f"{fake.url}/v1", "openai_compatible": f"{fake.url}/v1"}
        return ProviderSettings(
            name=f"my-{self.name}",
            type=self.name,
            model="chat-model",
            api_key=Secret("" if self.name == "ollama" else KEY),
            base_url=base.get(self.name, fake.url),
            timeout=10,
            **options,
        )


def _ollama() -> FakeServer:
    return FakeOllama(models=["embeddinggemma:latest", "nomic-embed-text:latest", "gemma3:4b"])


VENDORS = [
    Vendor("openai", lambda: FakeOpenAI(api_key=KEY), "/v1/embeddings",
           "text-embedding-3-small", 1536, True),
    Vendor("openai_compatible", lambda: FakeOpenAI(api_key=KEY), "/v1/embeddings",
           "text-embedding-3-small", 1536, False),
    Vendor("gemini", lambda: FakeGemini(api_key=KEY),
           "/v1beta/models/gemini-embedding-001:batchEmbedContents", "gemini-embedding-001",
           3072, False),
    Vendor("ollama", _ollama, "/api/embed", "embeddinggemma", 768, False),
]  # fmt: skip


@pytest.fixture(params=VENDORS, ids=lambda v: v.name)
def vendor(request: pytest.FixtureRequest) -> Vendor:
    chosen: Vendor = request.param
    return chosen


@pytest.fixture
async def fake(vendor: Vendor) -> AsyncIterator[FakeServer]:
    server = vendor.make_fake()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def provider(vendor: Vendor, fake: FakeServer) -> AsyncIterator[Provider]:
    options = {"embedding_model": vendor.model} if vendor.name == "openai_compatible" else {}
    instance = create_provider(vendor.settings(fake, **options))
    yield instance
    await instance.close()


def sent(fake: FakeServer, path: str) -> list[Any]:
    return [r.body for r in fake.requests if r.path == path]


def assert_vectors(vendor: Vendor, got: tuple[tuple[float, ...], ...], size: int) -> None:
    assert [len(v) for v in got] == [size] * len(TEXTS)
    for text, values in zip(TEXTS, got, strict=True):
        tolerance = 1e-6 if vendor.float32 else 1e-12
        assert values == pytest.approx(vector(text, size), abs=tolerance)


async def test_vectors_come_back_in_order_with_the_vendors_usage(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    response = await provider.embed(EmbeddingRequest(TEXTS), timeout=10)
    assert_vectors(vendor, response.vectors, vendor.dimensions)
    assert response.model.startswith(vendor.model)
    assert response.usage.input_tokens == sum(tokens(t) for t in TEXTS)
    (body,) = sent(fake, vendor.path)
    if vendor.name in ("openai", "openai_compatible"):
        assert body["input"] == list(TEXTS)
        assert body["model"] == vendor.model
        assert body["encoding_format"] == ("base64" if vendor.name == "openai" else "float")
        assert "dimensions" not in body
    elif vendor.name == "gemini":
        assert [r["content"]["parts"][0]["text"] for r in body["requests"]] == list(TEXTS)
        assert {r["model"] for r in body["requests"]} == {"models/gemini-embedding-001"}
        assert all("outputDimensionality" not in r for r in body["requests"])
    else:
        assert body == {"model": "embeddinggemma", "input": list(TEXTS)}


async def test_shorter_vectors_when_asked(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    response = await provider.embed(EmbeddingRequest(TEXTS, dimensions=256), timeout=10)
    assert_vectors(vendor, response.vectors, 256)
    (body,) = sent(fake, vendor.path)
    if vendor.name == "gemini":
        assert {r["outputDimensionality"] for r in body["requests"]} == {256}
    else:
        assert body["dimensions"] == 256


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.RATE_LIMIT, ProviderRateLimitError),
        (Fault.SERVER_ERROR, ProviderResponseError),
        (Fault.AUTH, ProviderAuthError),
        (Fault.MALFORMED, ProviderResponseError),
        (Fault.DISCONNECT, ProviderError),
    ],
)
async def test_faults_map_to_the_hubs_errors(
    fake: FakeServer, provider: Provider, fault: Fault, error: type[ProviderError]
) -> None:
    fake.fail_next(fault, retry_after=7)
    with pytest.raises(error) as caught:
        await provider.embed(EmbeddingRequest(TEXTS), timeout=10)
    if isinstance(caught.value, ProviderRateLimitError):
        assert caught.value.retry_after == pytest.approx(7)


async def test_a_hung_vendor_ends_at_the_deadline(fake: FakeServer, provider: Provider) -> None:
    fake.fail_next(Fault.TIMEOUT)
    with pytest.raises(ProviderTimeoutError):
        await provider.embed(EmbeddingRequest(TEXTS), timeout=0.5)


# --- each vendor's own refusals and limits --------------------------------------------------
@pytest.mark.parametrize("vendor", [VENDORS[0]], ids=["openai"], indirect=True)
async def test_openai_refuses_dimensions_on_ada_as_a_bad_request(provider: Provider) -> None:
    request = EmbeddingRequest(("x",), "text-embedding-ada-002", dimensions=64)
    with pytest.raises(ProviderBadRequestError, match="does not support specifying dimensions"):
        await provider.embed(request, timeout=10)


@pytest.mark.parametrize("vendor", [VENDORS[1]], ids=["openai_compatible"], indirect=True)
async def test_a_compatible_server_that_reports_no_usage_is_estimated(
    fake: FakeServer, provider: Provider
) -> None:
    assert isinstance(fake, FakeOpenAI)
    fake.embedding_usage = False
    response = await provider.embed(EmbeddingRequest(("a" * 40, "b" * 41)), timeout=10)
    assert response.usage.input_tokens == 10 + 11  # four characters per token, rounded up
    assert response.vectors[0] == pytest.approx(vector("a" * 40, 1536), abs=1e-12)


@pytest.mark.parametrize("vendor", VENDORS[:3], ids=lambda v: v.name, indirect=True)
async def test_a_model_the_vendor_does_not_have_is_a_capability_miss(
    vendor: Vendor, fake: FakeServer
) -> None:
    # The user named it, so the hub asks; the vendor's 404 sends the walk elsewhere.
    model = "gemini-embedding-exp" if vendor.name == "gemini" else "text-embedding-9"
    if isinstance(fake, FakeOpenAI):
        fake.strict_models = True
    provider = create_provider(vendor.settings(fake, embedding_model=model))
    try:
        with pytest.raises(ProviderCapabilityError, match="no such model") as caught:
            await provider.embed(EmbeddingRequest(("x",)), timeout=10)
    finally:
        await provider.close()
    assert caught.value.retryable
    assert not caught.value.provider_fault


@pytest.mark.parametrize("vendor", [VENDORS[2]], ids=["gemini"], indirect=True)
async def test_gemini_embeds_more_than_a_batch_in_batches_of_100(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    texts = tuple(f"note number {i}" for i in range(230))
    response = await provider.embed(EmbeddingRequest(texts, dimensions=8), timeout=10)
    assert [len(b["requests"]) for b in sent(fake, vendor.path)] == [100, 100, 30]
    assert response.vectors == tuple(tuple(vector(t, 8)) for t in texts)
    assert response.usage.input_tokens == sum(tokens(t) for t in texts)


@pytest.mark.parametrize("vendor", [VENDORS[2]], ids=["gemini"], indirect=True)
async def test_gemini_without_usage_metadata_is_estimated(
    fake: FakeServer, provider: Provider
) -> None:
    assert isinstance(fake, FakeGemini)
    fake.embedding_usage = False
    response = await provider.embed(EmbeddingRequest(("a" * 40, "b" * 41)), timeout=10)
    assert response.usage.input_tokens == 10 + 11  # four characters per token, rounded up


async def test_a_chat_model_is_refused_before_anything_is_sent(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    chat = {"gemini": "gemini-2.5-flash", "ollama": "gemma3:4b"}.get(vendor.name, "gpt-4.1-mini")
    with pytest.raises(ProviderCapabilityError):
        await provider.embed(EmbeddingRequest(("x",), chat), timeout=10)
    assert sent(fake, vendor.path) == []


@pytest.mark.parametrize("vendor", [VENDORS[3]], ids=["ollama"], indirect=True)
async def test_ollama_skips_a_named_model_that_does_not_embed(fake: FakeServer) -> None:
    assert isinstance(fake, FakeOllama)
    vendor = VENDORS[3]
    provider = create_provider(vendor.settings(fake, embedding_model="gemma3:4b"))
    try:
        with pytest.raises(ProviderCapabilityError, match="does not support embeddings"):
            await provider.embed(EmbeddingRequest(("x",)), timeout=10)
    finally:
        await provider.close()


@pytest.mark.parametrize("vendor", [VENDORS[3]], ids=["ollama"], indirect=True)
@pytest.mark.parametrize("model", ["mxbai-embed-large", "bge-m3"])
async def test_ollama_skips_a_model_that_is_not_pulled(provider: Provider, model: str) -> None:
    with pytest.raises(ProviderCapabilityError, match="try pulling it first") as caught:
        await provider.embed(EmbeddingRequest(("x",), model), timeout=10)
    assert "ollama pull" in caught.value.message
    assert not caught.value.provider_fault


@pytest.mark.parametrize("vendor", [VENDORS[3]], ids=["ollama"], indirect=True)
async def test_ollama_embeds_with_another_pulled_model(provider: Provider) -> None:
    response = await provider.embed(EmbeddingRequest(TEXTS, "nomic-embed-text"), timeout=10)
    assert response.model == "nomic-embed-text:latest"
    assert [len(v) for v in response.vectors] == [768] * 3
