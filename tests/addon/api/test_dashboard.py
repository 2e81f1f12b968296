"""The ingress status page: rendered from the live state, escaped, reachable through ingress."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from addon.api.context import HUB_CONTEXT, HubContext
from tests.conftest import AUTH, Fakes, HubClientFactory
from tests.fakes.base import Fault

INGRESS = {"X-Ingress-Path": "/api/hassio_ingress/abc"}


class Cells(HTMLParser):
    """Collects the text of every table row as a list of cell strings."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in {"td", "th"}:
            self._cell = []
        elif tag in {"a", "link"}:
            self.links += [value or "" for name, value in attrs if name == "href"]

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> Cells:
    cells = Cells()
    cells.feed(html)
    return cells


def rows_by_label(cells: Cells) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in cells.rows if row}


async def test_page_shows_providers_usage_and_budget(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client(budget_daily_usd=2.0)
    fakes.openai.fail_next(Fault.SERVER_ERROR)
    answer = await (await client.post("/api/v1/chat", json={"prompt": "Hi"}, headers=AUTH)).json()

    response = await client.get("/", headers=AUTH)
    assert response.status == 200
    assert response.content_type == "text/html"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    cells = parse(await response.text())
    rows = rows_by_label(cells)
    assert rows["openai"][:3] == ["openai", "gpt-4.1-mini", "down"]
    assert rows["anthropic"][2] == "healthy"
    assert rows["Today (UTC)"][0] == "1"
    assert rows["Today (UTC)"][3] == f"${answer['cost_usd']:.4f}"
    assert rows["Hub, daily"][0] == "$2.0000"
    assert rows["Hub, monthly"][0] == "no limit"
    assert all(not link.startswith("/") for link in cells.links), "links must be ingress-relative"


async def test_text_is_escaped(
    hub_client: HubClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HubContext, "notices", property(lambda _: ["<script>alert(1)</script>"]))
    client = await hub_client()
    text = await (await client.get("/", headers=AUTH)).text()
    assert "<script>" not in text
    assert "&lt;script&gt;" in text


async def test_reachable_through_ingress_without_a_token(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    context: HubContext = client.app[HUB_CONTEXT]
    context.trusted_ingress = ("127.0.0.1",)
    for path in ("/", "/static/style.css"):
        response = await client.get(path, headers=INGRESS)
        assert response.status == 200, path
    css: Any = await (await client.get("/static/style.css", headers=INGRESS)).text()
    assert ".state-circuit_open" in css


async def test_a_stranger_gets_no_page(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    response = await client.get("/", headers=INGRESS)
    assert response.status == 401
