"""Options -> typed ``Settings``.

The voluptuous schema here mirrors ``config.yaml``'s ``schema`` (a test keeps them in step).
Options come from ``/data/options.json`` as the Supervisor writes it; without that file the hub
builds providers from the environment (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``,
``GEMINI_API_KEY``, ``OLLAMA_HOST``) and always falls back to a local Ollama.

One provider's settings never stop the hub: an entry that does not validate is left out and a
key no HTTP header can carry is ignored, each named in ``Settings.problems`` (shown on
``/health``), while every other provider serves. Options that concern the whole hub (and two
providers sharing a name) are still a ``ConfigError``.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import voluptuous as vol

from addon.checks import check_api_key, check_base_url
from addon.errors import ConfigError
from addon.validation import humanize

PROVIDER_TYPES: Final = ("openai", "anthropic", "gemini", "ollama", "openai_compatible")
LOG_LEVELS: Final = ("debug", "info", "warning", "error")
STRATEGIES: Final = (
    "adaptive",
    "priority",
    "round_robin",
    "weighted",
    "least_loaded",
    "fastest",
    "cost",
)
CAPABILITIES: Final = ("vision", "chat", "embeddings", "transcription", "speech", "images")
"""What a route may ``match`` besides a tag (``addon.models.Capability``'s values)."""
DEFAULT_OLLAMA_HOST: Final = "http://localhost:11434"

DEFAULT_MODELS: Final[Mapping[str, str]] = {
    "openai": "gpt-4.1-mini",
    "anthropic": "claude-haiku-4-5",
    "gemini": "gemini-2.5-flash",
    "ollama": "gemma3:4b",
    "openai_compatible": "",
}
MEDIA_MODEL_OPTIONS: Final[Mapping[str, str]] = {
    "embeddings": "embedding_model",
    "transcription": "transcription_model",
    "speech": "speech_model",
    "images": "image_model",
}
"""The provider option naming the model of each capability beyond chat."""
DEFAULT_MEDIA_MODELS: Final[Mapping[str, Mapping[str, str]]] = {
    "openai": {
        "embeddings": "text-embedding-3-small",
        "transcription": "gpt-4o-mini-transcribe",
        "speech": "gpt-4o-mini-tts",
        "images": "gpt-image-1.5",
    },
    "gemini": {
        "embeddings": "gemini-embedding-001",
        "transcription": "gemini-2.5-flash",
        "speech": "gemini-3.8-flash-tts",  # GA; the 2.5 preview TTS models end 2026-12-18
        "images": "gemini-2.5-flash-image",
    },
    "ollama": {"embeddings": "embeddinggemma"},
}
"""The model each provider type uses for a capability when its option is empty (none: the
type offers the capability only with a configured model)."""
ENV_KEYS: Final[Mapping[str, str]] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
}


class Secret:
    """A string that never shows itself in ``repr``/``str`` (logs, tracebacks, diagnostics)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The plain value: only for handing to an SDK or a constant-time compare."""
        return self._value

    def masked(self) -> str:
        """A display form such as ``sk-…abcd`` (never enough to use)."""
        value = self._value
        if len(value) < 12:
            return "…" if value else ""
        return f"{value[:3]}…{value[-4:]}"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__


def _at_least(kind: type, minimum: float, maximum: float | None = None) -> vol.All:
    return vol.All(vol.Coerce(kind), vol.Range(min=minimum, max=maximum))


def _optional_usd() -> vol.Any:
    return vol.Any(None, _at_least(float, 0))


PROVIDER_SCHEMA = vol.Schema(
    {
        vol.Required("name"): vol.All(str, vol.Match(r"^[a-z0-9][a-z0-9_-]{0,31}$")),
        vol.Required("type"): vol.In(PROVIDER_TYPES),
        vol.Optional("api_key", default=""): str,
        vol.Optional("base_url", default=""): str,
        vol.Optional("model", default=""): str,
        vol.Optional("vision_model", default=""): str,
        vol.Optional("embedding_model", default=""): str,
        vol.Optional("transcription_model", default=""): str,
        vol.Optional("speech_model", default=""): str,
        vol.Optional("image_model", default=""): str,
        vol.Optional("priority", default=100): vol.All(vol.Coerce(int), vol.Range(min=0, max=1000)),
        vol.Optional("enabled", default=True): bool,
        vol.Optional("timeout", default=60): vol.All(vol.Coerce(float), vol.Range(min=1, max=600)),
        vol.Optional("weight", default=1.0): _at_least(float, 0, 1000),
        vol.Optional("rpm", default=0): _at_least(int, 0),
        vol.Optional("tpm", default=0): _at_least(int, 0),
        vol.Optional("max_concurrency", default=0): _at_least(int, 0, 1000),
        vol.Optional("budget_daily_usd", default=None): _optional_usd(),
        vol.Optional("budget_monthly_usd", default=None): _optional_usd(),
        vol.Optional("input_price", default=None): _optional_usd(),
        vol.Optional("output_price", default=None): _optional_usd(),
    }
)

ROUTE_SCHEMA = vol.Schema(
    {
        vol.Required("match"): vol.All(str, vol.Match(r"^[\w.:/-]{1,64}$")),
        vol.Required("providers"): vol.All([str], vol.Length(min=1)),
    }
)

# Home Assistant's internal network (core, Supervisor, add-ons) and the add-on's own loopback.
DEFAULT_OLLAMA_NETWORKS: Final = ("172.30.32.0/23", "127.0.0.0/8", "::1/128")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


OLLAMA_API_SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=False): bool,
        vol.Optional("port", default=11434): vol.All(vol.Coerce(int), vol.Range(min=1, max=65535)),
        # Checked one by one in _ollama_api: a typo drops that entry (less access), not the hub.
        vol.Optional("allowed_networks", default=list(DEFAULT_OLLAMA_NETWORKS)): [str],
        vol.Optional("token", default=""): str,
    }
)

OPTIONS_SCHEMA = vol.Schema(
    {
        # Each entry is validated on its own (PROVIDER_SCHEMA), so one cannot sink the others.
        vol.Optional("providers", default=list): list,
        vol.Optional("api_token", default=""): str,
        vol.Optional("request_timeout", default=120): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=900)
        ),
        vol.Optional("log_level", default="info"): vol.In(LOG_LEVELS),
        vol.Optional("strategy", default="adaptive"): vol.In(STRATEGIES),
        vol.Optional("max_concurrency", default=16): _at_least(int, 1, 1000),
        vol.Optional("queue_timeout", default=10): _at_least(float, 0, 600),
        vol.Optional("budget_daily_usd", default=None): _optional_usd(),
        vol.Optional("budget_monthly_usd", default=None): _optional_usd(),
        vol.Optional("routes", default=list): [ROUTE_SCHEMA],
        vol.Optional("cache_ttl", default=300): _at_least(float, 0, 86400 * 7),
        vol.Optional("health_check_interval", default=60): _at_least(float, 5, 86400),
        vol.Optional("ledger_retention_days", default=90): _at_least(int, 1, 3650),
        vol.Optional("ollama_api", default=dict): OLLAMA_API_SCHEMA,
    },
    extra=vol.REMOVE_EXTRA,
)


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """One configured provider."""

    name: str
    type: str
    model: str
    api_key: Secret = field(default_factory=lambda: Secret(""))
    base_url: str = ""
    vision_model: str = ""
    priority: int = 100
    enabled: bool = True
    timeout: float = 60.0
    weight: float = 1.0
    rpm: int = 0  # requests per minute; 0 = no limit
    tpm: int = 0  # tokens per minute; 0 = no limit
    max_concurrency: int = 0  # 0 = no cap
    budget_daily_usd: float | None = None
    budget_monthly_usd: float | None = None
    input_price: float | None = None  # USD per million tokens, overriding the pricing file
    output_price: float | None = None
    # The model of each capability beyond chat; "" = the type's default (DEFAULT_MEDIA_MODELS).
    embedding_model: str = ""
    transcription_model: str = ""
    speech_model: str = ""
    image_model: str = ""

    def media_model(self, capability: str) -> str:
        """The model for ``capability`` (embeddings...): the option, else the type's default."""
        option = MEDIA_MODEL_OPTIONS.get(capability)
        configured: str = getattr(self, option) if option else ""
        return configured or DEFAULT_MEDIA_MODELS.get(self.type, {}).get(capability, "")


@dataclass(frozen=True, slots=True)
class RouteRule:
    """Requests whose tag (or capability) is ``match`` go only to ``providers``, in order."""

    match: str
    providers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OllamaApiSettings:
    """The Ollama-compatible door: its own listener, off by default.

    Ollama clients (Home Assistant's Ollama integration among them) send no token by default,
    so the door serves only ``allowed_networks``; ``token``, when set, is required as well.
    """

    enabled: bool = False
    port: int = 11434
    allowed_networks: tuple[Network, ...] = tuple(
        ipaddress.ip_network(n) for n in DEFAULT_OLLAMA_NETWORKS
    )
    token: Secret = field(default_factory=lambda: Secret(""))


@dataclass(frozen=True, slots=True)
class Settings:
    """The hub's whole configuration."""

    providers: tuple[ProviderSettings, ...]
    api_token: Secret = field(default_factory=lambda: Secret(""))
    request_timeout: float = 120.0
    log_level: str = "info"
    strategy: str = "adaptive"
    max_concurrency: int = 16
    queue_timeout: float = 10.0
    budget_daily_usd: float | None = None
    budget_monthly_usd: float | None = None
    routes: tuple[RouteRule, ...] = ()
    cache_ttl: float = 300.0
    health_check_interval: float = 60.0
    ledger_retention_days: int = 90
    ollama_api: OllamaApiSettings = field(default_factory=OllamaApiSettings)
    source: str = "defaults"
    problems: tuple[str, ...] = ()  # what was left out or ignored, for the log and /health

    def provider(self, name: str) -> ProviderSettings | None:
        """The provider called ``name``, if configured."""
        return next((p for p in self.providers if p.name == name), None)


def parse_options(raw: Mapping[str, Any], *, source: str = "options") -> Settings:
    """Validate an options mapping and build ``Settings``.

    Bad hub-wide options raise ``ConfigError``; a bad provider entry is left out and a bad key
    ignored, both listed in ``problems``.
    """
    try:
        options = OPTIONS_SCHEMA(dict(raw))
    except vol.Invalid as err:
        raise ConfigError(f"Invalid options: {humanize(err)}") from err
    providers, problems, named = _parse_providers(options["providers"])
    names = [p.name for p in providers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(
            f"Invalid options: provider names must be unique ({', '.join(duplicates)})"
        )
    routes = tuple(RouteRule(r["match"], tuple(r["providers"])) for r in options["routes"])
    for route in routes:
        # A route may name a provider that was left out: it then never matches, which keeps
        # the route's promise (those requests go nowhere else) instead of sending them anywhere.
        unknown = sorted(set(route.providers) - named)
        if unknown:
            raise ConfigError(
                f"Invalid options: route {route.match!r} names unknown providers "
                f"({', '.join(unknown)})"
            )
    return Settings(
        providers=tuple(providers),
        api_token=Secret(options["api_token"]),
        request_timeout=options["request_timeout"],
        log_level=options["log_level"],
        strategy=options["strategy"],
        max_concurrency=options["max_concurrency"],
        queue_timeout=options["queue_timeout"],
        budget_daily_usd=options["budget_daily_usd"],
        budget_monthly_usd=options["budget_monthly_usd"],
        routes=routes,
        cache_ttl=options["cache_ttl"],
        health_check_interval=options["health_check_interval"],
        ledger_retention_days=options["ledger_retention_days"],
        ollama_api=_ollama_api(options["ollama_api"], problems),
        source=source,
        problems=tuple(problems),
    )


def _parse_providers(
    entries: list[Any],
) -> tuple[list[ProviderSettings], list[str], set[str]]:
    """Providers that validate, the problems of the others, and every name an entry gives."""
    providers: list[ProviderSettings] = []
    problems: list[str] = []
    named: set[str] = set()
    for index, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        label = f"providers.{index}"
        if isinstance(name, str):
            named.add(name)
        try:
            option = PROVIDER_SCHEMA(entry)
            provider = _provider_settings(option)
        except vol.Invalid as err:
            who = f" {name!r}" if isinstance(name, str) else ""
            problems.append(f"Provider{who} left out: {humanize(err, label)}")
            continue
        key_problem = _key_problem(option["api_key"])
        if key_problem:
            problems.append(f"Provider {provider.name!r}: api_key ignored: {key_problem}")
            provider = replace(provider, api_key=Secret(""))
        providers.append(provider)
    return providers, problems, named


def _key_problem(value: str) -> str | None:
    if not value.strip():
        return None
    try:
        check_api_key(value)
    except ValueError as err:
        return str(err)
    return None


def _ollama_api(option: Mapping[str, Any], problems: list[str]) -> OllamaApiSettings:
    """The door's settings; an entry of ``allowed_networks`` that is no network is left out."""
    networks: list[Network] = []
    for index, value in enumerate(option["allowed_networks"]):
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            problems.append(
                f"ollama_api.allowed_networks.{index}: {value!r} is not an address or CIDR "
                "network; left out"
            )
    return OllamaApiSettings(
        enabled=option["enabled"],
        port=option["port"],
        allowed_networks=tuple(networks),
        token=Secret(option["token"]),
    )


def _provider_settings(option: Mapping[str, Any]) -> ProviderSettings:
    provider_type = option["type"]
    model = option["model"] or DEFAULT_MODELS[provider_type]
    if provider_type == "openai_compatible" and not option["base_url"]:
        raise vol.Invalid("needs a base_url", path=["base_url"])
    if option["base_url"]:
        try:
            check_base_url(option["base_url"], bare_host=provider_type == "ollama")
        except ValueError as err:
            raise vol.Invalid(str(err), path=["base_url"]) from err
    if not model:
        raise vol.Invalid("needs a model", path=["model"])
    key = option["api_key"].strip()
    return ProviderSettings(
        name=option["name"],
        type=provider_type,
        model=model,
        api_key=Secret(key),
        base_url=option["base_url"].strip().rstrip("/"),
        vision_model=option["vision_model"],
        embedding_model=option["embedding_model"].strip(),
        transcription_model=option["transcription_model"].strip(),
        speech_model=option["speech_model"].strip(),
        image_model=option["image_model"].strip(),
        priority=option["priority"],
        enabled=option["enabled"],
        timeout=option["timeout"],
        weight=option["weight"],
        rpm=option["rpm"],
        tpm=option["tpm"],
        max_concurrency=option["max_concurrency"],
        budget_daily_usd=option["budget_daily_usd"],
        budget_monthly_usd=option["budget_monthly_usd"],
        input_price=option["input_price"],
        output_price=option["output_price"],
    )


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """Providers from environment keys, then a local Ollama (always present as the fallback)."""
    providers: list[dict[str, Any]] = []
    for priority, (provider_type, variable) in enumerate(ENV_KEYS.items(), start=1):
        if env.get(variable):
            providers.append(
                {
                    "name": provider_type,
                    "type": provider_type,
                    "api_key": env[variable],
                    "priority": priority * 10,
                }
            )
    providers.append(
        {
            "name": "ollama",
            "type": "ollama",
            "base_url": env.get("OLLAMA_HOST", DEFAULT_OLLAMA_HOST),
            "priority": 100,
        }
    )
    return parse_options(
        {"providers": providers, "api_token": env.get("HUB_API_TOKEN", "")}, source="environment"
    )


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read the options file; without one, build settings from the environment."""
    env = os.environ if env is None else env
    if not path.exists():
        return settings_from_env(env)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"Cannot read options file {path}: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"Options file {path} must hold a JSON object")
    return parse_options(raw, source=str(path))
