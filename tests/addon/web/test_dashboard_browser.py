"""The dashboard end to end in a real headless Chromium, against the real hub and simulators.

``browser.mjs`` (playwright-core driving Debian's ``chromium``) acts on the page and reports
what it saw; these tests compare that with what the hub's API says. Screenshots (light and dark,
desktop and phone) land in ``tests/artifacts/``. ``./scripts/test`` installs the browser and
the npm package; without them the tests skip locally and fail in CI.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any, Final

import aiohttp
import pytest

from addon.pricing import usd
from addon.settings import Secret
from tests.addon.web.stage import Stage, stage

ROOT: Final = Path(__file__).resolve().parents[3]
SCRIPT: Final = Path(__file__).with_name("browser.mjs")
ARTIFACTS: Final = ROOT / "tests" / "artifacts"
REFRESH_MS: Final = 5000
NEW_KEY: Final = "AIza-e2e-fresh-gemini-key-0123456789"
PAGE_BUDGET_BYTES: Final = 64 * 1024


def browser_tools() -> tuple[str, str]:
    """Chromium and node, or skip (fail in CI) when ``./scripts/test`` has not installed them."""
    chromium, node = shutil.which("chromium"), shutil.which("node")
    ready = chromium and node and (ROOT / "node_modules" / "playwright-core").is_dir()
    if not ready:
        message = "Chromium, node or playwright-core missing: run ./scripts/test to install them"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert chromium is not None
    assert node is not None
    return chromium, node


async def api(scene: Stage, path: str) -> Any:
    """GET one of the hub's JSON routes with the token."""
    headers = {"Authorization": f"Bearer {scene.token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(scene.hub_url + path, headers=headers) as response,
    ):
        assert response.status == 200, await response.text()
        return await response.json()


async def settled(scene: Stage) -> None:
    """Wait (bounded) for the start-up health round, so the page and the API agree."""
    for _ in range(100):
        health = await api(scene, "health")
        if all(p["state"] != "unknown" for p in health["providers"]):
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"health checks did not finish: {health}")


async def drive(scene: Stage, scenario: str, tmp_path: Path) -> dict[str, Any]:
    """Run one browser scenario while this event loop keeps serving the hub."""
    chromium, node = browser_tools()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    config = {
        "ingress_url": scene.ingress.url,
        "hub_url": scene.hub_url,
        "token": scene.token,
        "fakes": {vendor: fake.url for vendor, fake in scene.fakes.all.items()},
        "providers": len(scene.fakes.all),
        "artifacts": str(ARTIFACTS),
        "refresh_ms": REFRESH_MS,
        "new_key": NEW_KEY,
        "chromium": chromium,
    }
    config_path, report_path = tmp_path / "config.json", tmp_path / "report.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        node, str(SCRIPT), str(config_path), str(report_path), scenario, cwd=ROOT
    )
    try:
        await asyncio.wait_for(process.wait(), timeout=300)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"the {scenario} browser scenario did not finish in 300 s")
    report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["ok"], report.get("error")
    return report


def assert_clean(report: dict[str, Any], origin_prefix: str) -> None:
    """No console error or warning, no script error, no failed or foreign request."""
    assert report["console"] == []
    assert report["pageErrors"] == []
    assert report["failedRequests"] == []
    foreign = [url for url in report["requests"] if not url.startswith(origin_prefix)]
    assert foreign == [], "requests left the hub's origin or the ingress prefix"


def assert_screenshots(report: dict[str, Any]) -> None:
    for path in map(Path, report["screenshots"]):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path


def chart_pairs(usage: dict[str, Any]) -> set[tuple[str, str]]:
    """(day, provider) pairs that cost something: the bars the chart must draw."""
    return {
        (day, provider)
        for day, providers in usage["by_day_provider"].items()
        for provider, stats in providers.items()
        if stats["cost_usd"] > 0
    }


@pytest.mark.timeout(420)  # a browser session with a dozen steps, on a loaded machine
async def test_the_dashboard_through_ingress(tmp_path: Path) -> None:
    async with stage(tmp_path / "data") as scene:
        await settled(scene)
        month_ago = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(time.time() - 29 * 86400))
        usage = await api(scene, f"api/v1/usage?since={month_ago}")
        providers = (await api(scene, "api/v1/providers"))["providers"]
        recent = (await api(scene, "api/v1/requests?limit=25"))["requests"]

        report = await drive(scene, "ingress", tmp_path)

        after = {p["name"]: p for p in (await api(scene, "api/v1/providers"))["providers"]}
        assert scene.ingress.strays == []
    assert_clean(report, scene.ingress.url)
    assert_screenshots(report)
    steps = report["steps"]

    initial = steps["initial"]
    assert [(c["name"], c["state"], c["key"]) for c in initial["cards"]] == [
        (p["name"], p["state"], p["api_key"] or "none (not needed)") for p in providers
    ]
    assert initial["status"] == "hub ok"
    today, month = initial["gauges"]
    assert today["big"] == usd(usage["today"]["cost_usd"])
    assert month["big"] == usd(usage["month"]["cost_usd"])
    assert f"{usage['today']['requests']} requests" in today["text"]
    assert f"{usage['today']['attempts']} attempts" in today["text"]
    assert "of $1.00 daily budget" in today["text"]
    openai_card = next(c for c in initial["cards"] if c["name"] == "openai")
    assert openai_card["spend"].startswith(f"{usd(0.0123)} of {usd(0.5)}")
    assert {(b["day"], b["provider"]) for b in initial["bars"]} == chart_pairs(usage)
    assert all(b["height"] >= 1 for b in initial["bars"])
    assert {row[0] for row in initial["byTag"]} == set(usage["by_tag"])
    assert {row[0] for row in initial["byModel"]} == set(usage["by_model"])
    assert [r["id"] for r in initial["requests"]] == [r["request_id"] for r in recent]
    assert (
        "Requests tagged 'doorbell' go only to gemini, openai (in this order)"
        in (initial["routing"])
    )

    down = steps["down"]
    assert down["failover"]["body"]["provider"] == "anthropic"
    assert down["seen_after_ms"] <= REFRESH_MS + 2000
    assert down["card"]["reason"].startswith("down: provider_")
    trail = steps["failover_row"]["cells"][-1]
    duration = r"[\d.]+ m?s"
    assert re.fullmatch(rf"openai ✗ provider[\w ]+ · {duration}anthropic ✓ {duration}", trail), (
        trail
    )
    assert re.fullmatch(
        r"circuit open: provider_\w+ \(5 failures in a row\), retry in \d+ s",
        steps["circuit"]["reason"],
    ), steps["circuit"]

    key = steps["key"]
    masked = Secret(NEW_KEY).masked()
    assert steps["key_test"] == "gemini accepted the key"
    assert key["result"] == f"Key saved: {masked}"
    assert key["shown"] == key["api"] == masked == after["gemini"]["api_key"]
    assert key["form_hidden"]
    assert key["input_value"] == ""
    assert not key["in_page"]
    assert not key["in_storage"]

    assert steps["try_it"]["text"] == "Hello from the fake."
    assert steps["try_it"]["meta"].startswith("ollama · gemma3:4b")
    assert "dashboard" in {row[0] for row in steps["final"]["byTag"]}
    sorted_by = steps["sorted"]
    assert sorted_by["sort"] == "descending"
    counts = [int(v.replace(",", "")) for v in sorted_by["values"]]
    assert counts == sorted(counts, reverse=True)
    assert steps["phone_overflow"] <= 0, "the phone layout scrolls sideways"

    transfer = steps["transfer"]
    summary = {"transfer": transfer, "down_seen_after_ms": down["seen_after_ms"]}
    (ARTIFACTS / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    assert transfer["page_body"] < PAGE_BUDGET_BYTES, transfer


@pytest.mark.timeout(420)  # a browser session, on a loaded machine
async def test_without_ingress_the_page_asks_for_the_token_once(tmp_path: Path) -> None:
    async with stage(tmp_path / "data") as scene:
        report = await drive(scene, "token", tmp_path)
    assert_clean_outside_ingress(report, scene.hub_url)
    assert_screenshots(report)
    steps = report["steps"]
    assert steps["asked"]
    assert steps["refused"].startswith("The hub refused the token")
    assert steps["signed_in"]
    assert list(steps["storage"]["session"].values()) == [scene.token]
    assert steps["storage"]["local"] == {}
    assert steps["storage"]["cookies"] == ""
    assert steps["kept_after_reload"]
    assert steps["new_tab_asks"]


def assert_clean_outside_ingress(report: dict[str, Any], origin: str) -> None:
    """Like ``assert_clean``, but Chromium logs each refused call (401) as a console error."""
    unauthorized = [m for m in report["console"] if "status of 401 (Unauthorized)" in m]
    assert unauthorized, report["console"]
    assert_clean(
        {**report, "console": [m for m in report["console"] if m not in unauthorized]}, origin
    )
