"""The ingress page: a server-rendered status view (no script, so the strict CSP holds).

Home Assistant shows it in the add-on's "Open Web UI"; ingress requests need no token (the
Supervisor has authenticated the user), anyone else needs the bearer token like the API.
Links are relative so they work under the ingress path prefix.
"""

from __future__ import annotations

from html import escape
from importlib import resources
from typing import Any, Final

from aiohttp import web

from addon import __version__
from addon.api.context import HubContext, hub
from addon.hub_status import HubStatus

REFRESH_SECONDS: Final = 30
STYLESHEET: Final = resources.files("addon") / "web" / "style.css"


async def page(request: web.Request) -> web.Response:
    """``GET /``: providers, today's and this month's usage, and the budgets."""
    context = hub(request)
    summary = (await context.manager.usage()).summary()
    body = _document(context, context.manager.status(), summary)
    return web.Response(text=body, content_type="text/html", headers={"Cache-Control": "no-store"})


async def stylesheet(request: web.Request) -> web.Response:
    """``GET /static/style.css``."""
    return web.Response(text=STYLESHEET.read_text(encoding="utf-8"), content_type="text/css")


def _document(context: HubContext, hub_status: HubStatus, summary: dict[str, Any]) -> str:
    status = hub_status.status
    notices = "".join(f"<li>{escape(n)}</li>" for n in context.notices)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{REFRESH_SECONDS}">
<title>AI Provider Hub</title><link rel="stylesheet" href="static/style.css"></head>
<body><h1>AI Provider Hub</h1>
<p>Status: <span class="state status-{escape(status)}">{escape(status)}</span>
<span class="muted">· version {escape(__version__)}</span></p>
{f'<ul class="notices">{notices}</ul>' if notices else ""}
<h2>Providers</h2>{_providers(hub_status)}
<h2>Usage</h2>{_usage(summary)}
<h2>Budgets</h2>{_budgets(summary["budget"])}
<p class="muted">API: <a href="api/v1/openapi.json">OpenAPI document</a> ·
<a href="api/v1/usage">usage (JSON)</a> · <a href="metrics">Prometheus metrics</a></p>
</body></html>
"""


def _providers(hub_status: HubStatus) -> str:
    rows = []
    for provider in hub_status.providers:
        state = provider.state
        latency = "&ndash;" if provider.latency_ms is None else f"{provider.latency_ms:.0f} ms"
        rows.append(
            _row(
                escape(provider.name),
                escape(provider.type),
                escape(provider.model),
                f'<span class="state state-{escape(state)}">{escape(state.replace("_", " "))}'
                "</span>",
                latency,
            )
        )
    head = "<tr><th>Name</th><th>Type</th><th>Model</th><th>State</th><th>Latency</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _usage(summary: dict[str, Any]) -> str:
    head = "<tr><th></th><th>Requests</th><th>Tokens in</th><th>Tokens out</th><th>Cost</th></tr>"
    rows = [
        _row(
            label,
            str(stats["requests"]),
            str(stats["input_tokens"]),
            str(stats["output_tokens"]),
            f"${stats['cost_usd']:.4f}",
        )
        for label, stats in (("Today (UTC)", summary["today"]), ("This month", summary["month"]))
    ]
    return f"<table>{head}{''.join(rows)}</table>"


def _budgets(budget: dict[str, Any]) -> str:
    head = "<tr><th></th><th>Limit</th><th>Spent</th><th>Reserved</th><th>Left</th></tr>"
    rows = [
        _row(
            f"Hub, {period}",
            _usd(budget[period]["limit_usd"]),
            _usd(budget[period]["spent_usd"]),
            _usd(budget[period]["reserved_usd"]),
            _usd(budget[period]["left_usd"]),
        )
        for period in ("daily", "monthly")
    ]
    return f"<table>{head}{''.join(rows)}</table>"


def _row(label: str, *cells: str) -> str:
    return f"<tr><td>{label}</td>{''.join(f'<td>{cell}</td>' for cell in cells)}</tr>"


def _usd(value: float | None) -> str:
    return "no limit" if value is None else f"${value:.4f}"
