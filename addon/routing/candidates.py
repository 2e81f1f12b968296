"""Which providers may answer a request, and in which order: pin, capability, route, strategy.

One walk for every capability: the pinned provider (if any), then the providers whose model
can do what the request needs (for a chat that names a bare model: only those that serve it,
see ``ModelCatalog``), then the route for the request's tag (else its capability), then the
strategy's order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from addon.errors import NoCapableProviderError
from addon.models import HubRequest, MediaRequest, Routed
from addon.providers.base import Provider
from addon.routing.catalog import ModelCatalog
from addon.routing.media import media_model
from addon.routing.prepare import model_for
from addon.routing.strategy import Strategy
from addon.settings import MEDIA_MODEL_OPTIONS, RouteRule

Filter = Callable[[list[Provider]], list[Provider]]


class CandidatePicker:
    """Filters and orders a request's candidates (``providers`` is the manager's live view)."""

    def __init__(
        self,
        providers: Mapping[str, Provider],
        *,
        strategies: Mapping[str, Strategy],
        default_strategy: str,
        routes: Sequence[RouteRule] = (),
        catalog: ModelCatalog | None = None,
    ) -> None:
        self._providers = providers
        self._strategies = strategies
        self._default_strategy = default_strategy
        self._routes = {rule.match: rule for rule in routes}
        self.catalog = catalog or ModelCatalog()

    def for_chat(self, request: HubRequest) -> list[Provider]:
        """Candidates of a chat or vision request, in the order they will be tried."""
        return self._pick(
            request, lambda pool: _chat_capable(self._serving(pool, request), request)
        )

    async def learn_models(self, request: HubRequest) -> None:
        """Before routing a bare model no provider is configured with: refresh stale lists."""
        model = request.chat.model
        if request.provider is not None or not model:
            return
        enabled = [p for p in self._providers.values() if p.settings.enabled]
        if not self.catalog.configured_anywhere(model, enabled):
            await self.catalog.refresh(enabled)

    def _serving(self, pool: list[Provider], request: HubRequest) -> list[Provider]:
        """For a bare model (no pinned provider): the providers that serve it."""
        model = request.chat.model
        if request.provider is not None or not model:
            return pool
        serving = self.catalog.serving(model, pool)
        if not serving:
            raise NoCapableProviderError(
                f"No enabled provider offers model {model!r} (as its model, its vision_model or "
                "in its model list): name the provider too, as <provider>/<model>"
            )
        return serving

    def for_media(self, request: MediaRequest[Any]) -> list[Provider]:
        """Candidates of an embeddings, transcription, speech or image request."""
        return self._pick(request, lambda pool: _media_capable(pool, request))

    def _pick(self, request: Routed, capable: Filter) -> list[Provider]:
        pool = [p for p in self._providers.values() if p.settings.enabled]
        if request.provider is not None:
            pool = [p for p in pool if p.name == request.provider]
            if not pool:
                known = ", ".join(sorted(self._providers)) or "none"
                raise NoCapableProviderError(
                    f"No enabled provider named {request.provider!r} (configured: {known})"
                )
        pool = capable(pool)
        route = self._route(request)
        if route is not None:
            pool = [p for p in pool if p.name in route.providers]
            if not pool:
                raise NoCapableProviderError(
                    f"Route {route.match!r} allows only {', '.join(route.providers)}, "
                    "and none of them can serve this request"
                )
        strategy_name = request.strategy or self._default_strategy
        ordered = self._strategies[strategy_name].order(pool, request)
        if route is not None and strategy_name == "priority":
            ordered.sort(key=lambda p: route.providers.index(p.name))
        return ordered

    def _route(self, request: Routed) -> RouteRule | None:
        """The routing rule for the request's tag, else for its capability; a pin has none."""
        if request.provider is not None:
            return None
        if request.tag and request.tag in self._routes:
            return self._routes[request.tag]
        return self._routes.get(str(request.capability))


def _chat_capable(pool: list[Provider], request: HubRequest) -> list[Provider]:
    """The providers whose model can do what a chat needs (images, tools)."""
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


def _media_capable(pool: list[Provider], request: MediaRequest[Any]) -> list[Provider]:
    """The providers with a model for the request's capability (the pinned one, if any)."""
    capability = request.capability
    capable = [p for p in pool if p.supports(capability, media_model(p, request))]
    if capable:
        return capable
    if request.body.model:
        raise NoCapableProviderError(
            f"No enabled provider can serve {capability} with model {request.body.model!r}"
        )
    option = MEDIA_MODEL_OPTIONS.get(capability, "")
    raise NoCapableProviderError(
        f"No enabled provider serves {capability}: add a provider that does, or set "
        f"{option} on one (see DOCS.md, Beyond chat)"
    )
