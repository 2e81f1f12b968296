"""The capability-generic path: media requests go through the same machinery as chat.

The real manager (``build_manager``: strategies, guards, budgets, breakers, cache, SQLite
ledger) over scripted providers (``media_fakes``: real provider classes whose hooks answer
without a network), for every capability beyond chat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from addon.errors import (
    BudgetExceededError,
    NoCapableProviderError,
    ProviderResponseError,
)
from addon.hub import build_manager
from addon.ledger import LedgerRow
from addon.manager import ProviderManager
from addon.models import (
    AudioChunk,
    AudioFormat,
    AudioInput,
    Capability,
    EmbeddingRequest,
    ImageRequest,
    MediaRequest,
    MediaResponse,
    SpeechRequest,
    TranscriptDelta,
    TranscriptionRequest,
)
from addon.settings import parse_options
from tests.addon.routing.media_fakes import MP3, Scripted, scripted
from tests.addon.routing.routing_fakes import FakeClock

NOW = 1_767_000_000.0  # a fixed wall clock (December 2025)
Build = Callable[..., Any]


@pytest.fixture
async def hubs(tmp_path: Path) -> AsyncIterator[Build]:
    """Build managers over scripted providers; each is opened, and closed at the end."""
    built: list[ProviderManager] = []

    async def build(providers: Sequence[Scripted], **options: Any) -> ProviderManager:
        settings = parse_options(
            {
                "providers": [
                    {"name": p.name, "type": p.settings.type, "base_url": "http://127.0.0.1:9"}
                    for p in providers
                ],
                "strategy": "priority",
                **options,
            }
        )
        manager = build_manager(
            settings,
            data_dir=tmp_path,
            providers=list(providers),
            clock=FakeClock(),
            wall_clock=lambda: NOW,
        )
        await manager.open(monitor=False)
        built.append(manager)
        return manager

    yield build
    for manager in built:
        await manager.close()


def embed(*texts: str, **wishes: Any) -> MediaRequest[EmbeddingRequest]:
    model = wishes.pop("model", "")
    dimensions = wishes.pop("dimensions", None)
    return MediaRequest(EmbeddingRequest(texts, model, dimensions), "req-emb", **wishes)


def audio(seconds: float) -> AudioInput:
    return AudioInput(b"RIFF" + b"\0" * 40, AudioFormat.WAV, 16000, 1, seconds)


async def rows(manager: ProviderManager) -> list[LedgerRow]:
    ledger = manager.guards.ledger
    assert ledger is not None
    return [a for record in await ledger.recent(50) for a in record.attempts]


# --- candidates -----------------------------------------------------------------------------
async def test_only_providers_with_a_model_for_the_capability_are_candidates(hubs: Build) -> None:
    openai = scripted("openai")
    claude = scripted("claude", "anthropic", frozenset())  # Anthropic has no embeddings
    local = scripted("compat", "openai_compatible")  # no embedding_model configured
    manager = await hubs([claude, local, openai])
    response = await manager.embed(embed("hello world"))
    assert response.provider == "openai"
    assert response.model == "text-embedding-3-small"  # the type's default
    assert [a.provider for a in response.attempts] == ["openai"]
    assert claude.calls == local.calls == []


@pytest.mark.parametrize(
    ("capability", "request_for", "option"),
    [
        (Capability.EMBEDDINGS, lambda: embed("x"), "embedding_model"),
        (
            Capability.TRANSCRIPTION,
            lambda: MediaRequest(TranscriptionRequest(audio(1.0)), "r"),
            "transcription_model",
        ),
        (Capability.SPEECH, lambda: MediaRequest(SpeechRequest("hi"), "r"), "speech_model"),
        (Capability.IMAGES, lambda: MediaRequest(ImageRequest("a cat"), "r"), "image_model"),
    ],
)
async def test_no_provider_for_a_capability_is_a_422_naming_the_option(
    hubs: Build, capability: Capability, request_for: Callable[[], Any], option: str
) -> None:
    manager = await hubs(
        [scripted("claude", "anthropic", frozenset()), scripted("compat", "openai_compatible")]
    )
    method = {
        Capability.EMBEDDINGS: manager.embed,
        Capability.TRANSCRIPTION: manager.transcribe,
        Capability.SPEECH: manager.speak,
        Capability.IMAGES: manager.generate_image,
    }[capability]
    with pytest.raises(NoCapableProviderError, match=option) as caught:
        await method(request_for())
    assert caught.value.status == 422


async def test_a_configured_model_makes_a_compatible_server_capable(hubs: Build) -> None:
    local = scripted("compat", "openai_compatible", embedding_model="my-embedder")
    manager = await hubs([local])
    response = await manager.embed(embed("hello"))
    assert (response.provider, response.model) == ("compat", "my-embedder")
    with pytest.raises(NoCapableProviderError, match="'other-model'"):
        await manager.embed(embed("hello", model="other-model"))


async def test_a_route_may_name_a_capability(hubs: Build) -> None:
    manager = await hubs(
        [scripted("a"), scripted("b"), scripted("c")],
        routes=[{"match": "embeddings", "providers": ["c", "b"]}],
    )
    assert (await manager.embed(embed("x"))).provider == "c"
    speech = await manager.speak(MediaRequest(SpeechRequest("hi"), "r2"))
    assert speech.provider == "a"  # the route is for embeddings only


async def test_the_cost_strategy_orders_by_the_capability_price(hubs: Build) -> None:
    manager = await hubs([scripted("g", "gemini"), scripted("o", "openai")], strategy="cost")
    # gemini-embedding-001 costs $0.15/1M tokens, text-embedding-3-small $0.02/1M.
    assert (await manager.embed(embed("some text to embed"))).provider == "o"


# --- failover -------------------------------------------------------------------------------
async def test_a_failing_provider_fails_over_and_is_blamed(hubs: Build) -> None:
    first, second = scripted("first"), scripted("second", "gemini")
    first.fail(ProviderResponseError("first: HTTP 500"))
    manager = await hubs([first, second])
    response = await manager.embed(embed("hello world"))
    assert response.provider == "second"
    assert [(a.provider, a.outcome) for a in response.attempts] == [
        ("first", "provider_bad_response"),
        ("second", "ok"),
    ]
    assert manager.health.get("first").state.value == "down"
    ledger = await rows(manager)
    assert [(r.provider, r.capability, r.outcome) for r in ledger] == [
        ("first", "embeddings", "provider_bad_response"),
        ("second", "embeddings", "ok"),
    ]


async def test_a_provider_without_the_capability_is_skipped_without_blame(hubs: Build) -> None:
    pinned_miss = scripted("first", capabilities=frozenset())
    manager = await hubs([pinned_miss, scripted("second")])
    # supports() is consulted first: the provider is never a candidate.
    response = await manager.speak(MediaRequest(SpeechRequest("hello"), "r"))
    assert [a.provider for a in response.attempts] == ["second"]
    assert manager.health.get("first").state.value != "down"


# --- units, prices, budgets, the ledger -----------------------------------------------------
async def test_each_capability_is_billed_in_its_unit_and_ledgered(hubs: Build) -> None:
    provider = scripted(
        "openai",
        embedding_model="text-embedding-3-large",
        transcription_model="whisper-1",
        speech_model="tts-1",
        image_model="dall-e-2",
    )
    manager = await hubs([provider])
    emb = await manager.embed(embed("one two three four"))
    stt = await manager.transcribe(MediaRequest(TranscriptionRequest(audio(90.0)), "r-stt"))
    tts = await manager.speak(MediaRequest(SpeechRequest("x" * 2000), "r-tts"))
    img = await manager.generate_image(
        MediaRequest(ImageRequest("a cat", count=2, size="512x512"), "r-img")
    )
    assert emb.cost_usd == pytest.approx(4 * 0.13 / 1e6)  # 4 tokens at $0.13/1M
    assert stt.cost_usd == pytest.approx(1.5 * 0.006)  # 90 s at $0.006/min
    assert tts.cost_usd == pytest.approx(2000 * 15.0 / 1e6)  # 2000 characters at $15/1M
    assert img.cost_usd == pytest.approx(2 * 0.018)  # two 512x512 DALL-E 2 images at $0.018
    assert img.usage.images == 2
    ledger = {r.request_id: r for r in await rows(manager)}
    assert ledger["r-stt"].capability == "transcription"
    assert ledger["r-stt"].audio_seconds == 90.0
    assert ledger["r-tts"].characters == 2000
    assert (ledger["r-img"].capability, ledger["r-img"].images) == ("images", 2)
    assert ledger["r-img"].cost_usd == pytest.approx(0.036)
    report = await manager.usage(0, NOW + 1)
    assert report.report["by_capability"]["speech"]["characters"] == 2000


async def test_a_budget_holds_for_characters(hubs: Build) -> None:
    manager = await hubs([scripted("openai", speech_model="tts-1")], budget_daily_usd=0.02)
    text = "x" * 1000  # $0.015 at $15 per million characters
    await manager.speak(MediaRequest(SpeechRequest(text), "r1"))
    with pytest.raises(BudgetExceededError) as refused:
        await manager.speak(MediaRequest(SpeechRequest(text), "r2"))
    assert refused.value.status == 429
    assert manager.guards.budgets.state()["daily"]["spent_usd"] == pytest.approx(0.015)


async def test_a_budget_holds_for_images_by_quality_and_size(hubs: Build) -> None:
    manager = await hubs([scripted("openai", image_model="dall-e-3")], budget_daily_usd=0.1)
    # Left to the model, a picture is DALL-E 3's default (standard 1024x1024, $0.04); an HD
    # 1792x1024 one ($0.12) is more than the $0.06 left.
    await manager.generate_image(MediaRequest(ImageRequest("a cat"), "r1"))
    wide = ImageRequest("a dog", size="1792x1024", quality="hd")
    with pytest.raises(BudgetExceededError):
        await manager.generate_image(MediaRequest(wide, "r2"))
    assert manager.guards.budgets.state()["daily"]["spent_usd"] == pytest.approx(0.04)


async def test_a_budget_holds_for_audio_minutes(hubs: Build) -> None:
    manager = await hubs(
        [scripted("openai", transcription_model="whisper-1")], budget_daily_usd=0.01
    )
    # 60 s at $0.006/min fits; the next 60 s would bring the day to $0.012.
    await manager.transcribe(MediaRequest(TranscriptionRequest(audio(60.0)), "r1"))
    with pytest.raises(BudgetExceededError):
        await manager.transcribe(MediaRequest(TranscriptionRequest(audio(60.0)), "r2"))


async def test_a_free_local_server_costs_nothing_in_every_capability(hubs: Build) -> None:
    local = scripted(
        "local",
        "openai_compatible",
        transcription_model="whisper-large-v3",
        input_price=0,
        output_price=0,
    )
    manager = await hubs([local], budget_daily_usd=0.0)
    response = await manager.transcribe(MediaRequest(TranscriptionRequest(audio(600.0)), "r"))
    assert response.cost_usd == 0.0


# --- cache ----------------------------------------------------------------------------------
async def test_embeddings_are_cached_by_inputs_model_and_dimensions(hubs: Build) -> None:
    provider = scripted("openai")
    manager = await hubs([provider], cache_ttl=300)
    first = await manager.embed(embed("a", "b"))
    again = await manager.embed(embed("a", "b"))
    assert (first.cached, again.cached) == (False, True)
    assert again.result.vectors == first.result.vectors
    assert (again.cost_usd, again.attempts, again.request_id) == (0.0, (), "req-emb")
    assert len(provider.calls) == 1
    await manager.embed(embed("a", "b", dimensions=2))  # other dimensions: a miss
    await manager.embed(embed("b", "a"))  # other order: a miss
    await manager.embed(embed("a", "b", cache=False))  # the caller said no
    assert len(provider.calls) == 4
    cached = [r for r in await rows(manager) if r.cached]
    assert [(r.capability, r.cost_usd) for r in cached] == [("embeddings", 0.0)]


async def test_other_capabilities_are_cached_only_when_asked(hubs: Build) -> None:
    provider = scripted("openai")
    manager = await hubs([provider], cache_ttl=300)
    for _ in range(2):
        await manager.speak(MediaRequest(SpeechRequest("hello"), "r"))
    assert len(provider.calls) == 2
    for _ in range(2):
        await manager.speak(MediaRequest(SpeechRequest("hello"), "r", cache=True))
    assert len(provider.calls) == 3


# --- streams --------------------------------------------------------------------------------
async def collect(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


@pytest.mark.parametrize("streaming", [False, True])
async def test_speech_streams_chunks_then_the_response(hubs: Build, streaming: bool) -> None:
    manager = await hubs([scripted("openai", speech_model="tts-1", streaming=streaming)])
    items = await collect(manager.speak_stream(MediaRequest(SpeechRequest("hello"), "r")))
    *chunks, final = items
    assert all(isinstance(c, AudioChunk) for c in chunks)
    assert len(chunks) == (2 if streaming else 1)  # the default: the audio as one chunk
    assert b"".join(c.data for c in chunks) == MP3
    assert isinstance(final, MediaResponse)
    assert final.cost_usd == pytest.approx(5 * 15.0 / 1e6)
    assert [(r.capability, r.characters) for r in await rows(manager)] == [("speech", 5)]


async def test_a_transcript_stream_fails_over_before_its_first_piece(hubs: Build) -> None:
    first = scripted("first", streaming=True)
    first.fail(ProviderResponseError("first: HTTP 500"))
    manager = await hubs([first, scripted("second", "gemini", streaming=True)])
    request = MediaRequest(TranscriptionRequest(audio(3.0)), "r")
    *pieces, final = await collect(manager.transcribe_stream(request))
    assert all(isinstance(p, TranscriptDelta) for p in pieces)
    assert "".join(p.text for p in pieces).strip() == final.result.text
    assert [(a.provider, a.outcome) for a in final.attempts] == [
        ("first", "provider_bad_response"),
        ("second", "ok"),
    ]
    assert final.usage.audio_seconds == 3.0


@pytest.mark.parametrize(
    "strategy",
    ["adaptive", "priority", "round_robin", "weighted", "least_loaded", "fastest", "cost"],
)
async def test_every_strategy_orders_media_requests(hubs: Build, strategy: str) -> None:
    providers = [scripted("o"), scripted("g", "gemini"), scripted("c", "anthropic", frozenset())]
    manager = await hubs(providers, strategy=strategy)
    request = embed("hello world")
    assert {p.name for p in manager.media_candidates(request)} == {"o", "g"}
    response = await manager.embed(request)
    assert response.provider in {"o", "g"}
