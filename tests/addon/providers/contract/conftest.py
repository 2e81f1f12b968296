"""Fixtures of the provider contract suite: each vendor of ``VENDORS``, its fake, its provider."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest

from addon.providers import deferred_provider
from addon.providers.base import Provider
from tests.addon.providers.contract.vendors import VENDORS, Vendor
from tests.fakes.base import FakeServer


def each_vendor(only: Iterable[str] | None = None) -> list[Any]:
    """``VENDORS`` as parameters of the ``vendor`` fixture (``indirect=True``).

    ``only`` keeps the named types.
    """
    keep = set(only) if only is not None else None
    return [
        pytest.param(vendor, id=vendor.name)
        for vendor in VENDORS
        if keep is None or vendor.name in keep
    ]


@pytest.fixture(autouse=True)
def _no_keys_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # SDKs fall back to these; a test that wants one sets it.
    for vendor in VENDORS:
        monkeypatch.delenv(vendor.key_env, raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)


@pytest.fixture(params=VENDORS, ids=str)
def vendor(request: pytest.FixtureRequest) -> Vendor:
    """One provider type of the table."""
    chosen: Vendor = request.param
    return chosen


@pytest.fixture
async def fake(vendor: Vendor) -> AsyncIterator[FakeServer]:
    """The vendor's fake, checking the vendor's key, listening on loopback."""
    server = vendor.make_fake()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def provider(vendor: Vendor, fake: FakeServer) -> AsyncIterator[Provider]:
    """The provider built by the registry as the hub builds it (its SDK loaded on the first
    call), pointed at the fake."""
    built = deferred_provider(vendor.settings(fake.url))
    yield built
    await built.close()
