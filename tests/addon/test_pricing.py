"""The pricing table: listed prices, overrides, local and unknown models, cost arithmetic."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from addon.errors import ConfigError
from addon.models import Usage
from addon.pricing import PRICE_CACHE_SIZE, ModelPrice, PricingTable, cost, usd, worst_case
from addon.settings import ProviderSettings


def provider(provider_type: str, **options: Any) -> ProviderSettings:
    return ProviderSettings(name=f"my-{provider_type}", type=provider_type, model="x", **options)


@pytest.fixture(scope="module")
def table() -> PricingTable:
    return PricingTable.load()


@pytest.mark.parametrize(
    ("provider_type", "model", "expected"),
    [
        ("openai", "gpt-5", (1.25, 10.0)),
        ("openai", "gpt-5-2025-08-07", (1.25, 10.0)),
        ("openai", "gpt-5-mini", (0.25, 2.0)),
        ("openai", "gpt-5-nano-2025-08-07", (0.05, 0.40)),
        ("openai", "gpt-5-pro", (15.0, 120.0)),
        ("openai", "gpt-4.1", (2.0, 8.0)),
        ("openai", "gpt-4.1-mini", (0.40, 1.60)),
        ("openai", "gpt-4.1-nano", (0.10, 0.40)),
        ("openai", "gpt-4o", (2.50, 10.0)),
        ("openai", "gpt-4o-2024-05-13", (5.0, 15.0)),
        ("openai", "GPT-4o-Mini", (0.15, 0.60)),
        ("openai", "o3", (2.0, 8.0)),
        ("openai", "o3-mini", (1.10, 4.40)),
        ("openai", "o4-mini", (1.10, 4.40)),
        ("anthropic", "claude-opus-4-5", (5.0, 25.0)),
        ("anthropic", "claude-opus-4-1-20250805", (15.0, 75.0)),
        ("anthropic", "claude-sonnet-4-5-20250929", (3.0, 15.0)),
        ("anthropic", "claude-sonnet-4-20250514", (3.0, 15.0)),
        ("anthropic", "claude-haiku-4-5", (1.0, 5.0)),
        ("anthropic", "claude-3-7-sonnet-latest", (3.0, 15.0)),
        ("anthropic", "claude-3-5-haiku-20241022", (0.80, 4.0)),
        ("anthropic", "claude-3-haiku-20240307", (0.25, 1.25)),
        ("anthropic", "claude-3-opus-20240229", (15.0, 75.0)),
        ("gemini", "gemini-2.5-pro", (1.25, 10.0)),
        ("gemini", "gemini-2.5-flash", (0.30, 2.50)),
        ("gemini", "models/gemini-2.5-flash", (0.30, 2.50)),
        ("gemini", "gemini-2.5-flash-lite", (0.10, 0.40)),
        ("gemini", "gemini-2.0-flash", (0.10, 0.40)),
        ("gemini", "gemini-2.0-flash-lite", (0.075, 0.30)),
        ("gemini", "gemini-3-pro-preview", (2.0, 12.0)),
        ("gemini", "gemma-3-27b-it", (0.0, 0.0)),
        ("openai_compatible", "deepseek-chat", (0.28, 0.42)),
        ("openai_compatible", "openai/gpt-4o-mini", (0.15, 0.60)),
        ("openai_compatible", "anthropic/claude-sonnet-4-5", (3.0, 15.0)),
    ],
)
def test_listed_models(
    table: PricingTable, provider_type: str, model: str, expected: tuple[float, float]
) -> None:
    price = table.price(provider(provider_type), model)
    assert (price.input_per_mtok, price.output_per_mtok) == pytest.approx(expected)
    assert price.known is True
    assert price.source == "pricing_file"


@pytest.mark.parametrize(
    ("provider_type", "model", "expected"),
    [
        # The vendor's highest listed input and output prices (o1-pro / Claude Opus 4.1 / 3 Pro).
        ("openai", "gpt-7-ultra", (150.0, 600.0)),
        ("openai", "gpt-4o-mini-realtime-preview", (150.0, 600.0)),
        ("anthropic", "claude-opus-9", (15.0, 75.0)),
        ("gemini", "gemini-9-pro", (2.0, 12.0)),
        # openai_compatible: the file's documented flagship-class fallback.
        ("openai_compatible", "llama3.1:8b", (15.0, 75.0)),
        ("openai_compatible", "meta-llama/llama-3.3-70b-instruct", (15.0, 75.0)),
    ],
)
def test_unknown_cloud_models_are_flagged_and_never_cheap(
    table: PricingTable,
    provider_type: str,
    model: str,
    expected: tuple[float, float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="addon.pricing"):
        price = table.price(provider(provider_type), model)
        table.price(provider(provider_type), model)
    assert (price.input_per_mtok, price.output_per_mtok) == pytest.approx(expected)
    assert price.known is False
    assert price.source == "unknown"
    warnings = [r for r in caplog.records if model in r.getMessage()]
    assert len(warnings) == 1  # once per provider and model, not on every request
    assert "input_price" in warnings[0].getMessage()


@pytest.mark.parametrize("model", ["gemma3:4b", "llama3.2-vision:latest", "gpt-5"])
def test_ollama_is_local_and_free(table: PricingTable, model: str) -> None:
    assert table.price(provider("ollama"), model) == ModelPrice(0.0, 0.0, True, "local")


@pytest.mark.parametrize(
    ("provider_type", "model", "options", "expected"),
    [
        ("openai", "gpt-4.1-mini", {"input_price": 1.0, "output_price": 2.0}, (1.0, 2.0, True)),
        ("openai", "gpt-4.1-mini", {"input_price": 0.0, "output_price": 0.0}, (0.0, 0.0, True)),
        ("openai", "gpt-4.1-mini", {"output_price": 3.0}, (0.40, 3.0, True)),
        ("openai", "gpt-new", {"input_price": 1.0, "output_price": 4.0}, (1.0, 4.0, True)),
        ("openai", "gpt-new", {"input_price": 1.0}, (1.0, 600.0, False)),
        ("openai_compatible", "llama3", {"input_price": 0, "output_price": 0}, (0.0, 0.0, True)),
        ("ollama", "gemma3:4b", {"input_price": 0.01, "output_price": 0.02}, (0.01, 0.02, True)),
    ],
)
def test_provider_options_override_the_file(
    table: PricingTable,
    provider_type: str,
    model: str,
    options: dict[str, float],
    expected: tuple[float, float, bool],
) -> None:
    price = table.price(provider(provider_type, **options), model)
    assert (price.input_per_mtok, price.output_per_mtok, price.known) == pytest.approx(expected)
    assert price.source == "options"


@pytest.mark.parametrize(
    ("price", "usage", "expected"),
    [
        (ModelPrice(1.25, 10.0, True, "pricing_file"), Usage(1_000_000, 0), 1.25),
        (ModelPrice(1.25, 10.0, True, "pricing_file"), Usage(0, 1_000_000), 10.0),
        (ModelPrice(0.40, 1.60, True, "pricing_file"), Usage(1200, 350), 0.00104),
        (ModelPrice(3.0, 15.0, True, "pricing_file"), Usage(1, 1), 0.000018),
        (ModelPrice(0.0, 0.0, True, "local"), Usage(50_000, 50_000), 0.0),
        (ModelPrice(2.0, 8.0, True, "options"), Usage(0, 0), 0.0),
    ],
)
def test_cost_arithmetic(price: ModelPrice, usage: Usage, expected: float) -> None:
    assert cost(price, usage) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert PricingTable.cost(price, usage) == cost(price, usage)


def test_worst_case_charges_every_output_token() -> None:
    price = ModelPrice(1.0, 4.0, True, "pricing_file")
    assert worst_case(price, 2000, 1000) == pytest.approx(0.006)
    assert worst_case(price, 2000, 1000) >= cost(price, Usage(2000, 999))
    assert PricingTable.worst_case(price, 0, 0) == 0.0


def test_negative_token_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        cost(ModelPrice(1.0, 1.0, True, "options"), Usage(-1, 0))


def test_every_listed_price_is_below_its_vendors_unknown_price(table: PricingTable) -> None:
    # The invariant budgets rely on: guessing "unknown" never under-estimates a listed model.
    for provider_type, models in {
        "openai": ["gpt-5-pro", "o1-pro", "gpt-4", "o3-pro"],
        "anthropic": ["claude-opus-4-1", "claude-3-opus-20240229"],
        "gemini": ["gemini-3-pro-preview", "gemini-2.5-pro"],
    }.items():
        unknown = table.price(provider(provider_type), "no-such-model")
        for model in models:
            listed = table.price(provider(provider_type), model)
            assert listed.input_per_mtok <= unknown.input_per_mtok, model
            assert listed.output_per_mtok <= unknown.output_per_mtok, model


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("just a string", "expected a mapping"),
        ("version: 1\nmodels: {openai: [{match: gpt, input: -1, output: 1}]}", "input"),
        ("version: 1\nmodels: {openai: [{match: gpt, input: cheap, output: 1}]}", "input"),
        ("version: 1\nmodels: {openai: [{match: gpt, input: 1}]}", "output"),
        ("version: 1\nmodels: {openai: [{input: 1, output: 1}]}", "match"),
        ("version: 1\nmodels: {openai: [{match: [], input: 1, output: 1}]}", "match"),
        ("version: 1\nmodels: {openai: [{match: g, input: 1, output: 1, x: 1}]}", "x"),
        ("version: 1\nmodels: {openia: [{match: gpt, input: 1, output: 1}]}", "openia"),
        ("version: 2\nmodels: {openai: [{match: gpt, input: 1, output: 1}]}", "version"),
        ("version: 1\nmodels: {openai: []}", "no model prices"),
        ("version: 1\nmodels: {openai: [{match: g, input: 1, output: 1}]}\nunknown: {x: 1}", "x"),
        ("models: [unclosed", "Cannot read"),
    ],
)
def test_a_malformed_pricing_file_is_a_config_error(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "pricing.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        PricingTable.load(path)
    assert message in caught.value.message
    assert caught.value.key == "invalid_config"


def test_a_missing_pricing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot read"):
        PricingTable.load(tmp_path / "absent.yaml")


def test_first_match_wins_and_unknown_falls_back_to_the_whole_table() -> None:
    table = PricingTable.from_mapping(
        {
            "version": 1,
            "models": {
                "openai": [
                    {"match": "gpt-a-mini*", "input": 0.5, "output": 1},
                    {"match": ["gpt-a*", "gpt-b"], "input": 2, "output": 3},
                ],
                "anthropic": [{"match": "claude-z", "input": 7, "output": 1}],
            },
        }
    )
    assert table.price(provider("openai"), "gpt-a-mini-1").input_per_mtok == 0.5
    assert table.price(provider("openai"), "gpt-a-1").input_per_mtok == 2
    assert table.price(provider("openai"), "gpt-b").output_per_mtok == 3
    # No gemini rules and no fallback: the most expensive of everything, per side.
    unknown = table.price(provider("gemini"), "gemini-x")
    assert (unknown.input_per_mtok, unknown.output_per_mtok, unknown.known) == (7, 3, False)


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (0.0, "$0.00"),
        (12.5, "$12.50"),
        (1234.567, "$1,234.57"),
        (0.25, "$0.250"),
        (0.001, "$0.00100"),
        (0.0012345, "$0.00123"),
        (0.00000001, "$0.00000001"),
    ],
)
def test_money_is_shown_with_enough_digits_to_be_true(amount: float, shown: str) -> None:
    assert usd(amount) == shown


class CountingTable(PricingTable):
    """The bundled table, counting how often the rules are searched."""

    searches = 0

    def _search(self, provider_type: str, model: str, section: str) -> ModelPrice:
        self.searches += 1
        return super()._search(provider_type, model, section)


def counting_table() -> CountingTable:
    bundled = PricingTable.load()
    return CountingTable(bundled._rules, bundled._fallbacks)  # noqa: SLF001 - same rules


def test_a_price_is_looked_up_once_per_provider_and_model() -> None:
    table = counting_table()
    first = [table.price(provider("openai"), m) for m in ("gpt-4o", "gpt-4.1-mini", "gpt-4o")]
    again = [table.price(provider("openai"), m) for m in ("gpt-4o", "gpt-4.1-mini")]
    assert table.searches == 2
    assert first[0] == first[2] == again[0]
    assert first[1] == again[1]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"input_price": 1.0, "output_price": 2.0}, {"input_price": 3.0, "output_price": 2.0}),
        ({"output_price": 9.0}, {}),
        ({"type": "openai"}, {"type": "ollama"}),
    ],
)
def test_a_provider_whose_prices_or_type_differ_is_priced_anew(
    a: dict[str, Any], b: dict[str, Any]
) -> None:
    table = counting_table()

    def priced(options: dict[str, Any]) -> ModelPrice:
        settings = {"name": "same", "type": "openai", "model": "gpt-4o", **options}
        return table.price(ProviderSettings(**settings), "gpt-4o")

    first = priced(a)
    assert priced(b) != first
    assert priced(a) == first  # b's price did not replace a's


def test_the_price_cache_stays_bounded_and_right() -> None:
    table = counting_table()
    models = [f"gpt-4o-variant-{n}" for n in range(PRICE_CACHE_SIZE + 10)]
    prices = {table.price(provider("openai"), m) for m in models}
    assert prices == {table.price(provider("openai"), "gpt-4o-anything")}
    assert table.price(provider("openai"), "gpt-4.1-mini").input_per_mtok == pytest.approx(0.40)
    assert len(table._listings) <= PRICE_CACHE_SIZE  # noqa: SLF001 - the bound is the point
