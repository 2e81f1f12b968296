"""The quick-start demo: simulated providers, the real hub, a chat, a vision request, a failover.

Everything runs on loopback: ``tests.fakes.serve`` plays OpenAI, Anthropic, Gemini and Ollama
(simulated, not the real services), and the hub runs as ``python -m addon`` exactly as it does in
the add-on container. After the walk-through the hub stays up for you to try until Ctrl-C
(``--no-wait`` ends at once, for tests).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from scripts.processes import ROOT, start_fakes, start_hub, stop

SAMPLE_IMAGE = ROOT / "addon" / "samples" / "front_door.jpg"
DEMO_TOKEN = "demo-token-change-me"


def demo_options(urls: dict[str, str]) -> dict[str, Any]:
    """Hub options: four providers pointed at the simulated servers."""
    return {
        "providers": [
            {
                "name": "openai",
                "type": "openai",
                "api_key": "sk-demo-not-a-real-key",
                "base_url": f"{urls['openai']}/v1",
                "model": "gpt-4.1-mini",
                "priority": 10,
            },
            {
                "name": "anthropic",
                "type": "anthropic",
                "api_key": "sk-ant-demo-not-real",
                "base_url": urls["anthropic"],
                "model": "claude-haiku-4-5",
                "priority": 20,
            },
            {
                "name": "gemini",
                "type": "gemini",
                "api_key": "demo-gemini-key",
                "base_url": urls["gemini"],
                "model": "gemini-2.5-flash",
                "priority": 30,
            },
            {
                "name": "ollama",
                "type": "ollama",
                "base_url": urls["ollama"],
                "model": "gemma3:4b",
                "priority": 40,
            },
        ],
        "api_token": DEMO_TOKEN,
        "request_timeout": 30,
        "log_level": "warning",
    }


async def wait_healthy(
    session: aiohttp.ClientSession, url: str, hub: subprocess.Popen[bytes], log: Path
) -> dict[str, Any]:
    """Poll ``/health`` until every simulated provider has been checked."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            raise SystemExit(f"The hub exited early; see {log}")
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"{url}/health") as response:
                body: dict[str, Any] = await response.json()
                if all(p["state"] != "unknown" for p in body["providers"]):
                    return body
        await asyncio.sleep(0.2)
    raise SystemExit("The hub did not become healthy")


def show(title: str, body: dict[str, Any]) -> None:
    """Print one answer with its provider, model, usage and latency."""
    print(f"\n== {title}")
    if "error" in body:
        print(f"   error: {body['error']['key']}: {body['error']['message']}")
        return
    usage = body["usage"]
    print(f"   answer:   {body['text']}")
    print(f"   provider: {body['provider']}  model: {body['model']}")
    print(
        f"   usage:    {usage['input_tokens']} in / {usage['output_tokens']} out tokens,"
        f" cost ${body['cost_usd']:.6f}, latency {body['latency_ms']} ms"
    )
    if len(body["attempts"]) > 1:
        trail = " -> ".join(f"{a['provider']} ({a['outcome']})" for a in body["attempts"])
        print(f"   failover: {trail}")


async def walk_through(
    url: str, fakes: dict[str, str], hub: subprocess.Popen[bytes], hub_log: Path
) -> None:
    """The demo's requests, printed as they are answered."""
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}"}
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
        health = await wait_healthy(session, url, hub, hub_log)
        states = ", ".join(f"{p['name']}={p['state']}" for p in health["providers"])
        print(f"Hub status: {health['status']} ({states})")

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            async with session.post(f"{url}{path}", json=body) as response:
                answer: dict[str, Any] = await response.json()
                return answer

        show("Chat", await post("/api/v1/chat", {"prompt": "Is the house secure tonight?"}))
        image = base64.b64encode(SAMPLE_IMAGE.read_bytes()).decode()
        show(
            "Vision (bundled sample: a front door)",
            await post(
                "/api/v1/vision",
                {"prompt": "Who is at the front door?", "images": [{"data": image}]},
            ),
        )
        async with session.post(
            f"{fakes['openai']}/_fake/fault", json={"fault": "server_error", "always": True}
        ):
            pass
        show(
            "Failover (simulated OpenAI now answers 500)",
            await post("/api/v1/chat", {"prompt": "Summarise today for the family."}),
        )
        async with session.post(f"{fakes['openai']}/_fake/reset"):
            pass
        async with session.get(f"{url}/api/v1/usage") as response:
            usage = await response.json()
        show_spend(usage)


def show_spend(usage: dict[str, Any]) -> None:
    """Print what the ledger recorded today, per provider."""
    today = usage["today"]
    print("\n== Spend today (from the ledger)")
    print(
        f"   {today['requests']} requests, {today['input_tokens']} in / {today['output_tokens']}"
        f" out tokens, ${today['cost_usd']:.6f}"
    )
    for name, stats in sorted(usage["by_provider"].items()):
        print(
            f"   {name}: {stats['succeeded']} ok / {stats['failed']} failed,"
            f" ${stats['cost_usd']:.6f}"
        )


def main() -> int:
    """Run the demo in a fresh temporary directory, removed on every way out."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-wait", action="store_true", help="exit after the walk-through")
    parser.add_argument("--port", type=int, default=0, help="hub port (default: a free one)")
    args = parser.parse_args()
    # SIGTERM (a closed terminal, a process manager) unwinds like Ctrl-C: the finally blocks
    # stop the processes and remove the directory, which holds options, keys and a ledger.
    signal.signal(signal.SIGTERM, _terminate)
    work = Path(tempfile.mkdtemp(prefix="ai-provider-hub-demo-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def run(args: argparse.Namespace, work: Path) -> None:
    """Start the simulated providers and the hub in ``work``, walk through, maybe keep serving."""
    print("Starting simulated providers (OpenAI, Anthropic, Gemini, Ollama) on loopback...")
    fakes_process, fakes = start_fakes(work)
    processes = [fakes_process]
    try:
        hub, url = start_hub(work, demo_options(fakes), args.port or None)
        processes.append(hub)
        hub_log = work / "hub.log"
        asyncio.run(walk_through(url, fakes, hub, hub_log))
        if args.no_wait:
            print("\nWalk-through done.")
        else:
            keep_serving(url, hub)
    finally:
        for process in reversed(processes):
            stop(process)
        print("Stopped the hub and the simulated providers.")


def keep_serving(url: str, hub: subprocess.Popen[bytes]) -> None:
    """Say how to try the running hub, then wait for Ctrl-C."""
    print(f"\nThe hub is running at {url} (token: {DEMO_TOKEN}); its upstreams are simulated.")
    print(
        f"Try:  curl -H 'Authorization: Bearer {DEMO_TOKEN}'"
        f" -H 'Content-Type: application/json'"
        f' -d \'{{"prompt": "hello"}}\' {url}/api/v1/chat'
    )
    print(f"      curl -H 'Authorization: Bearer {DEMO_TOKEN}' {url}/api/v1/usage")
    print("Press Ctrl-C to stop.", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        hub.wait()


if __name__ == "__main__":
    sys.exit(main())
