"""ProviderManager: the only place a request meets providers.

For one request: filter capable candidates (pinned provider, vision, routes), let the strategy
order them, then try them under the request's total deadline. The ``Guards`` admit each call
(budget, breaker, limits) and account for it; a retryable failure moves on to the next
candidate, and a candidate that failed transiently may be tried again after a full-jitter
backoff while the attempt budget and the deadline allow.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import replace

from addon.cache import ResponseCache, as_cached, cache_key
from addon.errors import HubError, NoCapableProviderError, ProviderError
from addon.models import (
    ChatRequest,
    ChatResponse,
    FinishReason,
    HubRequest,
    HubResponse,
    ImageInput,
    Message,
    RawImage,
    Role,
    StreamDelta,
    ToolCall,
    Usage,
)
from addon.providers.base import Provider
from addon.routing.guard import Guards, Ticket, credential_fingerprint
from addon.routing.health import HealthBoard
from addon.routing.run import RunState
from addon.routing.strategy import Strategy
from addon.settings import RouteRule

_LOGGER = logging.getLogger(__name__)

ImagePreparer = Callable[[Sequence[RawImage], str, str | None], Awaitable[tuple[ImageInput, ...]]]


async def passthrough_images(
    images: Sequence[RawImage], provider_type: str, detail: str | None
) -> tuple[ImageInput, ...]:
    """Hand images on unchanged (where no preprocessing is wanted, e.g. unit tests)."""
    return tuple(ImageInput(i.data, i.declared_type or "image/jpeg") for i in images)


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
    ) -> None:
        self.providers: dict[str, Provider] = {p.name: p for p in providers}
        self.guards = guards
        self.strategies = strategies
        self.default_strategy = default_strategy
        self.request_timeout = request_timeout
        self.routes = tuple(routes)
        self.cache = cache
        self._prepare_images = prepare_images
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._sleep = sleep

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
        if route is not None and request.provider is None:
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
            pool = [p for p in pool if p.supports_vision(self.model_for(p, request))]
            if not pool:
                raise NoCapableProviderError(
                    "No enabled provider has a vision-capable model: set a vision_model"
                )
        if request.chat.uses_tools:
            pool = [p for p in pool if p.traits(self.model_for(p, request)).tools]
            if not pool:
                raise NoCapableProviderError(
                    "No enabled provider has a model that can call tools: pick a tool-capable "
                    "model (see DOCS.md, Tool calling)"
                )
        return pool

    def _route(self, request: HubRequest) -> RouteRule | None:
        """The routing rule for the request's tag, else for its capability."""
        capability = "vision" if request.needs_vision else "chat"
        by_match = {rule.match: rule for rule in self.routes}
        if request.tag and request.tag in by_match:
            return by_match[request.tag]
        return by_match.get(capability)

    def model_for(self, provider: Provider, request: HubRequest) -> str:
        """The model ``provider`` would use for ``request``."""
        if request.chat.model:
            return request.chat.model
        if request.needs_vision and provider.settings.vision_model:
            return provider.settings.vision_model
        return provider.resolve_model(request.chat)

    def estimate_cost(self, provider: Provider, request: HubRequest) -> float:
        """Worst-case USD cost of ``request`` on ``provider`` (images not yet counted)."""
        chat = replace(request.chat, model=self.model_for(provider, request))
        return self.guards.estimate(provider, chat, request.detail)

    async def chat_for(
        self,
        provider: Provider,
        request: HubRequest,
        prepared: dict[str, tuple[ImageInput, ...]],
    ) -> ChatRequest:
        """The provider-ready chat: model resolved, images prepared for this provider type.

        ``prepared`` memoises the images per provider type within one request, so a failover
        to a provider of the same type does not decode them again.
        """
        chat = replace(request.chat, model=self.model_for(provider, request))
        if not request.images:
            return chat
        kind = provider.settings.type
        if kind not in prepared:
            prepared[kind] = await self._prepare_images(request.images, kind, request.detail)
        return replace(chat, messages=_attach_images(chat.messages, prepared[kind]))

    # --- one-shot -----------------------------------------------------------------------
    async def run(self, request: HubRequest) -> HubResponse:
        """Answer ``request``: from the cache when allowed, else from the first good provider."""
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
            response = await self._run(request, candidates)
        except HubError as err:
            self._observe(err.key, cached=False)
            raise
        self._observe("ok", cached=False)
        if key is not None and self.cache is not None:
            self.cache.put(key, response)
        return response

    async def _run(self, request: HubRequest, candidates: list[Provider]) -> HubResponse:
        run = RunState(self, request, candidates)
        while (admitted := await run.next()) is not None:
            ticket, timeout = admitted
            try:
                response = await ticket.provider.chat(ticket.chat, timeout=timeout)
            except ProviderError as err:
                await run.failed(ticket, err)
                continue
            except BaseException:
                ticket.abandon()
                raise
            run.attempts.append(await ticket.succeeded(response))
            return run.response(ticket, response)
        raise run.exhausted()

    # --- streaming ----------------------------------------------------------------------
    async def stream(self, request: HubRequest) -> AsyncIterator[StreamDelta | HubResponse]:
        """Yield the answer's deltas, then the final ``HubResponse``.

        Failover happens only before the first delta: once text has reached the caller, a
        failure ends the stream with its error.
        """
        run = RunState(self, request, self.candidates(request))
        while (admitted := await run.next()) is not None:
            ticket, timeout = admitted
            iterator = ticket.provider.chat_stream(ticket.chat, timeout=timeout)
            try:
                first = await anext(iterator, StreamDelta())
            except ProviderError as err:
                await run.failed(ticket, err)
                continue
            except BaseException:
                ticket.abandon()
                raise
            async for item in self._relay(ticket, first, iterator):
                if isinstance(item, ChatResponse):
                    run.attempts.append(await ticket.succeeded(item))
                    self._observe("ok", cached=False)
                    yield run.response(ticket, item)
                else:
                    yield item
            return
        error = run.exhausted()
        self._observe(error.key, cached=False)
        raise error

    async def _relay(
        self, ticket: Ticket, first: StreamDelta, iterator: AsyncIterator[StreamDelta]
    ) -> AsyncIterator[StreamDelta | ChatResponse]:
        """Pass deltas through while collecting the whole answer for the final response."""
        parts: list[str] = []
        calls: list[ToolCall] = []
        usage, finish, model = Usage(), None, ticket.chat.model
        delta: StreamDelta | None = first
        try:
            while delta is not None:
                model = delta.model or model
                if delta.text or delta.tool_calls:
                    parts.append(delta.text)
                    calls.extend(delta.tool_calls)
                    yield replace(delta, provider=ticket.provider.name, model=model)
                usage = delta.usage or usage
                finish = delta.finish_reason or finish
                delta = await anext(iterator, None)
        except ProviderError as err:
            await ticket.failed(err)
            self._observe(err.key, cached=False)
            raise
        except BaseException:
            ticket.abandon()
            raise
        yield ChatResponse(
            text="".join(parts),
            model=model,
            usage=usage,
            latency_ms=ticket.latency_ms,
            finish_reason=finish or FinishReason.STOP,
            tool_calls=tuple(calls),
        )

    # --- configuration ------------------------------------------------------------------
    async def replace_provider(self, provider: Provider) -> None:
        """Swap in a rebuilt provider (e.g. after its key changed) and close the old one."""
        old = self.providers[provider.name]
        self.providers[provider.name] = provider
        self.health.reset(provider.name)
        self.guards.breakers.get(provider.name).credentials_changed(
            credential_fingerprint(provider)
        )
        await old.close()

    def _observe(self, outcome: str, *, cached: bool) -> None:
        if self.guards.metrics is not None:
            self.guards.metrics.observe_request(outcome, cached)

    async def backoff(self, tries: int, remaining: float) -> None:
        """Full-jitter exponential backoff before calling the same provider again."""
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, tries - 1))
        await self._sleep(min(self._rng.uniform(0, ceiling), max(0.0, remaining)))

    async def close(self) -> None:
        """Close every provider's SDK client."""
        await asyncio.gather(*(p.close() for p in self.providers.values()))


BACKOFF_BASE = 0.25
BACKOFF_CAP = 4.0


def _attach_images(
    messages: tuple[Message, ...], images: tuple[ImageInput, ...]
) -> tuple[Message, ...]:
    """Put the images on the last user message (the question they belong to)."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.role is Role.USER:
            updated = replace(message, images=message.images + images)
            return (*messages[:index], updated, *messages[index + 1 :])
    return (*messages, Message(role=Role.USER, content="", images=images))
