"""``GET /health``, ``GET /api/v1/providers`` and ``GET /api/v1/models``."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from addon import __version__
from addon.api.context import HubContext, hub
from addon.api.envelope import endpoint
from addon.errors import ProviderError
from addon.models import ModelInfo
from addon.providers.base import Provider
from addon.routing.health import ProviderState

MODELS_TIMEOUT = 10.0
_SMALLEST_CALL_USD = 1e-6  # "nothing left" means not even a one-token call fits


UNUSABLE = frozenset({"down", "disabled", "circuit_open", "over_budget"})


def provider_state(context: HubContext, provider: Provider) -> str:
    """What ``/health`` shows for ``provider``: its health, unless routing has benched it.

    ``circuit_open`` while its breaker is open; ``over_budget`` while a budget leaves nothing
    for a provider that costs money (a free local model keeps working under the hub's budget).
    """
    guards, name = context.manager.guards, provider.name
    if not provider.settings.enabled:
        return str(ProviderState.DISABLED)
    if guards.breakers.is_open(name):
        return "circuit_open"
    if not _free(context, provider) and not guards.budgets.allows(name, _SMALLEST_CALL_USD):
        return "over_budget"
    return str(context.manager.health.get(name).state)


def overall_status(context: HubContext) -> str:
    """``ok`` when every enabled provider is usable, ``degraded`` when some, ``down`` when none."""
    states = [
        provider_state(context, p) for p in context.manager.providers.values() if p.settings.enabled
    ]
    usable = [s for s in states if s not in UNUSABLE]
    if not usable:
        return "down"
    return "ok" if len(usable) == len(states) else "degraded"


def provider_summary(context: HubContext, provider: Provider) -> dict[str, Any]:
    """Public facts about one provider (the key only masked)."""
    health = context.manager.health.get(provider.name)
    settings = provider.settings
    return {
        "name": provider.name,
        "type": settings.type,
        "model": settings.model,
        "state": provider_state(context, provider),
        "error_key": health.error_key,
    }


def _free(context: HubContext, provider: Provider) -> bool:
    price = context.manager.guards.pricing.price(provider.settings, provider.settings.model)
    return price.input_per_mtok == 0 and price.output_per_mtok == 0


@endpoint
async def health(request: web.Request) -> Mapping[str, Any]:
    """Liveness and per-provider state; no auth, never a secret."""
    context = hub(request)
    return {
        "status": overall_status(context),
        "version": __version__,
        "providers": [provider_summary(context, p) for p in context.manager.providers.values()],
        "notices": context.notices,
    }


@endpoint
async def providers(request: web.Request) -> Mapping[str, Any]:
    """Every configured provider with its state and capabilities."""
    context = hub(request)
    rows = []
    for provider in context.manager.providers.values():
        settings = provider.settings
        health = context.manager.health.get(provider.name)
        rows.append(
            {
                **provider_summary(context, provider),
                "vision_model": settings.vision_model or None,
                "priority": settings.priority,
                "enabled": settings.enabled,
                "vision": provider.supports_vision(settings.vision_model or settings.model),
                "api_key": settings.api_key.masked() or None,
                "base_url": settings.base_url or None,
                "latency_ms": health.latency_ms,
                "message": health.message,
            }
        )
    return {"providers": rows}


@endpoint
async def models(request: web.Request) -> Mapping[str, Any]:
    """Models every enabled provider offers (asked concurrently; failures listed apart)."""
    enabled = [p for p in hub(request).manager.providers.values() if p.settings.enabled]
    results = await asyncio.gather(
        *(p.list_models(timeout=MODELS_TIMEOUT) for p in enabled), return_exceptions=True
    )
    rows: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for provider, result in zip(enabled, results, strict=True):
        if isinstance(result, ProviderError):
            errors[provider.name] = result.key
        elif isinstance(result, BaseException):
            raise result
        else:
            rows.extend(_model_row(provider, info) for info in result)
    return {"models": rows, "errors": errors}


def _model_row(provider: Provider, info: ModelInfo) -> dict[str, Any]:
    vision = info.vision if info.vision is not None else provider.supports_vision(info.id)
    return {
        "provider": provider.name,
        "id": info.id,
        "display_name": info.display_name,
        "vision": vision,
    }
