"""``GET /metrics``: the Prometheus exposition, with the state gauges refreshed on each scrape."""

from __future__ import annotations

from aiohttp import web

from addon.api.context import HubContext, hub
from addon.errors import NotFoundError
from addon.metrics import HubMetrics


async def metrics(request: web.Request) -> web.Response:
    """Answer the exposition of this hub's registry (bearer token required like the API)."""
    context = hub(request)
    registry = context.manager.guards.metrics
    if registry is None:
        raise NotFoundError("This hub was built without metrics")
    publish_state(context, registry)
    body, content_type = registry.render()
    return web.Response(body=body, headers={"Content-Type": content_type})


def publish_state(context: HubContext, registry: HubMetrics) -> None:
    """Copy the routing state (circuits, headroom, in flight, budgets) into the gauges."""
    guards = context.manager.guards
    for name, state in guards.breakers.states().items():
        registry.set_circuit(name, str(state))
    for name in context.manager.providers:
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
