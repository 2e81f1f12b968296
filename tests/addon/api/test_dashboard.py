"""The dashboard's files: public shell without data, strict CSP, relative URLs, nothing external.

What the page does with the API is tested in a real browser (``tests/addon/web``); here the
files themselves and how the hub serves them.
"""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser

import pytest

from addon.api.dashboard import ASSETS
from tests.conftest import AUTH, TOKEN, HubClientFactory

SCRIPTS = sorted(name for name in ASSETS if name.endswith(".js"))


class References(HTMLParser):
    """Every URL the page's HTML points at, and any inline script or style."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag = tag
        values = dict(attrs)
        self.urls += [v or "" for k, v in attrs if k in {"href", "src", "action"}]
        if tag == "script" and "src" not in values:
            self.inline.append("script")
        if "style" in values or tag == "style" or any(k.startswith("on") for k in values):
            self.inline.append(tag)


def references() -> References:
    parser = References()
    parser.feed(ASSETS["index.html"].body.decode())
    return parser


async def test_the_page_is_public_and_holds_no_data(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    response = await client.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    text = await response.text()
    assert TOKEN not in text
    assert "sk-test" not in text
    assert "gpt-4.1-mini" not in text  # configuration comes from the API, with a token
    assert response.headers["Cache-Control"] == "no-cache"


async def test_the_csp_allows_only_the_add_ons_own_scripts(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    csp = (await client.get("/")).headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe" not in csp


def test_every_url_of_the_page_is_relative_and_nothing_is_inline() -> None:
    found = references()
    assert found.urls, "the page links its stylesheet and script"
    for url in found.urls:
        assert not re.match(r"^(/|[a-z]+://|//)", url) or url.startswith("#"), url
        assert url.startswith(("static/", "#", "data:")), url
    assert found.inline == []


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_no_file_reaches_outside_the_add_on(name: str) -> None:
    text = ASSETS[name].body.decode()
    external = re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", text)
    # The SVG namespace is a name, not a request.
    assert [u for u in external if u != "http://www.w3.org/2000/svg"] == [], name
    assert "@import" not in text
    assert "fonts.googleapis" not in text


@pytest.mark.parametrize("name", SCRIPTS)
def test_scripts_never_build_markup_from_strings(name: str) -> None:
    text = ASSETS[name].body.decode()
    for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                  "new Function", 'setAttribute("style"', "localStorage.setItem"):  # fmt: skip
        assert risky not in text, f"{name} uses {risky}"


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_module_import_is_a_served_file(name: str) -> None:
    text = ASSETS[name].body.decode()
    for target in re.findall(r'from "\./([\w.-]+)"', text):
        assert target in ASSETS, f"{name} imports {target}, which is not served"
    assert 'from "/' not in text


async def test_assets_have_types_etags_gzip_and_304(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    plain = await client.get("/static/app.js", headers={"Accept-Encoding": "identity"})
    assert plain.status == 200
    assert plain.content_type == "text/javascript"
    assert "Content-Encoding" not in plain.headers
    body = await plain.read()
    assert body == ASSETS["app.js"].body
    packed = await client.get(
        "/static/app.js", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await packed.read()) == body
    again = await client.get("/static/app.js", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status == 304
    css = await client.get("/static/style.css")
    assert css.content_type == "text/css"
    assert "prefers-color-scheme: dark" in await css.text()


@pytest.mark.parametrize(
    "name", ["index.html", "nothing.js", "..%2Fapi%2Fcontext.py", "__init__.py"]
)
async def test_only_the_page_files_are_served(hub_client: HubClientFactory, name: str) -> None:
    client = await hub_client()
    response = await client.get(f"/static/{name}")
    assert response.status == 404
    assert (await response.json())["error"]["key"] == "not_found"


async def test_the_page_reads_data_only_with_a_token(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    assert (await client.get("/api/v1/providers")).status == 401
    assert (await client.get("/api/v1/providers", headers=AUTH)).status == 200
