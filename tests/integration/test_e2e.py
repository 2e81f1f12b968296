"""End to end: Home Assistant -> this integration -> the real add-on -> simulated providers.

The add-on and the fakes are started by the fixtures of ``addon_process``.
"""

from __future__ import annotations

import pytest
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .addon_process import SAMPLE, Hub, act, refresh
from .helpers import add_fake_camera, exception_message, state


@pytest.mark.usefixtures("hub_entry")
async def test_camera_snapshot_reaches_provider(hass: HomeAssistant, hub: Hub) -> None:
    camera = await add_fake_camera(hass, SAMPLE.read_bytes())
    result = await act(
        hass,
        "analyze_image",
        prompt="Who is at the door?",
        camera_entity_id="camera.front_door",
        tag="e2e",
    )
    assert camera.snapshots == 1
    assert result["provider"] == "openai"
    assert result["text"]
    assert result["usage"]["input_tokens"] > 0
    assert [a["outcome"] for a in result["attempts"]] == ["ok"]
    [request] = [r for r in await hub.received("openai") if r["path"].endswith("/completions")]
    parts = request["body"]["messages"][-1]["content"]
    images = [p for p in parts if p["type"] == "image_url"]
    assert len(images) == 1
    assert images[0]["image_url"]["url"].startswith("data:image/")
    assert any(p["type"] == "text" and p["text"] == "Who is at the door?" for p in parts)


@pytest.mark.usefixtures("hub_entry")
async def test_failover_shows_in_attempts(hass: HomeAssistant, hub: Hub) -> None:
    await hub.fault("openai", "server_error")
    result = await act(hass, "chat", prompt="Hello")
    assert result["provider"] == "ollama"
    attempts = result["attempts"]
    assert [a["provider"] for a in attempts] == ["openai", "ollama"]
    assert attempts[0]["outcome"] != "ok"
    assert attempts[1]["outcome"] == "ok"
    assert [r["path"] for r in await hub.received("ollama")].count("/api/chat") == 1


@pytest.mark.usefixtures("hub_entry")
async def test_provider_auth_error_is_translated(hass: HomeAssistant, hub: Hub) -> None:
    """Pinned to the provider whose key is refused: the error comes back, translated."""
    await hub.fault("openai", "auth")
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "chat", prompt="Hello", provider="openai")
    assert err.value.translation_key == "provider_auth"
    assert err.value.translation_placeholders is not None
    message = err.value.translation_placeholders["message"]
    assert str(err.value) == exception_message("provider_auth", message=message)
    assert "/api/chat" not in [r["path"] for r in await hub.received("ollama")]


@pytest.mark.usefixtures("hub_entry")
async def test_rejected_key_fails_over_and_opens_the_circuit(hass: HomeAssistant, hub: Hub) -> None:
    """A rejected key: the request is answered elsewhere, the provider is benched and skipped."""
    await hub.fault("openai", "auth")
    first = await act(hass, "chat", prompt="Hello")
    assert first["provider"] == "ollama"
    assert [(a["provider"], a["outcome"]) for a in first["attempts"]] == [
        ("openai", "provider_auth"),
        ("ollama", "ok"),
    ]
    await refresh(hass)
    assert state(hass, "sensor.openai_status") == "circuit_open"
    result = await act(hass, "chat", prompt="Hello again")
    assert result["provider"] == "ollama"
    attempts = result["attempts"]
    assert [a["provider"] for a in attempts if a["outcome"] == "ok"] == ["ollama"]
    # The skipped provider may be listed (as circuit_open) or left out, never tried.
    assert {a["outcome"] for a in attempts if a["provider"] == "openai"} <= {"circuit_open"}
    completions = [r for r in await hub.received("openai") if r["path"].endswith("/completions")]
    assert len(completions) == 1  # only the first request reached the provider


@pytest.mark.parametrize("extra_options", [{"budget_daily_usd": 0.0}])
@pytest.mark.usefixtures("hub_entry")
async def test_budget_error_is_translated(hass: HomeAssistant, hub: Hub) -> None:
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "chat", prompt="Hello", provider="openai", max_tokens=1000)
    error = err.value
    assert error.translation_key == "budget_exceeded"
    assert error.translation_placeholders is not None
    message = error.translation_placeholders["message"]
    assert str(error) == exception_message("budget_exceeded", message=message)
    assert "/v1/chat/completions" not in [r["path"] for r in await hub.received("openai")]
    # The sensors tell the same story: the paid provider is over budget, the local one is not.
    await refresh(hass)
    assert state(hass, "sensor.openai_status") == "over_budget"
    assert state(hass, "sensor.ollama_status") != "over_budget"
    assert float(state(hass, "sensor.ai_provider_hub_budget_left_today")) == 0


@pytest.mark.usefixtures("hub_entry")
async def test_conversation_agent_streams_through_hub(hass: HomeAssistant, hub: Hub) -> None:
    result = await conversation.async_converse(
        hass, "Hello", None, Context(), agent_id="conversation.ai_provider_hub_conversation"
    )
    assert result.response.speech["plain"]["speech"] == "Hello from the fake."
    [request] = [r for r in await hub.received("openai") if r["path"].endswith("/completions")]
    assert request["body"]["stream"] is True


@pytest.mark.usefixtures("hub_entry")
async def test_sensors_reflect_usage(hass: HomeAssistant) -> None:
    assert hass.states.get("sensor.openai_status") is not None
    result = await act(hass, "chat", prompt="Hello", tag="e2e")
    await refresh(hass)
    usage = result["usage"]
    tokens = usage["input_tokens"] + usage["output_tokens"]
    assert state(hass, "sensor.ai_provider_hub_requests_today") == "1"
    assert state(hass, "sensor.ai_provider_hub_tokens_today") == str(tokens)
    spend = float(state(hass, "sensor.ai_provider_hub_spend_today"))
    assert spend == pytest.approx(result["cost_usd"])
    assert spend > 0
    assert float(state(hass, "sensor.openai_average_latency")) == pytest.approx(
        result["attempts"][0]["latency_ms"], rel=0.05
    )
