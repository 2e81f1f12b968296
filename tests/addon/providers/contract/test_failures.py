"""The contract, failures: each error class, Retry-After, deadlines, stalls, mid-stream errors.

Every vendor fault maps to one class of the hub's hierarchy, with one request sent (SDK
retries are off: the manager owns retries and failover) and the key nowhere in the error.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any

import pytest

from addon.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from addon.models import StreamDelta
from addon.providers import create_provider
from addon.providers.base import Provider
from tests.addon.providers.contract.helpers import ask, call, drain, generations
from tests.addon.providers.contract.vendors import VENDORS, Vendor
from tests.fakes.base import FakeServer, Fault, Reply, free_port

HANG_DEADLINE = 0.5  # a hanging vendor is given this long; every other call has 10 s
STALL_DEADLINE = 1.5  # long enough for the first piece on a loaded machine

FAULTS = [
    pytest.param(Fault.DISCONNECT, {}, ProviderConnectionError, id="dropped"),
    pytest.param(Fault.TIMEOUT, {}, ProviderTimeoutError, id="hang-deadline"),
    pytest.param(Fault.RATE_LIMIT, {"retry_after": 7}, ProviderRateLimitError, id="rate_limit"),
    pytest.param(Fault.SERVER_ERROR, {}, ProviderResponseError, id="5xx"),
    pytest.param(Fault.OVERLOADED, {}, ProviderRateLimitError, id="overloaded"),
    pytest.param(Fault.AUTH, {}, ProviderAuthError, id="auth"),
    pytest.param(Fault.BAD_REQUEST, {}, ProviderBadRequestError, id="bad_request"),
    pytest.param(Fault.MALFORMED, {}, ProviderResponseError, id="malformed"),
]


@pytest.mark.parametrize(("fault", "params", "expected"), FAULTS)
@pytest.mark.parametrize("streaming", [False, True], ids=["chat", "stream"])
async def test_each_fault_is_one_hub_error_after_one_request(
    vendor: Vendor,
    fake: FakeServer,
    provider: Provider,
    fault: Fault,
    params: dict[str, Any],
    expected: type[ProviderError],
    streaming: bool,
) -> None:
    fake.fail_next(fault, **params)
    # The provider's client timeout is 30 s: the call's own deadline must end a hang.
    timeout = HANG_DEADLINE if fault is Fault.TIMEOUT else 10

    with pytest.raises(ProviderError) as caught:
        await call(provider, ask(vendor), streaming=streaming, timeout=timeout)

    assert type(caught.value) is expected
    assert len(generations(vendor, fake)) == 1
    assert vendor.key not in str(caught.value)
    assert caught.value.message


async def test_a_bad_request_keeps_the_vendors_message(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    fake.fail_next(Fault.BAD_REQUEST, message="Invalid 'messages[0].content': string too long.")

    with pytest.raises(ProviderBadRequestError) as caught:
        await provider.chat(ask(vendor), timeout=10)

    assert "string too long" in caught.value.message


async def test_a_key_the_vendor_echoes_never_reaches_the_hub_error(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    fake.fail_next(Fault.BAD_REQUEST, message=f"Key {vendor.key} may not use this model")

    with pytest.raises(ProviderBadRequestError) as caught:
        await provider.chat(ask(vendor), timeout=10)

    assert vendor.key not in str(caught.value)
    assert "may not use this model" in caught.value.message


async def test_an_unknown_model_is_a_bad_request(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    with pytest.raises(ProviderBadRequestError):
        await provider.chat(ask(vendor, model=vendor.unknown_model), timeout=10)

    assert len(generations(vendor, fake)) == 1


@pytest.mark.parametrize("streaming", [False, True], ids=["chat", "stream"])
async def test_a_refused_connection_is_a_connection_error(vendor: Vendor, streaming: bool) -> None:
    gone = create_provider(vendor.settings(f"http://127.0.0.1:{free_port()}"))
    try:
        with pytest.raises(ProviderConnectionError):
            await call(gone, ask(vendor), streaming=streaming)
    finally:
        await gone.close()


async def test_a_stalled_stream_ends_at_the_deadline_after_the_first_piece(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    fake.fail_next(Fault.STALL_STREAM)
    received: list[StreamDelta] = []

    with pytest.raises(ProviderTimeoutError):
        await drain(provider, ask(vendor), timeout=STALL_DEADLINE, into=received)

    assert [d.text for d in received] == ["Hello f"]


@pytest.mark.parametrize(
    ("vendor", "fault", "expected"),
    [
        pytest.param(vendor, fault, expected, id=f"{vendor}-{fault}")
        for vendor in VENDORS
        for fault, expected in vendor.mid_stream.items()
    ],
    indirect=["vendor"],
)
async def test_an_error_in_a_started_stream_is_mapped(
    vendor: Vendor,
    fake: FakeServer,
    provider: Provider,
    fault: Fault,
    expected: type[ProviderError],
) -> None:
    fake.fail_next(fault, mid_stream=True)
    received: list[StreamDelta] = []

    with pytest.raises(ProviderError) as caught:
        await drain(provider, ask(vendor), into=received)

    assert type(caught.value) is expected
    assert [d.text for d in received] == ["Hello f"]
    assert len(generations(vendor, fake)) == 1


# --- Retry-After ----------------------------------------------------------------------------
IN_AN_HOUR = "in an hour"  # an HTTP date, written when the test runs


def _header_values(params: dict[str, Any]) -> dict[str, Any]:
    in_an_hour = formatdate(time.time() + 3600, usegmt=True)
    return {k: in_an_hour if v == IN_AN_HOUR else v for k, v in params.items()}


RETRY_AFTER: list[tuple[str, dict[str, Any], Any]] = [
    ("seconds", {"retry_after": 7}, 7.0),
    ("zero", {"retry_after": 0}, 0.0),
    ("negative", {"retry_after": -3}, 0.0),
    ("http-date", {"retry_after": IN_AN_HOUR}, pytest.approx(3600, abs=60)),
    ("http-date-past", {"retry_after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
    ("ms", {"retry_after": 9, "retry_after_ms": 1500}, 1.5),
    ("negative-ms", {"retry_after": 9, "retry_after_ms": -500}, 0.0),
    ("unreadable", {"retry_after": "soon"}, None),
]


@pytest.mark.parametrize(
    ("vendor", "params", "expected"),
    [
        pytest.param(vendor, params, expected, id=f"{vendor}-{name}")
        for name, params, expected in RETRY_AFTER
        for vendor in VENDORS
    ],
    indirect=["vendor"],
)
async def test_a_rate_limit_carries_the_wait_the_vendor_asks_for(
    vendor: Vendor, fake: FakeServer, provider: Provider, params: dict[str, Any], expected: Any
) -> None:
    fake.fail_next(Fault.RATE_LIMIT, **_header_values(params))

    with pytest.raises(ProviderRateLimitError) as caught:
        await provider.chat(ask(vendor), timeout=10)

    assert caught.value.retry_after == expected


@pytest.mark.parametrize(
    "vendor", [v for v in VENDORS if v.exhaust_quota is not None], ids=str, indirect=True
)
async def test_an_answer_is_an_answer_whatever_its_rate_limit_headers_say(
    vendor: Vendor, fake: FakeServer, provider: Provider
) -> None:
    assert vendor.exhaust_quota is not None
    vendor.exhaust_quota(fake)

    response = await provider.chat(ask(vendor), timeout=10)

    assert response.text == Reply().text
