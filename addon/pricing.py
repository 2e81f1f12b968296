"""The pricing table: what one call to a model costs, in USD, in each capability's units.

Prices come from ``pricing.yaml``: chat (and vision) per million tokens under ``models``, and
one section per capability beyond chat (``embeddings``, ``transcription``, ``speech``,
``images``) whose entries list the units their model is billed in: ``input`` / ``output`` (per
million tokens), ``audio_minute`` (per minute of audio), ``characters`` (per million
characters), ``image`` (per image, flat or by ``"<quality> <size>"``). For each provider type
the first matching glob wins. A provider's ``input_price`` / ``output_price`` options override
its chat prices; both at 0 make the provider free for every capability (a local server).
Ollama runs locally and is free. A cloud model the table does not know is never free: it is
flagged ``known=False`` and priced at its vendor's highest listed price in each unit of that
capability, so a budget can only be reached early, never overrun. ``openai_compatible`` servers
look up their own entries, then the cloud vendors' entries by bare model name (``openai/gpt-4o``
on OpenRouter is ``gpt-4o``), then a conservative fallback.
"""

from __future__ import annotations

import fnmatch
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import yaml

from addon.errors import ConfigError
from addon.models import Capability, Usage
from addon.pricing_file import CHAT_SECTION, MEDIA_SECTIONS, validate
from addon.settings import ProviderSettings
from addon.yaml_files import safe_load

_LOGGER = logging.getLogger(__name__)

PRICING_FILE: Final = Path(__file__).with_name("pricing.yaml")
LOCAL_TYPES: Final = frozenset({"ollama"})
CLOUD_TYPES: Final = ("openai", "anthropic", "gemini")
PER_TOKENS: Final = 1_000_000
PER_CHARACTERS: Final = 1_000_000
PRICE_CACHE_SIZE: Final = 1024


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """What one model costs in each unit, and where that figure came from.

    USD per million input and output tokens, per minute of audio, per million characters and
    per image (``image_prices``: ``(pattern, usd)`` by ``"<quality> <size>"``, first match
    wins, the dearest when none matches). ``source`` is ``options`` (the provider's own
    override), ``pricing_file``, ``local`` (Ollama, free) or ``unknown`` (not listed: a
    conservative stand-in, ``known`` is False).
    """

    input_per_mtok: float
    output_per_mtok: float
    known: bool
    source: str
    audio_per_minute: float = 0.0
    characters_per_m: float = 0.0
    image_prices: tuple[tuple[str, float], ...] = ()

    def describe(self) -> str:
        """The units this price charges, for messages (``$0.13/1M input tokens``...)."""
        units = [
            (self.input_per_mtok, "1M input tokens"),
            (self.output_per_mtok, "1M output tokens"),
            (self.audio_per_minute, "audio minute"),
            (self.characters_per_m, "1M characters"),
        ]
        parts = [f"${amount:g}/{unit}" for amount, unit in units if amount]
        parts += [f"${amount:g}/image ({pattern})" for pattern, amount in self.image_prices]
        return ", ".join(parts) or "free"

    def per_image(self, variant: str | None) -> float:
        """USD of one image of ``variant`` (``"<quality> <size>"``); 0 when not billed so.

        An unknown variant (None) costs the dearest listed image.
        """
        if not self.image_prices:
            return 0.0
        if variant is None:
            return max(usd_each for _, usd_each in self.image_prices)
        name = variant.lower()
        for pattern, usd_each in self.image_prices:
            if fnmatch.fnmatchcase(name, pattern):
                return usd_each
        return max(usd_each for _, usd_each in self.image_prices)


FREE: Final = ModelPrice(0.0, 0.0, known=True, source="local")


def cost(price: ModelPrice, usage: Usage, variant: str | None = None) -> float:
    """The USD cost of ``usage`` at ``price`` (``variant``: the images' quality and size)."""
    tokens = _usd(price, usage.input_tokens, usage.output_tokens)
    if usage.audio_seconds < 0 or usage.characters < 0 or usage.images < 0:
        raise ValueError(f"usage cannot be negative ({usage})")
    return math.fsum(
        (
            tokens,
            usage.audio_seconds / 60 * price.audio_per_minute,
            usage.characters * price.characters_per_m / PER_CHARACTERS,
            usage.images * price.per_image(variant),
        )
    )


def worst_case(price: ModelPrice, input_tokens: int, max_output_tokens: int) -> float:
    """The most a chat call can cost: its input plus every output token it may produce."""
    return _usd(price, input_tokens, max_output_tokens)


def _usd(price: ModelPrice, input_tokens: int, output_tokens: int) -> float:
    if input_tokens < 0 or output_tokens < 0:
        raise ValueError(f"token counts cannot be negative ({input_tokens}, {output_tokens})")
    total = math.fsum((input_tokens * price.input_per_mtok, output_tokens * price.output_per_mtok))
    return total / PER_TOKENS


def usd(value: float) -> str:
    """Dollars with enough digits to be true: at least cents, at least 3 significant digits.

    ``usd(12.345)`` is ``$12.35``, ``usd(0.001)`` ``$0.00100``; never ``$0.00`` for an amount
    that is not zero (down to a millionth of a cent). The dashboard's ``format.js`` follows the
    same rule.
    """
    if value == 0:
        return "$0.00"
    decimals = max(2, min(8, 2 - math.floor(math.log10(abs(value)))))
    return f"${value:,.{decimals}f}"


def model_key(model: str) -> str:
    """The name patterns are matched against: lower case, without a ``vendor/`` prefix."""
    return model.strip().lower().rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class _Rule:
    patterns: tuple[str, ...]
    price: ModelPrice

    def matches(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.patterns)


type _Rules = Mapping[str, tuple[_Rule, ...]]


def section_of(capability: Capability) -> str:
    """The pricing file's section for ``capability`` (chat and vision share ``models``)."""
    if capability in (Capability.CHAT, Capability.VISION):
        return CHAT_SECTION
    return str(capability)


class PricingTable:
    """Per-model prices by capability and provider type; build it with ``load``/``from_mapping``.

    A model no rule lists costs its provider type's fallback for that capability: the
    ``unknown`` entry of the file (chat), else the highest prices of that vendor's rules, else
    the highest prices of the capability's whole section.
    """

    cost = staticmethod(cost)
    worst_case = staticmethod(worst_case)

    def __init__(
        self,
        rules: Mapping[str, _Rules],
        fallbacks: Mapping[str, Mapping[str, ModelPrice]],
    ) -> None:
        self._rules = {section: dict(by_type) for section, by_type in rules.items()}
        self._fallbacks = {section: dict(by_type) for section, by_type in fallbacks.items()}
        if not any(self._rules.get(CHAT_SECTION, {}).values()):
            raise ConfigError("Invalid pricing data: it lists no model prices")
        self._warned: set[tuple[str, str, str]] = set()
        self._listings: dict[tuple[str, str, str], ModelPrice] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> PricingTable:
        """Read a pricing file (the bundled one by default); a malformed file is a ConfigError."""
        path = PRICING_FILE if path is None else path
        try:
            raw = safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise ConfigError(f"Cannot read pricing file {path}: {err}") from err
        return cls.from_mapping(raw, source=str(path))

    @classmethod
    def from_mapping(cls, raw: Any, *, source: str = "pricing data") -> PricingTable:
        """Validate parsed pricing data (the YAML file's structure) and build the table."""
        data = validate(raw, source)
        rules: dict[str, _Rules] = {}
        fallbacks: dict[str, dict[str, ModelPrice]] = {}
        for section in (CHAT_SECTION, *MEDIA_SECTIONS):
            by_type = {
                provider_type: tuple(_rule(entry) for entry in entries or ())
                for provider_type, entries in (data.get(section) or {}).items()
            }
            rules[section] = by_type
            fallbacks[section] = {
                provider_type: _highest(by_type[provider_type])
                for provider_type in CLOUD_TYPES
                if by_type.get(provider_type)
            }
        for provider_type, entry in data["unknown"].items():
            fallbacks[CHAT_SECTION][provider_type] = _unknown(entry["input"], entry["output"])
        return cls(rules, fallbacks)

    def price(
        self, provider: ProviderSettings, model: str, capability: Capability = Capability.CHAT
    ) -> ModelPrice:
        """What ``model`` costs on ``provider`` for ``capability``.

        The provider's options first, then local (free), the file, else the fallback.
        """
        if provider.input_price == 0 and provider.output_price == 0:
            return replace(FREE, source="options")  # a local server, free for everything
        price = self._listed(provider.type, model, section_of(capability))
        chat = capability in (Capability.CHAT, Capability.VISION)
        if chat and (provider.input_price is not None or provider.output_price is not None):
            price = replace(
                price,
                input_per_mtok=_pick(provider.input_price, price.input_per_mtok),
                output_per_mtok=_pick(provider.output_price, price.output_per_mtok),
                known=(provider.input_price is not None and provider.output_price is not None)
                or price.known,
                source="options",
            )
        if not price.known:
            self._warn_unknown(provider.name, model, capability, price)
        return price

    def _listed(self, provider_type: str, model: str, section: str) -> ModelPrice:
        """The file's price, searched once per type, model and section.

        Every call asks and the globs are slow; callers name models, so the memory is bounded.
        """
        key = (provider_type, model, section)
        price = self._listings.get(key)
        if price is None:
            if len(self._listings) >= PRICE_CACHE_SIZE:
                self._listings.clear()
            price = self._listings[key] = self._search(provider_type, model, section)
        return price

    def _search(self, provider_type: str, model: str, section: str) -> ModelPrice:
        if provider_type in LOCAL_TYPES:
            return FREE
        name = model_key(model)
        search = [provider_type]
        if provider_type == "openai_compatible":
            search.extend(CLOUD_TYPES)
        rules = self._rules.get(section, {})
        for table in search:
            for rule in rules.get(table, ()):
                if rule.matches(name):
                    return rule.price
        fallback = self._fallbacks.get(section, {}).get(provider_type)
        if fallback is None:
            fallback = _highest(tuple(rule for table in rules.values() for rule in table))
        return fallback

    def _warn_unknown(
        self, provider: str, model: str, capability: Capability, price: ModelPrice
    ) -> None:
        if (provider, model, capability) in self._warned:
            return
        self._warned.add((provider, model, capability))
        if section_of(capability) == CHAT_SECTION:
            _LOGGER.warning(
                "No price listed for model %s of provider %s: budgeting it at %.2f/%.2f USD per "
                "million input/output tokens; set input_price and output_price to correct this",
                model,
                provider,
                price.input_per_mtok,
                price.output_per_mtok,
            )
            return
        _LOGGER.warning(
            "No %s price listed for model %s of provider %s: budgeting it at the highest %s "
            "prices listed (%s); list it in pricing.yaml, or set input_price and output_price to "
            "0 for a local server",
            capability,
            model,
            provider,
            capability,
            price.describe(),
        )


def _rule(entry: Mapping[str, Any]) -> _Rule:
    match = entry["match"]
    patterns = (match,) if isinstance(match, str) else tuple(match)
    image = entry.get("image")
    images = image.items() if isinstance(image, Mapping) else [("*", image)] if image else []
    price = ModelPrice(
        input_per_mtok=entry.get("input", 0.0),
        output_per_mtok=entry.get("output", 0.0),
        known=True,
        source="pricing_file",
        audio_per_minute=entry.get("audio_minute", 0.0),
        characters_per_m=entry.get("characters", 0.0),
        image_prices=tuple((str(k).lower(), float(v)) for k, v in images),
    )
    return _Rule(tuple(p.lower() for p in patterns), price)


def _unknown(input_per_mtok: float, output_per_mtok: float) -> ModelPrice:
    return ModelPrice(input_per_mtok, output_per_mtok, known=False, source="unknown")


def _highest(rules: Iterable[_Rule]) -> ModelPrice:
    """Each unit's highest price among ``rules``: never cheaper than any of them in any unit."""
    prices = [rule.price for rule in rules]
    if not prices:
        return _unknown(0.0, 0.0)
    images = [usd_each for price in prices for _, usd_each in price.image_prices]
    return ModelPrice(
        input_per_mtok=max(p.input_per_mtok for p in prices),
        output_per_mtok=max(p.output_per_mtok for p in prices),
        known=False,
        source="unknown",
        audio_per_minute=max(p.audio_per_minute for p in prices),
        characters_per_m=max(p.characters_per_m for p in prices),
        image_prices=(("*", max(images)),) if images else (),
    )


def _pick(override: float | None, listed: float) -> float:
    return listed if override is None else override
