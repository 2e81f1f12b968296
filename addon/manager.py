"""ProviderManager: the only place a request meets providers, and the hub's façade.

For one request, whatever its capability (chat, vision, embeddings, transcription, speech,
images): filter capable candidates (pinned provider, capability, routes), let the strategy
order them, then walk them (``routing.failover``, through the request's call spec) under the
request's total deadline. Handlers and the application reach everything else through the
manager too: status, models, usage, keys, metrics and the lifecycle (ledger, budgets, health
monitor). Data flows one way: handler -> manager -> (routing, providers, ledger).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

from addon import overview
from addon.cache import ResponseCache, as_cached, cache_key, media_cache_key
from addon.errors import HubError
from addon.hub_keys import KeyCheck, ProviderFactory, ProviderKeys
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
from addon.models import (
    AudioChunk,
    EmbeddingRequest,
    EmbeddingResponse,
    HealthStatus,
    HubRequest,
    HubResponse,
    ImageRequest,
    ImageResponse,
    MediaRequest,
    MediaResponse,
    ModelInfo,
    SpeechRequest,
    SpeechResponse,
    StreamDelta,
    TranscriptDelta,
    TranscriptionRequest,
    TranscriptionResponse,
)
from addon.providers import create_provider
from addon.providers.base import Provider
from addon.providers.lazy import LazyProvider
from addon.routing import failover
from addon.routing.calls import CallSpec
from addon.routing.candidates import CandidatePicker
from addon.routing.catalog import ModelCatalog
from addon.routing.chat_call import ChatCall
from addon.routing.guard import Guards
from addon.routing.health import HealthBoard
from addon.routing.media import EmbedCall, ImageCall, SpeakCall, TranscribeCall
from addon.routing.monitor import HealthMonitor
from addon.routing.prepare import ImagePreparer, passthrough_images
from addon.routing.run import Backoff, RunPlan
from addon.routing.strategy import Strategy
from addon.sendable import check_sendable
from addon.settings import ProviderSettings, RouteRule, Secret
from addon.structure import check_structure

_LOGGER = logging.getLogger(__name__)

MODELS_TIMEOUT = 10.0
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
        self.catalog = ModelCatalog(clock=guards.clock)
        self._picker = CandidatePicker(
            self.providers,  # a live view: follows replaced providers
            strategies=strategies,
            default_strategy=default_strategy,
            routes=self.routes,
            catalog=self.catalog,
        )
        self.keys = ProviderKeys(self.providers, guards, self.catalog, provider_factory)
        self._retention_days = retention_days
        self.monitor = HealthMonitor(
            self.providers.values(),  # a live view: follows replaced providers
            guards.health,
            interval=health_interval,
            timeout=HEALTH_CHECK_TIMEOUT,
            on_result=self.keys.checked,
        )
        self._warming: asyncio.Task[None] | None = None

    @property
    def health(self) -> HealthBoard:
        """What is known about every provider's health."""
        return self.guards.health

    # --- candidates ---------------------------------------------------------------------
    def candidates(self, request: HubRequest) -> list[Provider]:
        """Enabled providers able to serve ``request``, in the order they will be tried."""
        return self._picker.for_chat(request)

    # --- requests: chat -----------------------------------------------------------------
    async def run(self, request: HubRequest) -> HubResponse:
        """Answer ``request``: from the cache when allowed, else from the first good provider."""
        check_sendable(request.chat)
        check_structure(request.chat)
        await self._picker.learn_models(request)
        candidates = self.candidates(request)
        key = None
        if self.cache is not None and self.cache.should_cache(request, request.cache):
            key = cache_key(request, [p.name for p in candidates])
            hit = await self._cached(key, request)
            if isinstance(hit, HubResponse):
                return as_cached(hit, request.request_id)
        response = await self._answer(self._chat_call(request), candidates)
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
        await self._picker.learn_models(request)
        async for item in self._stream(self._chat_call(request), self.candidates(request)):
            yield item

    def _chat_call(self, request: HubRequest) -> ChatCall:
        return ChatCall(request, self._plan.prepare_images)

    # --- requests: beyond chat ----------------------------------------------------------
    async def embed(
        self, request: MediaRequest[EmbeddingRequest]
    ) -> MediaResponse[EmbeddingResponse]:
        """One vector per input (cached: the same inputs give the same vectors)."""
        return await self._media(EmbedCall(request), cache_by_default=True)

    async def transcribe(
        self, request: MediaRequest[TranscriptionRequest]
    ) -> MediaResponse[TranscriptionResponse]:
        """The transcript of the request's audio."""
        return await self._media(TranscribeCall(request))

    async def transcribe_stream(
        self, request: MediaRequest[TranscriptionRequest]
    ) -> AsyncIterator[TranscriptDelta | MediaResponse[TranscriptionResponse]]:
        """Transcript pieces as they come, then the final response."""
        spec = TranscribeCall(request)
        async for item in self._stream(spec, self.media_candidates(request)):
            yield item

    async def speak(self, request: MediaRequest[SpeechRequest]) -> MediaResponse[SpeechResponse]:
        """The request's text spoken."""
        return await self._media(SpeakCall(request))

    async def speak_stream(
        self, request: MediaRequest[SpeechRequest]
    ) -> AsyncIterator[AudioChunk | MediaResponse[SpeechResponse]]:
        """Audio chunks as they come, then the final response (its usage and cost)."""
        spec = SpeakCall(request)
        async for item in self._stream(spec, self.media_candidates(request)):
            yield item

    async def generate_image(
        self, request: MediaRequest[ImageRequest]
    ) -> MediaResponse[ImageResponse]:
        """The images the request's prompt asks for."""
        return await self._media(ImageCall(request))

    async def _media[C, A, P](
        self, spec: CallSpec[C, A, P, MediaResponse[A]], *, cache_by_default: bool = False
    ) -> MediaResponse[A]:
        """Answer a media request: from the cache when it applies, else through failover.

        Only deterministic capabilities are cached by default (embeddings); the others when
        the caller asks (``cache: true``).
        """
        request = cast("MediaRequest[Any]", spec.request)
        candidates = self.media_candidates(request)
        key = None
        wanted = request.cache if request.cache is not None else cache_by_default
        if self.cache is not None and self.cache.enabled and wanted:
            key = media_cache_key(request, [p.name for p in candidates])
            hit = await self._cached(key, request)
            if isinstance(hit, MediaResponse):
                return cast("MediaResponse[A]", as_cached(hit, request.request_id))
        response = await self._answer(spec, candidates)
        if key is not None and self.cache is not None:
            self.cache.put(key, response)
        return response

    def media_candidates(self, request: MediaRequest[Any]) -> list[Provider]:
        """Providers able to serve a media ``request``, in the order they will be tried."""
        check_sendable(request.body)
        return self._picker.for_media(request)

    # --- the attempt loop ---------------------------------------------------------------
    async def _cached(
        self, key: str, request: HubRequest | MediaRequest[Any]
    ) -> HubResponse | MediaResponse[Any] | None:
        """The cached answer under ``key`` (ledgered as a free hit), or None (a miss)."""
        assert self.cache is not None
        hit = self.cache.get(key)
        if hit is None:
            if self.guards.metrics is not None:
                self.guards.metrics.cache_miss()
            return None
        await self.guards.record_cached(request, hit.provider, hit.model)
        self._observe("ok", cached=True)
        return hit

    async def _answer[C, A, P, H](
        self, spec: CallSpec[C, A, P, H], candidates: list[Provider]
    ) -> H:
        try:
            response = await failover.answer(self._plan, spec, candidates)
        except HubError as err:
            self._observe(err.key, cached=False)
            raise
        except Exception as err:
            raise self._internal(err) from err
        self._observe("ok", cached=False)
        return response

    async def _stream[C, A, P, H](
        self, spec: CallSpec[C, A, P, H], candidates: list[Provider]
    ) -> AsyncIterator[P | H]:
        try:
            async for item in failover.stream(self._plan, spec, candidates):
                if isinstance(item, HubResponse | MediaResponse):  # the last item
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
        return self.keys.provider(name).settings

    def offered_models(self) -> tuple[OfferedModel, ...]:
        """The configured models of the enabled providers and what each can do (no calls)."""
        return offered_models(list(self.providers.values()))

    async def models(self) -> ModelListing:
        """The models every enabled provider offers (asked live, concurrently)."""
        listing = await list_models(list(self.providers.values()), MODELS_TIMEOUT)
        for provider in self.providers.values():
            if provider.settings.enabled:  # what routing a bare model name needs to know
                rows = [m for m in listing.models if m.provider == provider.name]
                failed = provider.name in listing.errors
                self.catalog.record(
                    provider.name, None if failed else [ModelInfo(m.id) for m in rows]
                )
        return listing

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
        return await self.keys.use(name, key)

    async def test_key(self, name: str, key: Secret | None = None) -> KeyCheck:
        """Check ``key`` (default: the key in use) live against provider ``name``."""
        return await self.keys.test(name, key)

    # --- façade: lifecycle --------------------------------------------------------------
    async def open(self, *, monitor: bool = True) -> None:
        """Open the ledger, load the budgets' spend from it, purge old rows, start checks.

        The hub answers at once: with the checks, the first choice's SDK is imported in the
        background (``warm_up``) and every other provider's by its first call (their health
        checks probe the vendor over HTTP until then, given a prober, or load it in the
        background); without the checks, every SDK before this returns.
        """
        ledger = self.guards.ledger
        if ledger is not None:
            await ledger.open()
            await self.guards.budgets.load(ledger)
            await ledger.purge_expired(self._retention_days)
        if monitor:
            self.monitor.start()
            self._warming = asyncio.create_task(self.warm_up(), name="warm-up")
        else:  # nothing would before the first request: load them now
            await asyncio.gather(
                *(
                    provider.loaded()
                    for provider in self.providers.values()
                    if isinstance(provider, LazyProvider) and provider.settings.enabled
                )
            )

    async def warm_up(self) -> None:
        """Import the SDK of the provider tried first (lowest ``priority``, enabled).

        Its first request then waits for no import; the others load on their first call, so
        idle memory holds one vendor's library at most. A provider that cannot be built says
        so on its first call.
        """
        enabled = [p for p in self.providers.values() if p.settings.enabled]
        first = min(enabled, key=lambda p: p.settings.priority, default=None)
        if isinstance(first, LazyProvider):
            try:
                await first.loaded()
            except HubError as err:
                _LOGGER.debug("Provider %s not warmed up: %s", first.name, err.message)

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
        if self._warming is not None:
            self._warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._warming
        await asyncio.gather(*(p.close() for p in self.providers.values()))
        if self.guards.ledger is not None:
            await self.guards.ledger.close()
