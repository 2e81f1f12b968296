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
def break_usage_mapping(monkeypatch: pytest.MonkeyPatch, bug: Exception) -> None:
    """Make the OpenAI adapter's usage mapping raise ``bug`` (its JSON and streaming paths
    both read usage with it)."""

    def broken_mapping(*_: object) -> None:
        raise bug

    monkeypatch.setattr("addon.providers.openai_wire.usage_of", broken_mapping)


@pytest.mark.parametrize("bug", [KeyError, TypeError, AttributeError, ValueError])
@pytest.mark.parametrize("stream", [False, True])
async def test_a_bug_in_an_adapter_is_an_internal_error_not_a_provider_failure(
    make_hub: HubFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    bug: type[Exception],
    stream: bool,
) -> None:
    break_usage_mapping(monkeypatch, bug("our mistake"))
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
    break_usage_mapping(monkeypatch, KeyError("usage"))
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


# --- a bare model name goes to who serves it (issue 10, item 14) ----------------------------
async def completion(hub: Any, model: str) -> tuple[int, dict[str, Any]]:
    """``POST /v1/chat/completions`` with a model name."""
    body = {"model": model, "messages": [{"role": "user", "content": "Hi"}]}
    response = await hub.client.post("/v1/chat/completions", json=body, headers=AUTH)
    return response.status, await response.json()


def generations(hub: Any) -> dict[str, int]:
    """Generation requests each fake received (model listings aside)."""
    return {vendor: hub.calls(vendor) for vendor in hub.fakes.all if hub.calls(vendor)}


LOCAL_FIRST = {"ollama": {"priority": 1}}  # the local model would be tried first


@pytest.mark.parametrize(
    ("model", "vendor"),
    [
        pytest.param("gpt-4.1-mini", "openai", id="configured model"),
        pytest.param("claude-haiku-4-5", "anthropic", id="configured default model"),
        pytest.param("gpt-4o", "openai", id="listed by the provider"),
        pytest.param("llama3.2", "ollama", id="listed as name:latest"),
    ],
)
async def test_a_bare_model_on_v1_goes_to_the_provider_that_serves_it(
    make_hub: HubFactory, model: str, vendor: str
) -> None:
    hub = await make_hub(providers=LOCAL_FIRST)
    status, body = await completion(hub, model)
    assert status == 200, body
    assert body["model"].startswith(f"{vendor}/")
    assert generations(hub) == {vendor: 1}


async def test_a_bare_model_on_the_native_api_goes_to_the_provider_that_serves_it(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(providers=LOCAL_FIRST)
    answer = await hub.chat(model="claude-haiku-4-5")
    assert answer.status == 200, answer.body
    assert answer.outcomes == [("anthropic", "ok")]


async def test_a_model_served_by_several_is_left_to_the_strategy_among_them(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(providers=LOCAL_FIRST)
    hub.fakes.ollama.state.models.append("gemma-3-27b-it")  # Gemini lists it too
    answer = await hub.chat(model="gemma-3-27b-it")
    assert answer.status == 200, answer.body
    assert [provider for provider, _ in answer.outcomes] == ["ollama"]  # priority 1 first
    hub.fakes.ollama.fail_next(Fault.SERVER_ERROR)
    failed_over = await hub.chat(model="gemma-3-27b-it", cache=False)
    assert failed_over.outcomes == [("ollama", "provider_bad_response"), ("gemini", "ok")]
    assert "openai" not in generations(hub)
    assert "anthropic" not in generations(hub)


async def test_a_model_nobody_serves_is_422_before_any_call(make_hub: HubFactory) -> None:
    hub = await make_hub()
    status, body = await completion(hub, "no-such-model-9")
    assert status == 422
    assert body["error"]["code"] == "no_capable_provider"
    assert "no-such-model-9" in body["error"]["message"]
    assert generations(hub) == {}


async def test_model_lists_are_cached_between_requests(make_hub: HubFactory) -> None:
    hub = await make_hub()
    for _ in range(3):
        assert (await completion(hub, "gpt-4o"))[0] == 200
    listings = [r for r in hub.fakes.openai.requests if r.path.endswith("/models")]
    assert len(listings) == 1


async def test_no_price_warning_for_pairings_nobody_configured(
    make_hub: HubFactory, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await make_hub(strategy="cost")  # estimates the price of every candidate
    assert (await completion(hub, "claude-haiku-4-5"))[0] == 200
    assert not [r for r in caplog.records if "No price listed" in r.getMessage()]
