"""The contract, service calls: model list and the key check (valid, rejected, missing).

Health checks: ``test_health`` (through the SDK and through the probe).
"""

from __future__ import annotations

from collections.abc import Awaitable

import pytest

from addon.errors import ProviderAuthError
from addon.providers import create_provider
from addon.providers.base import PLACEHOLDER_API_KEY, Provider
from tests.addon.providers.contract.conftest import each_vendor
from tests.addon.providers.contract.helpers import ask, drain, generations
from tests.addon.providers.contract.vendors import VENDORS, Vendor
from tests.fakes.base import FakeServer, Reply

WRONG_KEY = "wrong-key-0123456789abcdefghij"


# --- models -------------------------------------------------------------------------------
async def test_list_models_reports_the_chat_models_with_vision(
    provider: Provider, vendor: Vendor
) -> None:
    models = await provider.list_models(timeout=10)

    assert [(m.id, m.vision) for m in models] == list(vendor.listed)


# --- the key --------------------------------------------------------------------------------
async def test_the_right_key_passes_the_check(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    await provider.validate_credentials(timeout=10)

    assert [vendor.key_sent(r) for r in fake.requests] == [vendor.key]


@pytest.mark.parametrize("what", ["check", "chat"])
async def test_a_rejected_key_is_an_auth_error_that_does_not_repeat_it(
    vendor: Vendor, fake: FakeServer, what: str
) -> None:
    wrong = create_provider(vendor.settings(fake.url, key=WRONG_KEY))
    try:
        if what == "check":
            attempt: Awaitable[object] = wrong.validate_credentials(timeout=10)
        else:
            attempt = wrong.chat(ask(vendor), timeout=10)
        with pytest.raises(ProviderAuthError) as caught:
            await attempt
    finally:
        await wrong.close()

    assert WRONG_KEY[6:-4] not in str(caught.value)
    assert caught.value.message  # the vendor's reason, for the user to read
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    "vendor", each_vendor(only=[v.name for v in VENDORS if v.requires_key]), indirect=True
)
async def test_a_missing_key_fails_every_call_before_sending(
    vendor: Vendor, fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(vendor.key_env, vendor.key)  # the SDK must not fall back to it
    keyless = create_provider(vendor.settings(fake.url, key=""))
    try:
        for attempt in (
            keyless.chat(ask(vendor), timeout=5),
            drain(keyless, ask(vendor), timeout=5),
            keyless.list_models(timeout=5),
            keyless.validate_credentials(timeout=5),
        ):
            with pytest.raises(ProviderAuthError, match="no API key"):
                await attempt
        status = await keyless.health(timeout=5)
    finally:
        await keyless.close()

    assert (status.ok, status.error_key) == (False, "provider_auth")
    assert fake.requests == []


@pytest.mark.parametrize(
    "vendor",
    each_vendor(only=[v.name for v in VENDORS if not v.requires_key]),
    indirect=True,
)
async def test_without_a_key_a_keyless_vendor_is_called_without_one(
    vendor: Vendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(vendor.key_env, vendor.key)  # nobody configured it: it must not be sent
    open_fake = vendor.make_fake(keyed=False)
    await open_fake.start()
    keyless = create_provider(vendor.settings(open_fake.url, key=""))
    try:
        response = await keyless.chat(ask(vendor), timeout=10)
    finally:
        await keyless.close()
        await open_fake.stop()

    assert response.text == Reply().text
    assert vendor.key_sent(generations(vendor, open_fake)[-1]) in (None, PLACEHOLDER_API_KEY)


def test_the_key_never_shows_in_repr(vendor: Vendor) -> None:
    built = create_provider(vendor.settings("http://127.0.0.1:9"))

    assert vendor.key not in repr(built)
    assert vendor.key not in str(built)
    assert vendor.key not in repr(built.settings)
