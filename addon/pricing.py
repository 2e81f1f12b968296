"""The pricing table: what one call to a model costs, in USD.

Prices come from ``pricing.yaml`` (per million tokens, first matching glob wins per provider
type) and can be overridden per provider with the ``input_price`` / ``output_price`` options.
Ollama runs locally and is free. A cloud model the table does not know is never free: it is
flagged ``known=False`` and priced at its vendor's highest listed input and output prices, so a
budget can only be reached early, never overrun. ``openai_compatible`` servers look up their own
entries, then the cloud vendors' entries by bare model name (``openai/gpt-4o`` on OpenRouter is
``gpt-4o``), then a conservative fallback from the file's ``unknown`` section.
"""

from __future__ import annotations

import fnmatch
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import voluptuous as vol
import yaml

from addon.errors import ConfigError
from addon.models import Usage
from addon.settings import PROVIDER_TYPES, ProviderSettings
from addon.validation import humanize

_LOGGER = logging.getLogger(__name__)

PRICING_FILE: Final = Path(__file__).with_name("pricing.yaml")
LOCAL_TYPES: Final = frozenset({"ollama"})
CLOUD_TYPES: Final = ("openai", "anthropic", "gemini")
PER_TOKENS: Final = 1_000_000

_USD = vol.All(vol.Any(int, float), vol.Coerce(float), vol.Range(min=0))
_PATTERNS = vol.Any(
    vol.All(str, vol.Length(min=1)), vol.All([vol.All(str, vol.Length(min=1))], vol.Length(min=1))
)
_RULE = vol.Schema({vol.Required("match"): _PATTERNS, vol.Required("input"): _USD,
                    vol.Required("output"): _USD})  # fmt: skip
_PRICE = vol.Schema({vol.Required("input"): _USD, vol.Required("output"): _USD})
_TYPE = vol.In(PROVIDER_TYPES)
FILE_SCHEMA = vol.Schema(
    {
        vol.Required("version"): 1,
        vol.Optional("checked"): vol.Any(str, date),
        vol.Required("models"): {_TYPE: vol.Any(None, [_RULE])},
        vol.Optional("unknown", default=dict): {_TYPE: _PRICE},
    }
)


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per million input and output tokens of one model, and where that figure came from.

    ``source`` is ``options`` (the provider's own override), ``pricing_file``, ``local``
    (Ollama, free) or ``unknown`` (not listed: a conservative stand-in, ``known`` is False).
    """

    input_per_mtok: float
    output_per_mtok: float
    known: bool
    source: str


@dataclass(frozen=True, slots=True)
class _Rule:
    patterns: tuple[str, ...]
    input_per_mtok: float
    output_per_mtok: float

    def matches(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.patterns)


def cost(price: ModelPrice, usage: Usage) -> float:
    """The USD cost of ``usage`` at ``price``."""
    return _usd(price, usage.input_tokens, usage.output_tokens)


def worst_case(price: ModelPrice, input_tokens: int, max_output_tokens: int) -> float:
    """The most a call can cost: its input plus every output token it may produce."""
    return _usd(price, input_tokens, max_output_tokens)


def _usd(price: ModelPrice, input_tokens: int, output_tokens: int) -> float:
    if input_tokens < 0 or output_tokens < 0:
        raise ValueError(f"token counts cannot be negative ({input_tokens}, {output_tokens})")
    total = math.fsum((input_tokens * price.input_per_mtok, output_tokens * price.output_per_mtok))
    return total / PER_TOKENS


def usd(amount: float) -> str:
    """US dollars with enough digits to be true: cents, or two significant digits below a dime.

    ``usd(12.5)`` is ``$12.50``, ``usd(0.001)`` ``$0.001``, ``usd(0.000123)`` ``$0.00012``;
    never a ``$0.00`` for an amount that is not zero.
    """
    if amount == 0 or not math.isfinite(amount):
        return f"${amount:.2f}"
    sign = "-" if amount < 0 else ""
    magnitude = math.floor(math.log10(abs(amount)))
    decimals = max(2, 1 - magnitude)  # two significant digits, never fewer than cents
    whole, _, fraction = f"{abs(amount):,.{decimals}f}".partition(".")
    fraction = fraction.rstrip("0").ljust(2, "0")
    return f"{sign}${whole}.{fraction}"


def model_key(model: str) -> str:
    """The name patterns are matched against: lower case, without a ``vendor/`` prefix."""
    return model.strip().lower().rsplit("/", 1)[-1]


class PricingTable:
    """Per-model prices by provider type; build it with ``load`` or ``from_mapping``.

    A model no rule lists costs its provider type's fallback: the ``unknown`` entry of the file,
    else the highest prices of that vendor's rules, else the highest prices of the whole table.
    """

    cost = staticmethod(cost)
    worst_case = staticmethod(worst_case)

    def __init__(
        self,
        rules: Mapping[str, tuple[_Rule, ...]],
        fallbacks: Mapping[str, tuple[float, float]],
    ) -> None:
        self._rules = dict(rules)
        self._fallbacks = dict(fallbacks)
        every = tuple(rule for table in self._rules.values() for rule in table)
        if not every:
            raise ConfigError("Invalid pricing data: it lists no model prices")
        self._default = _highest(every)
        self._warned: set[tuple[str, str]] = set()

    @classmethod
    def load(cls, path: Path | None = None) -> PricingTable:
        """Read a pricing file (the bundled one by default); a malformed file is a ConfigError."""
        path = PRICING_FILE if path is None else path
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise ConfigError(f"Cannot read pricing file {path}: {err}") from err
        return cls.from_mapping(raw, source=str(path))

    @classmethod
    def from_mapping(cls, raw: Any, *, source: str = "pricing data") -> PricingTable:
        """Validate parsed pricing data (the YAML file's structure) and build the table."""
        if not isinstance(raw, dict):
            raise ConfigError(f"Invalid pricing file {source}: expected a mapping")
        try:
            data = FILE_SCHEMA(raw)
        except vol.Invalid as err:
            raise ConfigError(f"Invalid pricing file {source}: {humanize(err)}") from err
        rules = {
            provider_type: tuple(_rule(entry) for entry in entries or ())
            for provider_type, entries in data["models"].items()
        }
        fallbacks = {t: (p["input"], p["output"]) for t, p in data["unknown"].items()}
        for provider_type in CLOUD_TYPES:
            if rules.get(provider_type):
                fallbacks.setdefault(provider_type, _highest(rules[provider_type]))
        return cls(rules, fallbacks)

    def price(self, provider: ProviderSettings, model: str) -> ModelPrice:
        """What ``model`` costs on ``provider``: options first, then local, file, fallback."""
        price = self._listed(provider.type, model)
        if provider.input_price is not None or provider.output_price is not None:
            price = ModelPrice(
                input_per_mtok=_pick(provider.input_price, price.input_per_mtok),
                output_per_mtok=_pick(provider.output_price, price.output_per_mtok),
                known=(provider.input_price is not None and provider.output_price is not None)
                or price.known,
                source="options",
            )
        if not price.known:
            self._warn_unknown(provider.name, model, price)
        return price

    def _listed(self, provider_type: str, model: str) -> ModelPrice:
        if provider_type in LOCAL_TYPES:
            return ModelPrice(0.0, 0.0, known=True, source="local")
        name = model_key(model)
        search = [provider_type]
        if provider_type == "openai_compatible":
            search.extend(CLOUD_TYPES)
        for table in search:
            for rule in self._rules.get(table, ()):
                if rule.matches(name):
                    return ModelPrice(
                        rule.input_per_mtok, rule.output_per_mtok, known=True, source="pricing_file"
                    )
        fallback = self._fallbacks.get(provider_type, self._default)
        return ModelPrice(fallback[0], fallback[1], known=False, source="unknown")

    def _warn_unknown(self, provider: str, model: str, price: ModelPrice) -> None:
        if (provider, model) in self._warned:
            return
        self._warned.add((provider, model))
        _LOGGER.warning(
            "No price listed for model %s of provider %s: budgeting it at %.2f/%.2f USD per "
            "million input/output tokens; set input_price and output_price to correct this",
            model,
            provider,
            price.input_per_mtok,
            price.output_per_mtok,
        )


def _rule(entry: Mapping[str, Any]) -> _Rule:
    match = entry["match"]
    patterns = (match,) if isinstance(match, str) else tuple(match)
    return _Rule(tuple(p.lower() for p in patterns), entry["input"], entry["output"])


def _highest(rules: tuple[_Rule, ...]) -> tuple[float, float]:
    # Each price on its own: the stand-in is never cheaper than any listed model on either side.
    return (max(r.input_per_mtok for r in rules), max(r.output_per_mtok for r in rules))


def _pick(override: float | None, listed: float) -> float:
    return listed if override is None else override
