"""``GET /metrics``: the Prometheus exposition, with the state gauges refreshed on each scrape."""

from __future__ import annotations

from aiohttp import web

from addon.api.context import hub
from addon.errors import NotFoundError


async def metrics(request: web.Request) -> web.Response:
    """Answer the exposition of this hub's registry (bearer token required like the API)."""
    exposition = hub(request).manager.metrics_exposition()
    if exposition is None:
        raise NotFoundError("This hub was built without metrics")
    body, content_type = exposition
    return web.Response(body=body, headers={"Content-Type": content_type})
