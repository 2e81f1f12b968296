"""Providers built as the hub builds them import their SDK on their first call, not before."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from addon.errors import ConfigError
from addon.models import ChatRequest, Message, Role
from addon.providers import create_provider, deferred_provider
from addon.providers.lazy import PROVIDER_FACTS, LazyProvider, ProviderFacts
from addon.settings import ProviderSettings, Secret
from tests.fakes.openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[3]
SDKS = ("openai", "anthropic", "google.genai", "ollama")


def settings(provider_type: str, url: str = "http://127.0.0.1:9") -> ProviderSettings:
    """A provider of ``provider_type`` with a key, at ``url``."""
    return ProviderSettings(
        name=f"{provider_type}-lazy",
        type=provider_type,
        model="m",
        api_key=Secret("sk-lazy-0123456789"),
        base_url=url,
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    """The simulated OpenAI, accepting the test's key."""
    server = FakeOpenAI(api_key="sk-lazy-0123456789")
    await server.start()
    yield server
    await server.stop()


@pytest.mark.parametrize("provider_type", sorted(PROVIDER_FACTS))
def test_the_facts_are_what_the_provider_classes_declare(provider_type: str) -> None:
    real = create_provider(settings(provider_type))
    facts = PROVIDER_FACTS[provider_type]
    assert (type(real).__module__, type(real).__name__) == (facts.module, facts.class_name)
    assert real.requires_api_key == facts.requires_api_key  # type: ignore[attr-defined]
    assert real.media_capabilities == facts.media_capabilities  # type: ignore[attr-defined]
    assert real.provider_type == provider_type  # type: ignore[attr-defined]


def test_routing_questions_and_probes_import_no_sdk_and_a_call_imports_only_its_own() -> None:
    """In a fresh interpreter, as the hub starts: nothing imports an SDK until a call; health
    checks with a prober probe over HTTP instead (here: nothing listens)."""
    script = textwrap.dedent(
        f"""
        import asyncio, json, sys
        from addon.models import Capability, ChatRequest, Message, Role
        from addon.providers import deferred_provider
        from addon.providers.probe import Prober
        from addon.settings import ProviderSettings, Secret
        sdks = {SDKS!r}
        def loaded():
            return sorted(s for s in sdks if s in sys.modules)
        types = ("openai", "openai_compatible", "anthropic", "gemini", "ollama")
        configured = [
            ProviderSettings(name=t, type=t, model="m", api_key=Secret("k-0123456789"),
                base_url="http://127.0.0.1:9")
            for t in types
        ]
        built = [deferred_provider(s) for s in configured]
        request = ChatRequest(messages=(Message(role=Role.USER, content="hi"),))
        for p in built:
            p.traits("m"); p.supports_vision("m"); p.resolve_model(request)
            p.default_model(Capability.EMBEDDINGS); p.supports(Capability.SPEECH, "m")
        before = loaded()
        async def probe_all():
            prober = Prober()
            probed = [deferred_provider(s, prober) for s in configured]
            try:
                return [(await p.health(timeout=2)).error_key for p in probed]
            finally:
                await prober.close()
        keys = asyncio.run(probe_all())
        probed = loaded()
        asyncio.run(built[2].health(timeout=2))
        print(json.dumps([before, keys, probed, loaded()]))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    before, keys, probed, after = json.loads(run.stdout)
    assert before == probed == []
    assert keys == ["provider_connection"] * 5
    assert after == ["anthropic"]


async def test_a_deferred_provider_answers_as_the_real_one(fake: FakeOpenAI) -> None:
    provider = deferred_provider(settings("openai", f"{fake.url}/v1"))
    assert isinstance(provider, LazyProvider)
    request = ChatRequest(messages=(Message(role=Role.USER, content="hello"),), model="gpt-4o-mini")
    try:
        answer = await provider.chat(request, timeout=10)
        streamed = [d.text async for d in provider.chat_stream(request, timeout=10)]
    finally:
        await provider.close()
    assert answer.text
    assert "".join(streamed) == answer.text
    assert len(fake.requests) == 2


async def test_a_provider_its_sdk_cannot_build_fails_its_calls_with_a_config_error() -> None:
    broken = ProviderFacts("addon.providers.lazy", "ProviderFacts", True, frozenset())
    provider = LazyProvider(settings("openai"), broken)  # ProviderFacts(settings) raises
    with pytest.raises(ConfigError, match="openai-lazy"):
        await provider.list_models(timeout=1)
    assert "not loaded yet" in repr(provider)


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999"])
def test_a_base_url_no_sdk_could_use_is_refused_when_built(url: str) -> None:
    with pytest.raises(ConfigError, match="openai-lazy"):
        deferred_provider(settings("openai", url))
