"""ProviderManager: the only place a request meets providers, and the hub's façade.

For one request: filter capable candidates (pinned provider, vision, routes), let the strategy
order them, then walk them (``routing.failover``) under the request's total deadline. Handlers
and the application reach everything else through the manager too: status, models, usage,
keys, metrics and the lifecycle (ledger, budgets, health monitor). Data flows one way:
handler -> manager -> (routing, providers, ledger).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from addon import overview
from addon.cache import ResponseCache, as_cached, cache_key
from addon.errors import HubError, NoCapableProviderError, NotFoundError
from addon.hub_keys import KeyCheck, check_key
from addon.hub_status import (
    HubStatus,
    ModelListing,
    OfferedModel,
    hub_status,
    list_models,
    offered_models,
    publish_state,
)
from addon.hub_usage import UsageOverview, usage_overview
from addon.models import HealthStatus, HubRequest, HubResponse, StreamDelta
from addon.providers import create_provider
from addon.providers.base import Provider
from addon.routing import failover
from addon.routing.guard import Guards, credential_fingerprint
from addon.routing.health import HealthBoard
from addon.routing.monitor import HealthMonitor
from addon.routing.prepare import ImagePreparer, model_for, passthrough_images
from addon.routing.run import Backoff, RunPlan
from addon.routing.strategy import Strategy
from addon.sendable import check_sendable
from addon.settings import ProviderSettings, RouteRule, Secret
from addon.structure import check_structure

_LOGGER = logging.getLogger(__name__)

ProviderFactory = Callable[[ProviderSettings], Provider]
MODELS_TIMEOUT = 10.0
KEY_CHECK_TIMEOUT = 15.0
HEALTH_CHECK_TIMEOUT = 10.0


class ProviderManager:
    """Routes requests to providers with capability filtering, ordering and failover."""

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        guards: Guards,
        strategies: Mapping[str, Strategy],
        default_strategy: str,
        request_timeout: float,
        routes: Sequence[RouteRule] = (),
        cache: ResponseCache | None = None,
        prepare_images: ImagePreparer = passthrough_images,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        provider_factory: ProviderFactory = create_provider,
        health_interval: float = 60.0,
        retention_days: int = 90,
    ) -> None:
        self.providers: dict[str, Provider] = {p.name: p for p in providers}
        self.guards = guards
        self.strategies = strategies
        self.default_strategy = default_strategy
        self.request_timeout = request_timeout
        self.routes = tuple(routes)
        self.cache = cache
        backoff = Backoff(rng or random.Random(), sleep)  # noqa: S311 - jitter, not crypto
        self._plan = RunPlan(guards, request_timeout, prepare_images, backoff)
        self._provider_factory = provider_factory
        self._retention_days = retention_days
        self.monitor = HealthMonitor(
            self.providers.values(),  # a live view: follows replaced providers
            guards.health,
            interval=health_interval,
            timeout=HEALTH_CHECK_TIMEOUT,
            on_result=self._checked,
        )

    @property
    def health(self) -> HealthBoard:
        """What is known about every provider's health."""
        return self.guards.health

    # --- candidates ---------------------------------------------------------------------
    def candidates(self, request: HubRequest) -> list[Provider]:
        """Enabled providers able to serve ``request``, in the order they will be tried."""
        pool = [p for p in self.providers.values() if p.settings.enabled]
        if request.provider is not None:
            pool = [p for p in pool if p.name == request.provider]
            if not pool:
                known = ", ".join(sorted(self.providers)) or "none"
                raise NoCapableProviderError(
                    f"No enabled provider named {request.provider!r} (configured: {known})"
                )
        pool = self._capable(pool, request)
        route = self._route(request)
        if route is not None:
            pool = [p for p in pool if p.name in route.providers]
            if not pool:
                raise NoCapableProviderError(
                    f"Route {route.match!r} allows only {', '.join(route.providers)}, "
                    "and none of them can serve this request"
                )
        strategy_name = request.strategy or self.default_strategy
        ordered = self.strategies[strategy_name].order(pool, request)
        if route is not None and strategy_name == "priority":
            ordered.sort(key=lambda p: route.providers.index(p.name))
        return ordered

    def _capable(self, pool: list[Provider], request: HubRequest) -> list[Provider]:
        """The providers whose model can do what ``request`` needs (images, tools)."""
        if request.needs_vision:
            pool = [p for p in pool if p.supports_vision(model_for(p, request))]
            if not pool:
                raise NoCapableProviderError(
                    "No enabled provider has a vision-capable model: set a vision_model"
                )
        if request.chat.uses_tools:
            pool = [p for p in pool if p.traits(model_for(p, request)).tools]
            if not pool:
                raise NoCapableProviderError(
                    "No enabled provider has a model that can call tools: pick a tool-capable "
                    "model (see DOCS.md, Tool calling)"
                )
        return pool

    def _route(self, request: HubRequest) -> RouteRule | None:
        """The routing rule for the request's tag, else for its capability; a pin has none."""
        if request.provider is not None:
            return None
        capability = "vision" if request.needs_vision else "chat"
        by_match = {rule.match: rule for rule in self.routes}
        if request.tag and request.tag in by_match:
            return by_match[request.tag]
        return by_match.get(capability)

    # --- requests -----------------------------------------------------------------------
    async def run(self, request: HubRequest) -> HubResponse:
        """Answer ``request``: from the cache when allowed, else from the first good provider."""
        check_sendable(request.chat)
        check_structure(request.chat)
        candidates = self.candidates(request)
        key = None
        if self.cache is not None and self.cache.should_cache(request, request.cache):
            key = cache_key(request, [p.name for p in candidates])
            hit = self.cache.get(key)
            if hit is not None:
                await self.guards.record_cached(request, hit.provider, hit.model)
                self._observe("ok", cached=True)
                return as_cached(hit, request.request_id)
            if self.guards.metrics is not None:
                self.guards.metrics.cache_miss()
        try:
            response = await failover.answer(self._plan, request, candidates)
        except HubError as err:
            self._observe(err.key, cached=False)
            raise
        except Exception as err:
            raise self._internal(err) from err
        self._observe("ok", cached=False)
        if key is not None and self.cache is not None:
            self.cache.put(key, response)
        return response

    async def stream(self, request: HubRequest) -> AsyncIterator[StreamDelta | HubResponse]:
        """Yield the answer's deltas, then the final ``HubResponse``.

        Failover happens only before the first delta: once text has reached the caller, a
        failure ends the stream with its error.
        """
        check_sendable(request.chat)
        check_structure(request.chat)
        candidates = self.candidates(request)
        try:
            async for item in failover.stream(self._plan, request, candidates):
                if isinstance(item, HubResponse):
                    self._observe("ok", cached=False)
                yield item
        except HubError as err:
            self._observe(err.key, cached=False)
            raise
        except Exception as err:
            raise self._internal(err) from err

    def _internal(self, err: Exception) -> HubError:
        """A bug in the hub's own code: logged with its traceback, never a provider's fault."""
        _LOGGER.error("Internal error while answering a request", exc_info=err)
        self._observe(HubError.key, cached=False)
        return HubError("Internal error in the hub; see the add-on log")

    def _observe(self, outcome: str, *, cached: bool) -> None:
        if self.guards.metrics is not None:
            self.guards.metrics.observe_request(outcome, cached)

    # --- façade: what handlers and the application read ---------------------------------
    def status(self) -> HubStatus:
        """Every provider's state and the overall status."""
        return hub_status(self.guards, list(self.providers.values()))

    def configured(self) -> tuple[ProviderSettings, ...]:
        """Every provider's settings, in configuration order."""
        return tuple(p.settings for p in self.providers.values())

    def provider_settings(self, name: str) -> ProviderSettings:
        """The settings of provider ``name``; ``NotFoundError`` when there is none."""
        return self._provider(name).settings

    def offered_models(self) -> tuple[OfferedModel, ...]:
        """The configured models of the enabled providers and what each can do (no calls)."""
        return offered_models(list(self.providers.values()))

    async def models(self) -> ModelListing:
        """The models every enabled provider offers (asked live, concurrently)."""
        return await list_models(list(self.providers.values()), MODELS_TIMEOUT)

    async def usage(self, since: float | None = None, until: float | None = None) -> UsageOverview:
        """Ledger figures for ``[since, until)`` (default this UTC month) and budget state."""
        return await usage_overview(
            self.guards.ledger, self.guards.budgets, self.guards.wall_clock(), since, until
        )

    def metrics_exposition(self) -> tuple[bytes, str] | None:
        """The Prometheus exposition with fresh state gauges; None for a hub without metrics."""
        registry = self.guards.metrics
        if registry is None:
            return None
        publish_state(self.guards, list(self.providers), registry)
        return registry.render()

    # --- façade: keys -------------------------------------------------------------------
    async def use_key(self, name: str, key: Secret) -> ProviderSettings:
        """Rebuild provider ``name`` with ``key`` and route to it from now on."""
        rebuilt = self._provider_factory(replace(self.provider_settings(name), api_key=key))
        await self.replace_provider(rebuilt)
        return rebuilt.settings

    async def test_key(self, name: str, key: Secret | None = None) -> KeyCheck:
        """Check ``key`` (default: the key in use) live against provider ``name``.

        A pass for the key in use re-admits a provider benched because that key was rejected.
        """
        provider = self._provider(name)
        in_use = key is None or key == provider.settings.api_key
        probe = provider
        if key is not None and not in_use:
            probe = self._provider_factory(replace(provider.settings, api_key=key))
        started = self.guards.clock()
        try:
            result = await check_key(probe, KEY_CHECK_TIMEOUT)
        finally:
            if probe is not provider:
                await probe.close()
        if in_use and result.valid and self.providers.get(name) is provider:
            latency = round((self.guards.clock() - started) * 1000, 1)
            self.health.record_success(name, latency)
            self._readmit(provider)
        return result

    def _checked(self, name: str, status: HealthStatus) -> None:
        """A health check's result: a pass proves the key in use is accepted again."""
        if status.ok and name in self.providers:
            self._readmit(self.providers[name])

    def _readmit(self, provider: Provider) -> None:
        breaker = self.guards.breakers.get(provider.name)
        breaker.credentials_accepted(credential_fingerprint(provider))

    async def replace_provider(self, provider: Provider) -> None:
        """Swap in a rebuilt provider (e.g. after its key changed) and close the old one."""
        old = self.providers[provider.name]
        self.providers[provider.name] = provider
        self.health.reset(provider.name)
        self.guards.breakers.get(provider.name).credentials_changed(
            credential_fingerprint(provider)
        )
        await old.close()

    def _provider(self, name: str) -> Provider:
        provider = self.providers.get(name)
        if provider is None:
            raise NotFoundError(f"No provider named {name!r}")
        return provider

    # --- façade: lifecycle --------------------------------------------------------------
    async def open(self, *, monitor: bool = True) -> None:
        """Open the ledger, load the budgets' spend from it, purge old rows, start checks."""
        ledger = self.guards.ledger
        if ledger is not None:
            await ledger.open()
            await self.guards.budgets.load(ledger)
            await ledger.purge_expired(self._retention_days)
        if monitor:
            self.monitor.start()

    async def check_health(self) -> dict[str, HealthStatus]:
        """Check every enabled provider now (as the monitor's rounds do) and record it."""
        return await self.monitor.check_now()

    # --- façade: the dashboard's views -------------------------------------------------
    async def provider_details(self) -> dict[str, dict[str, Any]]:
        """Live figures of every provider by name: reason, load, headroom, budget, recent."""
        recent = {}
        if self.guards.ledger is not None:
            now = self.guards.wall_clock()
            report = await self.guards.ledger.usage(now - overview.RECENT_WINDOW, now)
            recent = dict(report.by_provider)
        return {
            name: overview.provider_details(self.guards, provider, recent.get(name))
            for name, provider in self.providers.items()
        }

    def routing_overview(self) -> dict[str, Any]:
        """The strategy, routes and provider order, each explained in one line."""
        return overview.routing_overview(
            strategy=self.default_strategy,
            routes=self.routes,
            providers=self.providers.values(),
            request_timeout=self.request_timeout,
            cache_ttl=self.cache.ttl if self.cache is not None else 0.0,
        )

    async def recent_requests(self, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` requests from the ledger with their attempt trails."""
        if self.guards.ledger is None:
            return []
        return [record.to_dict() for record in await self.guards.ledger.recent(limit)]

    async def close(self) -> None:
        """Stop the health checks, close every provider's SDK client, then the ledger."""
        await self.monitor.stop()
        await asyncio.gather(*(p.close() for p in self.providers.values()))
        if self.guards.ledger is not None:
            await self.guards.ledger.close()
