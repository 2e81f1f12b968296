"""Per-attempt deadlines (issue 10, item 7): a hanging provider leaves room for the next one.

While another candidate waits, an attempt may use at most half of what is left of the
request's deadline (for a stream: until its first delta); the last candidate gets all that is
left. Real clock: these are deadline bounds, checked as behaviour (who answered, with which
attempts, inside ``request_timeout``), not as benchmarks.
"""

from __future__ import annotations

import asyncio

import pytest

from addon.models import ChatRequest, ChatResponse
from tests.addon.routing.api_fixtures import Answer, Hub, HubFactory, StreamAnswer
from tests.fakes.base import Fault

REQUEST_TIMEOUT = 4.0  # the providers keep their default 60 s timeout


async def two_providers(make_hub: HubFactory) -> Hub:
    return await make_hub(
        real_clock=True, only=("openai", "anthropic"), request_timeout=REQUEST_TIMEOUT
    )


def outcomes(answer: Answer | StreamAnswer) -> list[tuple[str, str]]:
    if isinstance(answer, Answer):
        return answer.outcomes
    final = answer.done or answer.body.get("error", {})
    return [(a["provider"], a["outcome"]) for a in final.get("attempts", [])]


@pytest.mark.parametrize("stream", [False, True])
async def test_a_hanging_first_provider_leaves_room_for_the_second(
    make_hub: HubFactory, stream: bool
) -> None:
    hub = await two_providers(make_hub)
    hub.fakes.openai.fail_next(Fault.TIMEOUT)
    answer = await (hub.stream() if stream else hub.chat())
    # The second provider answering inside the request's deadline is the proof: before, the
    # hanging call took the whole deadline and the request ended 504. (Not the test's own wall
    # time: on a loaded machine the client's side of the request adds seconds the hub never saw.)
    assert answer.status == 200, answer.body
    assert outcomes(answer) == [("openai", "provider_timeout"), ("anthropic", "ok")]


async def test_the_last_candidate_may_use_all_that_is_left(
    make_hub: HubFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = await make_hub(real_clock=True, only=("openai",), request_timeout=REQUEST_TIMEOUT)
    slow_but_fine = REQUEST_TIMEOUT * 0.6  # more than half: a waiting candidate would cut it
    provider = hub.manager.providers["openai"]
    real = provider.chat

    async def slow(request: ChatRequest, *, timeout: float) -> ChatResponse:
        await asyncio.sleep(slow_but_fine)
        return await real(request, timeout=timeout - slow_but_fine)

    monkeypatch.setattr(provider, "chat", slow)
    answer = await hub.chat()
    assert answer.status == 200, answer.body
    assert answer.outcomes == [("openai", "ok")]


async def test_a_stream_that_has_started_is_not_cut_at_half(make_hub: HubFactory) -> None:
    hub = await two_providers(make_hub)
    hub.fakes.openai.fail_next(Fault.STALL_STREAM)  # one chunk, then silence
    answer, elapsed = await hub.timed_chat(stream=True)
    assert isinstance(answer, StreamAnswer)
    assert answer.text  # the first chunk reached the caller: no failover after it
    assert answer.error_key in {"provider_timeout", "upstream_timeout"}
    assert elapsed > REQUEST_TIMEOUT / 2  # it kept the stream open past the first-byte bound
    assert hub.calls("anthropic") == 0
