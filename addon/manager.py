"""ProviderManager: the only place a request meets providers.

For one request: filter capable candidates, let the strategy order them, then try each under the
request's total deadline; a retryable failure moves on to the next candidate, anything else stops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace

from addon.errors import (
    AllProvidersFailedError,
    HubError,
    NoCapableProviderError,
    ProviderError,
    ProviderRateLimitError,
    RateLimitedError,
    UpstreamTimeoutError,
)
from addon.models import Attempt, HubRequest, HubResponse, RawImage
from addon.providers.base import (
    ChatRequest,
    ChatResponse,
    FinishReason,
    ImageInput,
    Message,
    Provider,
    Role,
    StreamDelta,
    Usage,
)
from addon.routing.health import HealthBoard
from addon.routing.strategy import Strategy

_LOGGER = logging.getLogger(__name__)

ImagePreparer = Callable[[Sequence[RawImage], str, str | None], Awaitable[tuple[ImageInput, ...]]]
Clock = Callable[[], float]


async def passthrough_images(
    images: Sequence[RawImage], provider_type: str, detail: str | None
) -> tuple[ImageInput, ...]:
    """Hand images on unchanged (used where no preprocessing is wanted, e.g. unit tests)."""
    return tuple(ImageInput(i.data, i.declared_type or "image/jpeg") for i in images)


class ProviderManager:
    """Routes requests to providers with capability filtering, ordering and failover."""

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        strategy: Strategy,
        health: HealthBoard,
        request_timeout: float,
        prepare_images: ImagePreparer = passthrough_images,
        clock: Clock = time.monotonic,
    ) -> None:
        self.providers: dict[str, Provider] = {p.name: p for p in providers}
        self.strategy = strategy
        self.health = health
        self.request_timeout = request_timeout
        self._prepare_images = prepare_images
        self._clock = clock

    # --- candidates ---------------------------------------------------------------------
    def candidates(self, request: HubRequest) -> list[Provider]:
        """Enabled providers able to serve ``request``, in the strategy's order."""
        pool = [p for p in self.providers.values() if p.settings.enabled]
        if request.provider is not None:
            pool = [p for p in pool if p.name == request.provider]
            if not pool:
                known = ", ".join(sorted(self.providers)) or "none"
                raise NoCapableProviderError(
                    f"No enabled provider named {request.provider!r} (configured: {known})"
                )
        if request.needs_vision:
            pool = [p for p in pool if p.supports_vision(self._model_for(p, request))]
            if not pool:
                raise NoCapableProviderError(
                    "No enabled provider has a vision-capable model: set a vision_model"
                )
        return self.strategy.order(pool, request)

    def _model_for(self, provider: Provider, request: HubRequest) -> str:
        if request.chat.model:
            return request.chat.model
        if request.needs_vision and provider.settings.vision_model:
            return provider.settings.vision_model
        return provider.resolve_model(request.chat)

    async def _chat_for(
        self,
        provider: Provider,
        request: HubRequest,
        prepared: dict[str, tuple[ImageInput, ...]],
    ) -> ChatRequest:
        """The provider-ready chat: model resolved, images prepared for this provider type.

        ``prepared`` memoises the images per provider type within one request, so a failover
        to a provider of the same type does not decode them again.
        """
        chat = replace(request.chat, model=self._model_for(provider, request))
        if not request.images:
            return chat
        kind = provider.settings.type
        if kind not in prepared:
            prepared[kind] = await self._prepare_images(request.images, kind, request.detail)
        return replace(chat, messages=_attach_images(chat.messages, prepared[kind]))

    # --- one-shot -----------------------------------------------------------------------
    async def run(self, request: HubRequest) -> HubResponse:
        """Answer ``request`` from the first candidate that succeeds."""
        started = self._clock()
        deadline = started + self.request_timeout
        attempts: list[Attempt] = []
        errors: list[ProviderError] = []
        prepared: dict[str, tuple[ImageInput, ...]] = {}
        for provider in self.candidates(request):
            timeout = self._attempt_timeout(provider, deadline, attempts)
            chat = await self._chat_for(provider, request, prepared)
            attempt_started = self._clock()
            try:
                response = await provider.chat(chat, timeout=timeout)
            except ProviderError as err:
                self._record_failure(provider, chat.model, err, attempt_started, attempts)
                if not err.retryable:
                    raise _with_attempts(err, attempts) from err
                errors.append(err)
                continue
            attempts.append(self._record_success(provider, chat.model, attempt_started))
            return self._response(request, provider, response, started, attempts)
        raise self._exhausted(errors, attempts)

    # --- streaming ----------------------------------------------------------------------
    async def stream(self, request: HubRequest) -> AsyncIterator[StreamDelta | HubResponse]:
        """Yield the answer's deltas, then the final ``HubResponse``.

        Failover happens only before the first delta: once text has reached the caller, a
        failure ends the stream with its error.
        """
        started = self._clock()
        deadline = started + self.request_timeout
        attempts: list[Attempt] = []
        errors: list[ProviderError] = []
        prepared: dict[str, tuple[ImageInput, ...]] = {}
        for provider in self.candidates(request):
            timeout = self._attempt_timeout(provider, deadline, attempts)
            chat = await self._chat_for(provider, request, prepared)
            attempt_started = self._clock()
            iterator = provider.chat_stream(chat, timeout=timeout)
            try:
                first = await anext(iterator)
            except StopAsyncIteration:
                first = StreamDelta()
            except ProviderError as err:
                self._record_failure(provider, chat.model, err, attempt_started, attempts)
                if not err.retryable:
                    raise _with_attempts(err, attempts) from err
                errors.append(err)
                continue
            async for item in self._relay(provider, chat, first, iterator, attempt_started):
                if isinstance(item, ChatResponse):
                    attempts.append(self._record_success(provider, chat.model, attempt_started))
                    yield self._response(request, provider, item, started, attempts)
                else:
                    yield item
            return
        raise self._exhausted(errors, attempts)

    async def _relay(
        self,
        provider: Provider,
        chat: ChatRequest,
        first: StreamDelta,
        iterator: AsyncIterator[StreamDelta],
        attempt_started: float,
    ) -> AsyncIterator[StreamDelta | ChatResponse]:
        """Pass deltas through while collecting the whole answer for the final response."""
        parts: list[str] = []
        usage, finish, model = Usage(), None, chat.model
        delta: StreamDelta | None = first
        while delta is not None:
            if delta.text:
                parts.append(delta.text)
                yield delta
            usage = delta.usage or usage
            finish = delta.finish_reason or finish
            model = delta.model or model
            try:
                delta = await anext(iterator)
            except StopAsyncIteration:
                delta = None
            except ProviderError as err:
                self.health.record_failure(provider.name, err.key, err.message)
                raise
        latency = round((self._clock() - attempt_started) * 1000, 1)
        yield ChatResponse(
            text="".join(parts),
            model=model,
            usage=usage,
            latency_ms=latency,
            finish_reason=finish or FinishReason.STOP,
        )

    # --- bookkeeping --------------------------------------------------------------------
    def _attempt_timeout(
        self, provider: Provider, deadline: float, attempts: list[Attempt]
    ) -> float:
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise UpstreamTimeoutError(
                f"No provider answered within {self.request_timeout:g}s",
                attempts=[a.to_dict() for a in attempts],
            )
        return min(provider.settings.timeout, remaining)

    def _record_failure(
        self,
        provider: Provider,
        model: str,
        err: ProviderError,
        attempt_started: float,
        attempts: list[Attempt],
    ) -> None:
        latency = round((self._clock() - attempt_started) * 1000, 1)
        attempts.append(Attempt(provider.name, model, err.key, latency))
        _LOGGER.warning("Provider %s failed (%s): %s", provider.name, err.key, err.message)
        if err.retryable or err.key == "provider_auth":
            self.health.record_failure(provider.name, err.key, err.message)

    def _record_success(self, provider: Provider, model: str, attempt_started: float) -> Attempt:
        latency = round((self._clock() - attempt_started) * 1000, 1)
        self.health.record_success(provider.name, latency)
        return Attempt(provider.name, model, "ok", latency)

    def _response(
        self,
        request: HubRequest,
        provider: Provider,
        response: ChatResponse,
        started: float,
        attempts: list[Attempt],
    ) -> HubResponse:
        return HubResponse(
            request_id=request.request_id,
            text=response.text,
            data=response.data,
            provider=provider.name,
            model=response.model,
            usage=response.usage,
            latency_ms=round((self._clock() - started) * 1000, 1),
            attempts=tuple(attempts),
            finish_reason=str(response.finish_reason),
            tool_calls=response.tool_calls,
        )

    def _exhausted(self, errors: list[ProviderError], attempts: list[Attempt]) -> HubError:
        details = {"attempts": [a.to_dict() for a in attempts]}
        if errors and all(isinstance(e, ProviderRateLimitError) for e in errors):
            waits = [e.retry_after for e in errors if isinstance(e, ProviderRateLimitError)]
            known = [w for w in waits if w is not None]
            return RateLimitedError(
                "Every provider is rate limited",
                retry_after=min(known) if known else None,
                **details,
            )
        if errors and all(e.key == "provider_timeout" for e in errors):
            return UpstreamTimeoutError("Every provider timed out", **details)
        return AllProvidersFailedError(f"All {len(attempts)} provider attempts failed", **details)

    async def replace_provider(self, provider: Provider) -> None:
        """Swap in a rebuilt provider (e.g. after its key changed) and close the old one."""
        old = self.providers[provider.name]
        self.providers[provider.name] = provider
        self.health.reset(provider.name)
        await old.close()

    async def close(self) -> None:
        """Close every provider's SDK client."""
        await asyncio.gather(*(p.close() for p in self.providers.values()))


def _with_attempts(err: ProviderError, attempts: list[Attempt]) -> ProviderError:
    err.details["attempts"] = [a.to_dict() for a in attempts]
    return err


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
