"""A model that cannot call tools is a capability miss: skipped without blame, through the API.

Ollama's own answer for a model whose template has no tools (HTTP 400 "... does not support
tools") is what the hub meets when the traits know nothing against the model: the request
moves on to the next provider, the Ollama provider stays healthy with its breaker closed, and
only when no candidate can serve the request is the answer 422 ``no_capable_provider``.
"""

from __future__ import annotations

from typing import Any

from tests.addon.routing.api_fixtures import Hub, HubFactory

TOOLS = [{"name": "turn_on", "parameters": {"type": "object", "properties": {}}}]
TOOLLESS = {"ollama": {"model": "tinyllama", "priority": 1}}


async def toolless_hub(make_hub: HubFactory, **options: Any) -> Hub:
    hub = await make_hub(providers=TOOLLESS, **options)
    hub.fakes.ollama.state.models.append("tinyllama:latest")
    return hub


async def test_the_next_provider_answers(make_hub: HubFactory) -> None:
    hub = await toolless_hub(make_hub, only=("ollama", "openai"))

    answer = await hub.chat("Porch light on", tools=TOOLS)

    assert answer.status == 200, answer.body
    assert answer.outcomes == [("ollama", "capability_miss"), ("openai", "ok")]


async def test_misses_count_nothing_against_the_provider(make_hub: HubFactory) -> None:
    hub = await toolless_hub(make_hub, only=("ollama", "openai"))

    for _ in range(8):  # more than enough failures to open a breaker
        assert (await hub.chat("Porch light on", tools=TOOLS)).status == 200

    health = await (await hub.client.get("/health")).json()
    state = {p["name"]: p["state"] for p in health["providers"]}["ollama"]
    assert state in ("healthy", "unknown")  # neither down nor circuit_open
    plain = await hub.chat("Hello", provider="ollama")
    assert plain.outcomes == [("ollama", "ok")]


async def test_with_no_capable_candidate_the_answer_is_422(make_hub: HubFactory) -> None:
    hub = await toolless_hub(make_hub, only=("ollama",))

    answer = await hub.chat("Porch light on", tools=TOOLS)

    assert answer.status == 422
    assert answer.key == "no_capable_provider"
    assert answer.outcomes == [("ollama", "capability_miss")]
    assert "does not support tools" in answer.error["message"]
