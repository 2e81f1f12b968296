"""The application's lifecycle: health probed without vendor SDKs (only the first choice's is
warmed up in the background), the probe session closed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from addon.api.context import HUB_CONTEXT
from addon.app import build_app
from addon.providers.lazy import LazyProvider
from addon.settings import Secret, parse_options
from tests.conftest import AUTH, TOKEN, Fakes, provider_options


async def test_the_first_health_round_probes_every_vendor_and_shutdown_closes_the_session(
    fakes: Fakes, aiohttp_client: Any, tmp_path: Path
) -> None:
    settings = parse_options({"providers": provider_options(fakes), "api_token": TOKEN})
    app = build_app(settings, data_dir=tmp_path, api_token=Secret(TOKEN))
    client = await aiohttp_client(app)
    manager = app[HUB_CONTEXT].manager
    await manager.check_health()  # a round as the monitor's (its first may still run)
    answer = await client.get("/health", headers=AUTH)
    states = {row["name"]: row["state"] for row in (await answer.json())["providers"]}
    lazies = [p for p in manager.providers.values() if isinstance(p, LazyProvider)]
    probers = {id(p._prober) for p in lazies}  # noqa: SLF001 - the one session is the point
    session = lazies[0]._prober._session  # type: ignore[union-attr]  # noqa: SLF001

    await client.close()

    assert states == dict.fromkeys(["openai", "anthropic", "gemini", "ollama"], "healthy")
    assert len(lazies) == 4
    first = min(lazies, key=lambda p: p.settings.priority)  # warmed up in the background
    assert not any(p.is_loaded for p in lazies if p is not first)
    assert len(probers) == 1
    assert session is not None
    assert session.closed
    paths = {name: {r.path for r in fake.requests} for name, fake in fakes.all.items()}
    assert paths == {
        "openai": {"/v1/models"},
        "anthropic": {"/v1/models"},
        "gemini": {"/v1beta/models"},
        "ollama": {"/api/tags"},
    }
