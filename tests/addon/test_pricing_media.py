"""Prices beyond chat: each capability's section and units, fallbacks, the free local server."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from addon.errors import ConfigError
from addon.models import Capability, Usage
from addon.pricing import ModelPrice, PricingTable, cost
from addon.settings import ProviderSettings

C = Capability


def provider(provider_type: str, **options: Any) -> ProviderSettings:
    return ProviderSettings(name=f"my-{provider_type}", type=provider_type, model="x", **options)


@pytest.fixture(scope="module")
def table() -> PricingTable:
    return PricingTable.load()


@pytest.mark.parametrize(
    ("provider_type", "model", "capability", "usage", "variant", "usd"),
    [
        ("openai", "text-embedding-3-small", C.EMBEDDINGS, Usage(1_000_000), None, 0.02),
        ("openai", "text-embedding-3-large", C.EMBEDDINGS, Usage(500_000), None, 0.065),
        ("gemini", "gemini-embedding-001", C.EMBEDDINGS, Usage(1_000_000), None, 0.15),
        ("gemini", "models/text-embedding-004", C.EMBEDDINGS, Usage(1_000_000), None, 0.0),
        ("openai_compatible", "openai/text-embedding-3-small", C.EMBEDDINGS, Usage(1_000_000),
         None, 0.02),
        ("openai", "whisper-1", C.TRANSCRIPTION, Usage(audio_seconds=90), None, 0.009),
        ("openai", "gpt-4o-transcribe", C.TRANSCRIPTION, Usage(1_000_000, 1_000_000), None, 16.0),
        ("openai", "gpt-4o-mini-transcribe", C.TRANSCRIPTION, Usage(1000, 100), None, 0.0035),
        ("gemini", "gemini-2.5-flash", C.TRANSCRIPTION, Usage(1920, 100), None, 0.00217),
        ("openai", "tts-1", C.SPEECH, Usage(characters=1_000_000), None, 15.0),
        ("openai", "tts-1-hd", C.SPEECH, Usage(characters=1000), None, 0.03),
        ("openai", "gpt-4o-mini-tts", C.SPEECH, Usage(audio_seconds=120), None, 0.03),
        ("gemini", "gemini-2.5-flash-preview-tts", C.SPEECH, Usage(100, 3200), None, 0.03205),
        ("openai", "dall-e-3", C.IMAGES, Usage(images=1), "medium 1024x1024", 0.04),
        ("openai", "dall-e-3", C.IMAGES, Usage(images=2), "high 1024x1024", 0.16),
        ("openai", "dall-e-3", C.IMAGES, Usage(images=1), "high 1792x1024", 0.12),
        ("openai", "dall-e-3", C.IMAGES, Usage(images=1), "medium 1024x1792", 0.08),
        ("openai", "dall-e-3", C.IMAGES, Usage(images=1), None, 0.12),  # unknown: the dearest
        ("openai", "dall-e-2", C.IMAGES, Usage(images=1), "standard 256x256", 0.016),
        ("openai", "gpt-image-1", C.IMAGES, Usage(20, 6240, images=1), "high 1536x1024", 0.2497),
        ("openai", "gpt-image-1.5", C.IMAGES, Usage(20, 272, images=1), None, 0.008804),
        ("openai", "gpt-image-2-2026-04-21", C.IMAGES, Usage(20, 1000, images=1), None, 0.0301),
        ("openai", "gpt-image-1-mini", C.IMAGES, Usage(20, 272, images=1), None, 0.002216),
        ("gemini", "gemini-2.5-flash-image", C.IMAGES, Usage(0, 1290, images=1), None, 0.0387),
        ("gemini", "imagen-4.0-generate-001", C.IMAGES, Usage(images=3), None, 0.12),
    ],
)  # fmt: skip
def test_each_capability_is_priced_in_its_units(
    table: PricingTable,
    provider_type: str,
    model: str,
    capability: Capability,
    usage: Usage,
    variant: str | None,
    usd: float,
) -> None:
    price = table.price(provider(provider_type), model, capability)
    assert price.known is True
    assert cost(price, usage, variant) == pytest.approx(usd)


def test_a_chat_price_never_prices_another_capability(table: PricingTable) -> None:
    # gpt-4.1-mini is listed for chat only: as an embedding model it is unknown.
    price = table.price(provider("openai"), "gpt-4.1-mini", C.EMBEDDINGS)
    assert price.known is False
    assert table.price(provider("openai"), "gpt-4.1-mini", C.VISION).known is True


@pytest.mark.parametrize(
    ("provider_type", "model", "capability", "expected"),
    [
        # The vendor's highest price of that capability, in every unit.
        ("openai", "text-embedding-4", C.EMBEDDINGS, {"input": 0.13}),
        ("gemini", "gemini-embedding-002", C.EMBEDDINGS, {"input": 0.15}),
        ("openai", "whisper-2", C.TRANSCRIPTION,
         {"input": 6.0, "output": 10.0, "audio_minute": 0.006}),
        ("openai", "tts-2", C.SPEECH, {"characters": 30.0, "audio_minute": 0.015}),
        # openai_compatible: the highest of the whole section.
        ("openai_compatible", "my-embedder", C.EMBEDDINGS, {"input": 0.15}),
        ("openai_compatible", "kokoro", C.SPEECH,
         {"input": 1.0, "output": 20.0, "characters": 30.0, "audio_minute": 0.015}),
    ],
)  # fmt: skip
def test_an_unknown_model_costs_the_highest_of_its_capability(
    table: PricingTable,
    provider_type: str,
    model: str,
    capability: Capability,
    expected: dict[str, float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="addon.pricing"):
        price = table.price(provider(provider_type), model, capability)
        table.price(provider(provider_type), model, capability)
    units = {
        "input": price.input_per_mtok,
        "output": price.output_per_mtok,
        "audio_minute": price.audio_per_minute,
        "characters": price.characters_per_m,
    }
    assert {unit: value for unit, value in units.items() if value} == pytest.approx(expected)
    assert (price.known, price.source) == (False, "unknown")
    warnings = [r.getMessage() for r in caplog.records if model in r.getMessage()]
    assert len(warnings) == 1
    assert str(capability) in warnings[0]


def test_an_unknown_image_model_costs_the_dearest_image(table: PricingTable) -> None:
    price = table.price(provider("openai"), "dall-e-4", C.IMAGES)
    assert price.per_image("standard 1024x1024") == 0.12  # DALL-E 3 HD wide, the dearest
    assert price.output_per_mtok == 40.0  # gpt-image-1's output tokens


@pytest.mark.parametrize("capability", list(C))
def test_a_local_server_priced_at_zero_is_free_for_everything(
    table: PricingTable, capability: Capability
) -> None:
    free = provider("openai_compatible", input_price=0, output_price=0)
    price = table.price(free, "anything", capability)
    assert (price.known, price.source) == (True, "options")
    assert cost(price, Usage(10**6, 10**6, 3600.0, 10**6, 10), "hd 1024x1024") == 0.0


@pytest.mark.parametrize("capability", list(C))
def test_ollama_is_free_for_everything(table: PricingTable, capability: Capability) -> None:
    price = table.price(provider("ollama"), "embeddinggemma", capability)
    assert cost(price, Usage(10**6, 10**6, 3600.0, 10**6, 10), None) == 0.0


def test_token_overrides_price_chat_only(table: PricingTable) -> None:
    options = provider("openai", input_price=1.0, output_price=2.0)
    assert table.price(options, "gpt-4.1-mini").input_per_mtok == 1.0
    embedding = table.price(options, "text-embedding-3-small", C.EMBEDDINGS)
    assert (embedding.input_per_mtok, embedding.source) == (0.02, "pricing_file")


def test_describe_names_every_unit() -> None:
    price = ModelPrice(1.0, 2.0, True, "pricing_file", 0.006, 15.0, (("hd *", 0.08),))
    assert price.describe() == (
        "$1/1M input tokens, $2/1M output tokens, $0.006/audio minute, $15/1M characters, "
        "$0.08/image (hd *)"
    )
    assert ModelPrice(0.0, 0.0, True, "local").describe() == "free"


def test_negative_units_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        cost(ModelPrice(0, 0, True, "x", 1.0), Usage(audio_seconds=-1.0))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("embeddings: {openai: [{match: e}]}", "lists no price"),
        ("embeddings: {openai: [{match: e, input: -1}]}", "input"),
        ("embeddings: {openai: [{match: e, per_token: 1}]}", "per_token"),
        ("speech: {openai: [{match: t, characters: many}]}", "characters"),
        ("images: {openai: [{match: d, image: {hd: -0.1}}]}", "image"),
        ("images: {openia: [{match: d, image: 0.1}]}", "openia"),
        ("audio: {openai: [{match: d, input: 1}]}", "audio"),
    ],
)
def test_a_malformed_media_section_is_a_config_error(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "pricing.yaml"
    path.write_text(f"version: 1\nmodels: {{openai: [{{match: g, input: 1, output: 1}}]}}\n{text}")
    with pytest.raises(ConfigError) as caught:
        PricingTable.load(path)
    assert message in caught.value.message
