"""What the hub shows about itself: provider states, the overall status, models, metrics.

Typed results of the manager's read-only façade; handlers render them (``to_dict``) and never
look at routing or provider objects themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from addon.errors import ProviderError
from addon.metrics import HubMetrics
from addon.models import Capability, ModelInfo
from addon.providers.base import Provider
from addon.routing.guard import Guards
from addon.routing.health import ProviderState

UNUSABLE: Final = frozenset({"down", "disabled", "circuit_open", "over_budget"})
SMALLEST_CALL_USD: Final = 1e-6  # "nothing left" means not even a one-token call fits
MEDIA_CAPABILITIES: Final = (
    Capability.EMBEDDINGS,
    Capability.TRANSCRIPTION,
    Capability.SPEECH,
    Capability.IMAGES,
)


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """Public facts about one provider (the key only masked)."""

    name: str
    type: str
    model: str
    state: str
    error_key: str | None
    vision_model: str | None
    priority: int
    enabled: bool
    vision: bool
    api_key: str | None
    base_url: str | None
    latency_ms: float | None
    message: str | None
    media_models: Mapping[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The short form ``/health`` lists."""
        return {
            "name": self.name,
            "type": self.type,
            "model": self.model,
            "state": self.state,
            "error_key": self.error_key,
        }

    def to_dict(self) -> dict[str, Any]:
        """The long form ``/api/v1/providers`` lists."""
        return {
            **self.summary(),
            "vision_model": self.vision_model,
            "priority": self.priority,
            "enabled": self.enabled,
            "vision": self.vision,
            "api_key": self.api_key,
            "base_url": self.base_url,
            "latency_ms": self.latency_ms,
            "message": self.message,
            "media_models": dict(self.media_models),
        }


@dataclass(frozen=True, slots=True)
class HubStatus:
    """``ok`` when every enabled provider is usable, ``degraded`` when some, ``down`` when none."""

    status: str
    providers: tuple[ProviderStatus, ...]


def provider_state(guards: Guards, provider: Provider) -> str:
    """What ``/health`` shows for ``provider``: its health, unless routing has benched it.

    ``circuit_open`` while its breaker is open; ``over_budget`` while a budget leaves nothing
    for a provider that costs money (a free local model keeps working under the hub's budget).
    """
    name = provider.name
    if not provider.settings.enabled:
        return str(ProviderState.DISABLED)
    if guards.breakers.is_open(name):
        return "circuit_open"
    if not is_free(guards, provider) and not guards.budgets.allows(name, SMALLEST_CALL_USD):
        return "over_budget"
    return str(guards.health.get(name).state)


def provider_status(guards: Guards, provider: Provider) -> ProviderStatus:
    """``provider``'s row as the API and the dashboard show it."""
    health = guards.health.get(provider.name)
    settings = provider.settings
    return ProviderStatus(
        name=provider.name,
        type=settings.type,
        model=settings.model,
        state=provider_state(guards, provider),
        error_key=health.error_key,
        vision_model=settings.vision_model or None,
        priority=settings.priority,
        enabled=settings.enabled,
        vision=provider.supports_vision(settings.vision_model or settings.model),
        api_key=settings.api_key.masked() or None,
        base_url=settings.base_url or None,
        latency_ms=health.latency_ms,
        message=health.message,
        media_models=media_models(provider),
    )


def media_models(provider: Provider) -> dict[str, str]:
    """The model ``provider`` serves each capability beyond chat with (those it serves)."""
    served = {}
    for capability in MEDIA_CAPABILITIES:
        model = provider.default_model(capability)
        if model and provider.supports(capability, model):
            served[str(capability)] = model
    return served


def hub_status(guards: Guards, providers: Collection[Provider]) -> HubStatus:
    """Every provider's row and the overall status they add up to."""
    rows = tuple(provider_status(guards, p) for p in providers)
    states = [row.state for row in rows if row.enabled]
    usable = [s for s in states if s not in UNUSABLE]
    overall = "down" if not usable else "ok" if len(usable) == len(states) else "degraded"
    return HubStatus(status=overall, providers=rows)


def is_free(guards: Guards, provider: Provider) -> bool:
    """True when the provider's model costs nothing (e.g. a local Ollama)."""
    price = guards.pricing.price(provider.settings, provider.settings.model)
    return price.input_per_mtok == 0 and price.output_per_mtok == 0


@dataclass(frozen=True, slots=True)
class ModelRow:
    """One model one provider offers."""

    provider: str
    id: str
    display_name: str | None
    vision: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "provider": self.provider,
            "id": self.id,
            "display_name": self.display_name,
            "vision": self.vision,
        }


@dataclass(frozen=True, slots=True)
class ModelListing:
    """The models of every enabled provider; ``errors`` names those that could not list."""

    models: tuple[ModelRow, ...]
    errors: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"models": [m.to_dict() for m in self.models], "errors": dict(self.errors)}


@dataclass(frozen=True, slots=True)
class OfferedModel:
    """A model the hub serves as configured (a provider's model or vision model)."""

    provider: str
    provider_type: str
    model: str
    vision: bool
    tools: bool


def offered_models(providers: Collection[Provider]) -> tuple[OfferedModel, ...]:
    """Each enabled provider's model and vision model (once when equal), with capabilities.

    From the options and the traits data alone: instant and free (no upstream call).
    """
    offered: list[OfferedModel] = []
    for provider in providers:
        if not provider.settings.enabled:
            continue
        names = [provider.settings.model, provider.settings.vision_model]
        for name in dict.fromkeys(n for n in names if n):
            offered.append(
                OfferedModel(
                    provider=provider.name,
                    provider_type=provider.settings.type,
                    model=name,
                    vision=provider.supports_vision(name),
                    tools=provider.traits(name).tools,
                )
            )
    return tuple(offered)


async def list_models(providers: Collection[Provider], timeout: float) -> ModelListing:
    """Ask every enabled provider concurrently; a provider's failure is listed apart."""
    enabled = [p for p in providers if p.settings.enabled]
    results = await asyncio.gather(
        *(p.list_models(timeout=timeout) for p in enabled), return_exceptions=True
    )
    rows: list[ModelRow] = []
    errors: dict[str, str] = {}
    for provider, result in zip(enabled, results, strict=True):
        if isinstance(result, ProviderError):
            errors[provider.name] = result.key
        elif isinstance(result, BaseException):
            raise result
        else:
            rows.extend(_model_row(provider, info) for info in result)
    return ModelListing(models=tuple(rows), errors=errors)


def _model_row(provider: Provider, info: ModelInfo) -> ModelRow:
    vision = info.vision if info.vision is not None else provider.supports_vision(info.id)
    return ModelRow(provider.name, info.id, info.display_name, vision)


def publish_state(guards: Guards, names: Collection[str], registry: HubMetrics) -> None:
    """Copy the routing state (circuits, headroom, in flight, budgets) into the gauges."""
    for name, state in guards.breakers.states().items():
        registry.set_circuit(name, str(state))
    for name in names:
        registry.set_in_flight(name, guards.limits.in_flight(name))
        for kind, left in guards.limits.headroom(name).items():
            if left is not None:
                registry.set_headroom(name, kind, left)
    budget = guards.budgets.state()
    for scope, periods in [("global", budget), *budget["providers"].items()]:
        for period in ("daily", "monthly"):
            left = periods[period]["left_usd"]
            if left is not None:
                registry.set_budget_left(scope, period, left)
