"""Assemble the manager and its routing machinery from the settings."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from addon.cache import ResponseCache
from addon.errors import ConfigError
from addon.images import ImageLimits, ImageOptions, default_max_side
from addon.ledger import Ledger
from addon.manager import ProviderManager
from addon.metrics import HubMetrics
from addon.models import ImageInput, RawImage
from addon.pricing import PricingTable
from addon.providers import create_provider, deferred_provider
from addon.providers.base import Provider
from addon.providers.probe import Prober
from addon.routing.breaker import BreakerBoard
from addon.routing.budget import BudgetGuard
from addon.routing.costs import cost_estimator
from addon.routing.guard import Guards
from addon.routing.health import HealthBoard
from addon.routing.limits import Limits
from addon.routing.prepare import ImagePreparer
from addon.routing.stats import StatsBoard
from addon.routing.strategy import make_strategies
from addon.settings import Settings

_LOGGER = logging.getLogger(__name__)


def image_preparer(limits: ImageLimits | None = None) -> ImagePreparer:
    """The manager's image step: the Pillow pipeline, sized for each provider type."""
    image_limits = limits or ImageLimits()

    async def prepare(
        images: Sequence[RawImage], provider_type: str, detail: str | None, timeout: float
    ) -> tuple[ImageInput, ...]:
        from addon.images import prepare_images  # Pillow, on the first image

        options = ImageOptions(max_side=default_max_side(provider_type, detail))
        prepared = await prepare_images(
            [image.data for image in images],
            provider_type=provider_type,
            options=options,
            limits=image_limits,
            timeout=timeout,
        )
        return tuple(ImageInput(p.data, p.mime_type, p.width, p.height) for p in prepared)

    return prepare


def build_manager(
    settings: Settings,
    *,
    data_dir: Path | None = None,
    providers: Sequence[Provider] | None = None,
    prepare_images: ImagePreparer | None = None,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    rng: random.Random | None = None,
    prober: Prober | None = None,
) -> ProviderManager:
    """The manager over ``providers`` (built from ``settings`` unless given).

    With a ``prober`` (its owner closes it) their health checks need no SDK until loaded.
    With a ``data_dir`` the attempts are written to the SQLite ledger there (opened by the
    application's start-up); without one nothing is persisted.
    """
    built = list(providers) if providers is not None else _create_providers(settings, prober)
    names = [p.name for p in built]
    health = HealthBoard(built)
    stats = StatsBoard(names, clock=clock)
    breakers = BreakerBoard(names, clock=clock)
    pricing = PricingTable.load()
    guards = Guards(
        limits=Limits(settings, clock=clock),
        budgets=BudgetGuard(settings, clock=wall_clock),
        breakers=breakers,
        stats=stats,
        health=health,
        pricing=pricing,
        queue_timeout=settings.queue_timeout,
        ledger=Ledger(data_dir, clock=wall_clock) if data_dir is not None else None,
        metrics=HubMetrics(),
        clock=clock,
        wall_clock=wall_clock,
    )
    chooser = rng or random.Random()  # noqa: S311 - routing exploration, not cryptography
    return ProviderManager(
        built,
        guards=guards,
        strategies=make_strategies(
            stats=stats,
            health=health,
            estimate_cost=cost_estimator(pricing),
            rng=chooser,
            breakers=breakers,
        ),
        default_strategy=settings.strategy,
        request_timeout=settings.request_timeout,
        routes=settings.routes,
        cache=ResponseCache(ttl=settings.cache_ttl, clock=clock),
        prepare_images=prepare_images or image_preparer(),
        rng=chooser,
        provider_factory=create_provider,
        health_interval=settings.health_check_interval,
        retention_days=settings.ledger_retention_days,
    )


def _create_providers(settings: Settings, prober: Prober | None) -> list[Provider]:
    """Every provider that can be built; one that cannot is logged and left out (not fatal).

    Each imports its SDK on its first call (``providers.lazy``).
    """
    built = []
    for provider_settings in settings.providers:
        try:
            built.append(deferred_provider(provider_settings, prober))
        except ConfigError as err:
            _LOGGER.exception("%s; it is left out", err.message)
    return built
