"""The SDK-free health probe: the URL each SDK would list models from, and its one session.

What the probe answers is the contract suite's (``contract/test_health``, against every vendor's
fake, beside the SDK's own check); here the URLs are compared with those the installed SDKs
build from the same settings, base URLs with paths, bare Ollama hosts and defaults included.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from aiohttp import web
from ollama._client import _parse_host

from addon.providers import create_provider, deferred_provider
from addon.providers.probe import PROBES, Prober, can_probe, ollama_host
from addon.settings import ProviderSettings, Secret
from tests.fakes.openai import FakeOpenAI

KEY = "sk-probe-0123456789"


def settings(provider_type: str, base_url: str) -> ProviderSettings:
    """A provider of ``provider_type`` at ``base_url`` ("" = the vendor's own)."""
    return ProviderSettings(
        name=f"{provider_type}-probe",
        type=provider_type,
        model="m",
        api_key=Secret(KEY),
        base_url=base_url,
    )


def sdk_list_url(provider: Any, provider_type: str) -> str:
    """The URL the provider's SDK client lists models from (built by the SDK itself)."""
    client = provider._client  # noqa: SLF001 - the SDK's client is what is compared
    if provider_type in ("openai", "openai_compatible"):
        url = client._prepare_url("models")  # noqa: SLF001 - the SDK's URL builder
    elif provider_type == "anthropic":
        url = client._prepare_url("/v1/models")  # noqa: SLF001 - the SDK's URL builder
    elif provider_type == "gemini":
        url = client._api_client._build_request("get", "models", {}).url  # noqa: SLF001
    else:
        url = client._client.build_request("GET", "/api/tags").url  # noqa: SLF001
    return str(url)


BASES = ["http://10.0.0.5:8080", "http://h.example/prefix", "https://h.example/a/b/"]
CASES = [
    *(("openai", base) for base in ["", *BASES]),
    *(("openai_compatible", base) for base in BASES),
    *(("anthropic", base) for base in ["", *BASES]),
    *(("gemini", base) for base in ["", *BASES]),
    *(("ollama", base) for base in ["", *BASES, "192.168.1.20:11434", "myhost", "http://h"]),
]


@pytest.mark.parametrize(("provider_type", "base_url"), CASES)
async def test_the_probe_asks_where_the_sdk_would(
    provider_type: str, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    provider = create_provider(settings(provider_type, base_url))
    try:
        expected = sdk_list_url(provider, provider_type)
    finally:
        await provider.close()

    probed = PROBES[provider_type].url(base_url)
    assert probed is not None
    assert str(httpx.URL(probed)) == expected  # the same URL once the default port is dropped


async def test_anthropic_without_a_base_url_follows_the_variable_as_its_sdk_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://gateway.example/anthropic")
    provider = create_provider(settings("anthropic", ""))
    try:
        expected = sdk_list_url(provider, "anthropic")
    finally:
        await provider.close()

    assert PROBES["anthropic"].url("") == expected == "http://gateway.example/anthropic/v1/models"


@pytest.mark.parametrize(
    "host",
    [
        "1.2.3.4",
        ":56789",
        "1.2.3.4:56789",
        "http://1.2.3.4",
        "https://example.com:56789",
        "example.com/",
        "example.com:56789/path/",
        "[0001:002:003:0004::1]",
        "[0001:002:003:0004::1]:56789/path",
        "https://[0001:002:003:0004::1]",
    ],
)
def test_an_ollama_host_is_completed_as_the_sdk_completes_it(host: str) -> None:
    assert ollama_host(host) == _parse_host(host)


def test_openai_compatible_without_a_base_url_has_no_probe() -> None:
    assert not can_probe(settings("openai_compatible", ""))
    assert can_probe(settings("openai", ""))


async def test_probes_share_one_session_until_it_is_closed() -> None:
    prober = Prober()
    async with FakeOpenAI(api_key=KEY) as fake:
        target = settings("openai", f"{fake.url}/v1")
        first = await prober.health(target, timeout=5, requires_key=True)
        session = prober._session  # noqa: SLF001 - the one session is the point
        second = await prober.health(target, timeout=5, requires_key=True)
        assert prober._session is session  # noqa: SLF001
        await prober.close()

    assert (first.ok, second.ok) == (True, True)
    assert session is not None
    assert session.closed
    assert prober._session is None  # noqa: SLF001


@pytest.mark.parametrize("probing", [True, False], ids=["probe", "sdk"])
async def test_a_redirect_elsewhere_is_followed_without_the_key_as_by_the_sdk(
    probing: bool,
) -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        redirect = web.Application()

        async def moved(request: web.Request) -> web.Response:
            raise web.HTTPFound(f"{fake.url}{request.path}")

        redirect.router.add_get("/v1/models", moved)
        runner = web.AppRunner(redirect)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        prober = Prober()
        target = settings("openai", f"http://127.0.0.1:{port}/v1")
        provider = deferred_provider(target, prober) if probing else create_provider(target)
        try:
            status = await provider.health(timeout=5)
        finally:
            await provider.close()
            await prober.close()
            await runner.cleanup()

    # Another origin (here: port) never gets the key, so the vendor refuses; both paths agree.
    assert (status.ok, status.error_key) == (False, "provider_auth")
    assert [(r.path, r.headers.get("Authorization")) for r in fake.requests] == [
        ("/v1/models", None)
    ]
