"""The contract, health checks: the SDK's check and the SDK-free probe give the same answers.

Each case runs twice: on the loaded provider (its SDK lists the models) and on a provider whose
SDK is not loaded, which probes the vendor's model list over the prober's HTTP session
(``providers.probe``); the probe must leave the SDK unloaded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from addon.models import HealthStatus
from addon.providers import create_provider, deferred_provider
from addon.providers.lazy import LazyProvider
from addon.providers.probe import Prober
from tests.addon.providers.contract.conftest import each_vendor
from tests.addon.providers.contract.vendors import VENDORS, Vendor
from tests.fakes.base import FakeServer, Fault, free_port

WRONG_KEY = "wrong-key-0123456789abcdefghij"
HANG_DEADLINE = 0.5

Check = Callable[..., Any]


@pytest.fixture
async def prober() -> AsyncIterator[Prober]:
    """The probes' one HTTP session, closed after the test."""
    probes = Prober()
    yield probes
    await probes.close()


@pytest.fixture(params=["sdk", "probe"])
async def check(
    request: pytest.FixtureRequest, vendor: Vendor, prober: Prober
) -> AsyncIterator[Check]:
    """``check(url, key=..., timeout=...)``: one health check of the vendor's provider at
    ``url``, through the loaded SDK or through the probe (which must not load the SDK)."""
    built: list[Any] = []
    probing = request.param == "probe"

    async def run(url: str, *, key: str | None = None, timeout: float = 10) -> HealthStatus:
        settings = vendor.settings(url, key=key)
        provider = deferred_provider(settings, prober) if probing else create_provider(settings)
        built.append(provider)
        status = await provider.health(timeout=timeout)
        if probing:
            assert isinstance(provider, LazyProvider)
            assert not provider.is_loaded
        return status

    yield run
    for provider in built:
        await provider.close()


async def test_ok_when_the_vendor_answers(check: Check, fake: FakeServer, vendor: Vendor) -> None:
    status = await check(fake.url)

    assert (status.ok, status.error_key, status.message) == (True, None, None)
    assert status.latency_ms >= 0
    assert [vendor.key_sent(r) for r in fake.requests] == [vendor.key]


@pytest.mark.parametrize(
    ("fault", "error_key"),
    [
        (Fault.SERVER_ERROR, "provider_bad_response"),
        (Fault.AUTH, "provider_auth"),
        (Fault.RATE_LIMIT, "provider_rate_limited"),
        (Fault.OVERLOADED, "provider_rate_limited"),
        (Fault.DISCONNECT, "provider_connection"),
        (Fault.MALFORMED, "provider_bad_response"),
    ],
)
async def test_names_what_failed(
    check: Check, fake: FakeServer, vendor: Vendor, fault: Fault, error_key: str
) -> None:
    fake.fail_always(fault)

    status = await check(fake.url)

    assert (status.ok, status.error_key) == (False, error_key)
    assert status.message
    assert vendor.key not in status.message


async def test_a_hanging_vendor_is_a_timeout(check: Check, fake: FakeServer) -> None:
    fake.fail_always(Fault.TIMEOUT, seconds=5)

    status = await check(fake.url, timeout=HANG_DEADLINE)

    assert (status.ok, status.error_key) == (False, "provider_timeout")


async def test_a_rejected_key_is_an_auth_failure_that_does_not_repeat_it(
    check: Check, fake: FakeServer
) -> None:
    status = await check(fake.url, key=WRONG_KEY)

    assert (status.ok, status.error_key) == (False, "provider_auth")
    assert status.message
    assert WRONG_KEY[6:-4] not in status.message
    assert len(fake.requests) == 1


async def test_nothing_listening_is_a_connection_failure(check: Check) -> None:
    status = await check(f"http://127.0.0.1:{free_port()}")

    assert (status.ok, status.error_key) == (False, "provider_connection")


@pytest.mark.parametrize(
    "vendor", each_vendor(only=[v.name for v in VENDORS if v.requires_key]), indirect=True
)
async def test_a_missing_key_fails_before_sending(
    check: Check, fake: FakeServer, vendor: Vendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(vendor.key_env, vendor.key)  # neither path may fall back to it

    status = await check(fake.url, key="")

    assert (status.ok, status.error_key) == (False, "provider_auth")
    assert fake.requests == []


async def test_the_probe_reads_the_list_the_sdk_reads(
    vendor: Vendor, fake: FakeServer, prober: Prober
) -> None:
    provider = deferred_provider(vendor.settings(fake.url), prober)
    try:
        await provider.health(timeout=10)
        await provider.list_models(timeout=10)  # loads the SDK
    finally:
        await provider.close()

    probed, listed = fake.requests[0], fake.requests[1]
    assert (probed.method, probed.path) == (listed.method, listed.path)
