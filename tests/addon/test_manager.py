"""The manager through the API: pins and routes, health and breakers after recovery.

HTTP -> app -> manager -> real SDK -> the simulated vendors (``tests/fakes``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.addon.routing.api_fixtures import HubFactory, hub_factory
from tests.conftest import AUTH, Fakes
from tests.fakes.base import Fault


@pytest.fixture
def make_hub(fakes: Fakes, aiohttp_client: Any, tmp_path: Path) -> HubFactory:
    """Build the real hub over the fakes (``FakeClock`` unless ``real_clock=True``)."""
    return hub_factory(fakes, aiohttp_client, tmp_path)


async def states(hub: Any) -> dict[str, tuple[str, str | None]]:
    """``/health``: provider -> (state, error key)."""
    body = await (await hub.client.get("/health")).json()
    return {p["name"]: (p["state"], p["error_key"]) for p in body["providers"]}


# --- a pin overrides routes (issue 10, item 9) ----------------------------------------------
@pytest.mark.parametrize("strategy", ["priority", "adaptive", "round_robin", "cost"])
@pytest.mark.parametrize("stream", [False, True])
async def test_a_pin_overrides_the_route_whatever_the_strategy(
    make_hub: HubFactory, strategy: str, stream: bool
) -> None:
    hub = await make_hub(
        strategy=strategy, routes=[{"match": "chat", "providers": ["anthropic", "gemini"]}]
    )
    if stream:
        streamed = await hub.stream(provider="ollama")
        assert streamed.status == 200, streamed.body
        assert streamed.done is not None
        assert streamed.done["provider"] == "ollama"
    else:
        pinned = await hub.chat(provider="ollama")
        assert pinned.status == 200, pinned.body
        assert pinned.body["provider"] == "ollama"
    routed = await hub.chat()
    assert routed.body["provider"] in {"anthropic", "gemini"}


async def test_a_pin_overrides_a_tag_route_in_route_order(make_hub: HubFactory) -> None:
    hub = await make_hub(routes=[{"match": "doorbell", "providers": ["gemini", "anthropic"]}])
    assert (await hub.chat(tag="doorbell")).body["provider"] == "gemini"
    pinned = await hub.chat(tag="doorbell", provider="openai")
    assert pinned.status == 200, pinned.body
    assert pinned.body["provider"] == "openai"


# --- a success re-admits at once (items 10 and 11) ------------------------------------------
async def test_a_successful_request_marks_a_down_provider_healthy_at_once(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub()
    hub.fakes.openai.fail_next(Fault.SERVER_ERROR)
    failed_over = await hub.chat()
    assert failed_over.outcomes[0] == ("openai", "provider_bad_response")
    assert (await states(hub))["openai"] == ("down", "provider_bad_response")
    assert (await hub.chat(provider="openai")).status == 200
    assert (await states(hub))["openai"] == ("healthy", None)


async def test_a_successful_stream_marks_a_down_provider_healthy_at_once(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub()
    hub.fakes.openai.fail_next(Fault.SERVER_ERROR)
    await hub.chat()
    assert (await states(hub))["openai"][0] == "down"
    streamed = await hub.stream(provider="openai")
    assert streamed.done is not None, streamed.body
    assert (await states(hub))["openai"] == ("healthy", None)


async def rejected_key(hub: Any) -> None:
    """Make openai's fake refuse the hub's key once, so its breaker opens on provider_auth."""
    key = hub.fakes.openai.state.api_key
    hub.fakes.openai.state.api_key = "sk-another-key-entirely"
    refused = await hub.chat(provider="openai")
    assert refused.key == "provider_auth"
    assert (await states(hub))["openai"] == ("circuit_open", "provider_auth")
    assert (await hub.chat(provider="openai")).outcomes == [("openai", "circuit_open")]
    hub.fakes.openai.state.api_key = key  # the same key works again (e.g. billing fixed)


@pytest.mark.parametrize(
    "recheck",
    [
        pytest.param({"path": "/api/v1/providers/openai/test"}, id="test the key in use"),
        pytest.param(
            {"path": "/api/v1/providers/openai/test", "key": "sk-test-openai-key-123456"},
            id="test the same key given in the body",
        ),
        pytest.param({"health": True}, id="health check"),
    ],
)
async def test_a_passing_check_of_the_same_key_readmits_a_provider_benched_for_auth(
    make_hub: HubFactory, recheck: dict[str, Any]
) -> None:
    hub = await make_hub()
    await rejected_key(hub)
    if recheck.get("health"):
        await hub.manager.check_health()
    else:
        body = {"api_key": recheck["key"]} if "key" in recheck else None
        response = await hub.client.post(recheck["path"], json=body, headers=AUTH)
        assert (await response.json())["result"] == "valid"
    assert (await states(hub))["openai"][0] == "healthy"
    answer = await hub.chat(provider="openai")
    assert answer.status == 200, answer.body


async def test_a_passing_test_of_another_key_does_not_readmit(make_hub: HubFactory) -> None:
    hub = await make_hub()
    await rejected_key(hub)
    hub.fakes.openai.state.api_key = "sk-candidate-key-987654"
    response = await hub.client.post(
        "/api/v1/providers/openai/test", json={"api_key": "sk-candidate-key-987654"}, headers=AUTH
    )
    assert (await response.json())["result"] == "valid"
    assert (await states(hub))["openai"][0] == "circuit_open"


# --- a bug in our own code is ours, not the provider's (issue 10, item 2) -------------------
@pytest.mark.parametrize("bug", [KeyError, TypeError, AttributeError, ValueError])
@pytest.mark.parametrize("stream", [False, True])
async def test_a_bug_in_an_adapter_is_an_internal_error_not_a_provider_failure(
    make_hub: HubFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    bug: type[Exception],
    stream: bool,
) -> None:
    def broken_mapping(*_: object) -> None:
        raise bug("our mistake")

    monkeypatch.setattr("addon.providers.openai._usage", broken_mapping)
    hub = await make_hub()
    for _ in range(6):  # more than the breaker's 5 failures in a row
        if stream:
            answer = await hub.stream()  # the bug strikes mid-stream: an error event
            assert answer.error_key == "internal_error", answer.events
            assert answer.done is None
        else:
            refused = await hub.chat()
            assert (refused.status, refused.key) == (500, "internal_error"), refused.body
    assert hub.calls("anthropic") == 0  # no quiet failover past the bug
    assert hub.manager.guards.breakers.states()["openai"] == "closed"
    assert hub.manager.guards.stats.get("openai").error_rate() == 0
    assert (await states(hub))["openai"][0] != "down"
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is bug]
    assert logged, "the traceback must reach the log"


async def test_a_bug_answers_internal_error_on_the_openai_door_and_in_a_batch(
    make_hub: HubFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_mapping(*_: object) -> None:
        raise KeyError("usage")

    monkeypatch.setattr("addon.providers.openai._usage", broken_mapping)
    hub = await make_hub()
    body = {"model": "openai", "messages": [{"role": "user", "content": "Hi"}]}
    response = await hub.client.post("/v1/chat/completions", json=body, headers=AUTH)
    assert response.status == 500
    assert (await response.json())["error"]["code"] == "internal_error"
    batch = await hub.post(
        "/api/v1/batch", {"requests": [{"prompt": "a"}, {"prompt": "b", "provider": "gemini"}]}
    )
    assert [r["status"] for r in batch.body["results"]] == [500, 200]
    assert batch.body["results"][0]["error"]["key"] == "internal_error"
