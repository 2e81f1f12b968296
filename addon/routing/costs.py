"""The strategies' cost function: what a request would cost at most on a provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from addon.models import HubRequest, MediaRequest, Routed
from addon.pricing import PricingTable
from addon.providers.base import Provider
from addon.routing.chat_call import ChatCall
from addon.routing.media import media_model, media_spec
from addon.routing.prepare import chat_with_model, passthrough_images


def cost_estimator(pricing: PricingTable) -> Callable[[Provider, Routed], float]:
    """Worst-case USD of a request on a provider, for every capability.

    The call is quoted as the attempt loop would quote it, except that a chat's images are not
    yet counted (they are measured once prepared for a provider type).
    """

    def estimate(provider: Provider, request: Routed) -> float:
        if isinstance(request, HubRequest):
            chat_spec = ChatCall(request, passthrough_images)
            chat = chat_with_model(provider, request)
            price = pricing.price(provider.settings, chat.model, request.capability)
            return chat_spec.bound(provider, chat, price)[1].worst_usd
        if isinstance(request, MediaRequest):
            spec = media_spec(request)
            call = replace(request.body, model=media_model(provider, request))
            price = pricing.price(provider.settings, call.model, request.capability)
            return spec.bound(provider, call, price)[1].worst_usd
        raise TypeError(f"Cannot price a {type(request).__name__}")

    return estimate
