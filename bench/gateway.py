"""Gateway benchmark: the hub against a bare aiohttp relay (the floor) and the upstream itself.

Not a test. Run ``.venv/bin/python bench/gateway.py`` from the repository root. On 127.0.0.1 it
starts, each in its own process:

* a minimal fast OpenAI-speaking upstream (canned ``chat.completion`` JSON, or SSE chunks for
  ``stream: true``; a delay set over ``POST /_bench/delay``),
* a bare aiohttp relay: one shared ``ClientSession`` forwarding the bytes (the floor for a
  Python gateway),
* the hub (``python -m addon``) with one ``openai_compatible`` provider, cache off, ledger on,
  ``max_concurrency`` above the benchmark's concurrency (the default 16 would cap it),
* with ``LITELLM_BIN`` set, LiteLLM's proxy over the same upstream.

A load generator (its own process, so it never shares the gateway's CPU accounting) sends a
fixed number of requests from C concurrent workers and reports req/s, p50/p95/p99 and the
gateway's CPU ms per request (utime + stime of the gateway process from ``/proc/<pid>/stat``,
every thread included). Cells: C=1 and C=32, upstream delay 0 and 50 ms, for ``direct``
(upstream alone), ``relay``, ``hub /v1`` (``/v1/chat/completions``) and ``hub native``
(``/api/v1/chat``). Targets run interleaved within each cell, so a load spike from elsewhere
hits them alike; the ratios to the relay are what count. The same targets then ask for a
stream (``stream: true``; five events from the upstream) at C=32, 0 ms. Then start-to-healthy
(median of 5) and idle RSS, for one provider and for all four vendor types (openai,
anthropic, gemini, ollama, served by the simulated vendors of ``tests/fakes``), and the first
request's latency after start.

``--quick`` runs a fraction of the requests; ``--rounds N`` repeats every cell and takes
medians; ``--json PATH`` saves the raw figures; ``--startup-only`` skips the load cells (only
the start-up figures).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token-0123456789"
MODEL = "gpt-4o-mini"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SECONDS = 5.0  # at most this long per target and cell (fewer requests on a slow target)
PROMPT = "Say hello to the benchmark"
COMPLETION = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": MODEL,
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello, benchmark!", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16},
    "system_fingerprint": "fp_bench",
}
COMPLETION_BYTES = json.dumps(COMPLETION).encode()
MODELS_BYTES = json.dumps(
    {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "b"}]}
).encode()


# ----------------------------------------------------------------------- upstream and relay
def _chunks() -> bytes:
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1, "model": MODEL}
    events = []
    for i, piece in enumerate(("Hello", ", bench", "mark!")):
        delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
        choice = {"index": 0, "delta": delta, "finish_reason": None}
        events.append({**base, "choices": [choice], "usage": None})
    last = {"index": 0, "delta": {}, "finish_reason": "stop"}
    events.append({**base, "choices": [last], "usage": None})
    usage = {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}
    events.append({**base, "choices": [], "usage": usage})
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + (
        b"data: [DONE]\n\n"
    )


def upstream_app() -> web.Application:
    """The fake OpenAI upstream: canned answers after the configured delay."""
    state = {"delay": 0.0}
    sse = _chunks()

    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if state["delay"]:
            await asyncio.sleep(state["delay"])
        if b'"stream":true' in body.replace(b" ", b""):
            return web.Response(body=sse, content_type="text/event-stream")
        return web.Response(body=COMPLETION_BYTES, content_type="application/json")

    async def models(_request: web.Request) -> web.Response:
        return web.Response(body=MODELS_BYTES, content_type="application/json")

    async def delay(request: web.Request) -> web.Response:
        state["delay"] = float((await request.json())["ms"]) / 1000
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_get("/v1/models", models)
    app.router.add_post("/_bench/delay", delay)
    return app


def relay_app(upstream: str) -> web.Application:
    """The floor: forward the request's bytes upstream and the answer's bytes back."""

    async def forward(request: web.Request) -> web.Response:
        session: aiohttp.ClientSession = request.app["session"]
        body = await request.read()
        headers = {"Content-Type": request.content_type}
        async with session.post(upstream + request.path, data=body, headers=headers) as answer:
            payload = await answer.read()
            return web.Response(
                body=payload, status=answer.status, content_type=answer.content_type
            )

    async def session_ctx(app: web.Application) -> Any:
        connector = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(connector=connector) as session:
            app["session"] = session
            yield

    app = web.Application()
    app.cleanup_ctx.append(session_ctx)
    app.router.add_post("/v1/chat/completions", forward)
    app.router.add_get("/health", lambda _r: _ok())
    return app


async def _ok() -> web.Response:
    return web.Response(text="ok")


# ----------------------------------------------------------------------- the load generator
@dataclass
class Result:
    """One target in one cell."""

    target: str
    delay_ms: int
    concurrency: int
    requests: int
    errors: int
    rps: float
    p50: float
    p95: float
    p99: float
    cpu_ms: float


def cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid`` (all its threads) in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_mib(pid: int) -> float:
    """Resident set size of ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def load(args: argparse.Namespace) -> dict[str, Any]:
    """Warm up, then send ``args.requests`` requests from ``args.concurrency`` workers."""
    body = json.loads(args.body)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    connector = aiohttp.TCPConnector(limit=args.concurrency, force_close=False)
    latencies: list[float] = []
    errors = 0

    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(record: bool) -> None:
            nonlocal errors
            started = time.perf_counter()
            async with session.post(args.url, json=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
            if record:
                latencies.append((time.perf_counter() - started) * 1000)

        async def worker(count: int, record: bool, until: float) -> None:
            for _ in range(count):
                if time.perf_counter() > until:  # the time cap keeps a slow target bounded
                    return
                await one(record)

        async def run(total: int, record: bool) -> None:
            share, extra = divmod(total, args.concurrency)
            until = time.perf_counter() + args.seconds
            await asyncio.gather(
                *(worker(share + (i < extra), record, until) for i in range(args.concurrency))
            )

        await run(args.warmup, record=False)
        ticks = cpu_ticks(args.pid)
        started = time.perf_counter()
        await run(args.requests, record=True)
        elapsed = time.perf_counter() - started
        used = cpu_ticks(args.pid) - ticks
    latencies.sort()
    done = len(latencies)
    return {
        "requests": done,
        "errors": errors,
        "rps": done / elapsed,
        "p50": _pct(latencies, 50),
        "p95": _pct(latencies, 95),
        "p99": _pct(latencies, 99),
        "cpu_ms": used * 1000 / CLK_TCK / max(1, done),
    }


def _pct(values: list[float], pct: float) -> float:
    return values[min(len(values) - 1, int(len(values) * pct / 100))] if values else 0.0


# ----------------------------------------------------------------------- processes
def free_port() -> int:
    """A free TCP port on loopback."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One server process on loopback."""

    name: str
    process: subprocess.Popen[bytes]
    url: str

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def stop(self) -> None:
        """Terminate and reap."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def spawn(name: str, argv: list[str], port: int, log: Path, cwd: Path = ROOT) -> Server:
    """Start ``argv`` in ``cwd`` with its output in ``log``."""
    with log.open("ab") as out:
        process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    return Server(name, process, f"http://127.0.0.1:{port}")


def wait_healthy(server: Server, path: str = "/health", deadline: float = 120.0) -> float:
    """Seconds from now until ``path`` answers 200 (polling every 10 ms)."""
    import urllib.error
    import urllib.request

    started = time.perf_counter()
    while time.perf_counter() - started < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited during start-up")
        with (
            suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(server.url + path, timeout=2) as answer,
        ):
            if answer.status == 200:
                return time.perf_counter() - started
        time.sleep(0.01)
    raise RuntimeError(f"{server.name} did not become healthy")


def python_server(role: str, port: int, log: Path, *extra: str) -> Server:
    """This script in ``role`` (upstream or relay) on ``port``."""
    argv = [sys.executable, str(Path(__file__).resolve()), role, "--port", str(port), *extra]
    server = spawn(role, argv, port, log)
    wait_healthy(server, "/v1/models" if role == "upstream" else "/health")
    return server


def hub_options(providers: list[dict[str, Any]]) -> dict[str, Any]:
    """The hub's options: cache off, concurrency cap above the benchmark's."""
    return {
        "providers": providers,
        "api_token": TOKEN,
        "cache_ttl": 0,
        "max_concurrency": 128,
        "strategy": "priority",
    }


def start_hub(
    options: dict[str, Any], workdir: Path, label: str, root: Path = ROOT
) -> tuple[Server, float]:
    """``python -m addon`` from ``root`` with ``options``; the server, its seconds to healthy."""
    data = workdir / f"data-{label}-{time.monotonic_ns()}"
    data.mkdir()
    options_file = data / "options.json"
    options_file.write_text(json.dumps(options))
    port = free_port()
    argv = [sys.executable, "-m", "addon", "--options", str(options_file)]
    argv += ["--data-dir", str(data), "--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    hub = spawn(f"hub-{label}", argv, port, workdir / f"hub-{label}.log", cwd=root)
    wait_healthy(hub)
    return hub, time.perf_counter() - started


def start_litellm(binary: str, upstream: str, workdir: Path) -> Server:
    """LiteLLM's proxy with one model over the same upstream."""
    config = workdir / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{MODEL}\n"
        f"      api_base: {upstream}/v1\n"
        "      api_key: bench\n"
        "general_settings:\n"
        f"  master_key: {TOKEN}\n"
    )
    port = free_port()
    argv = [binary, "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    server = spawn("litellm", argv, port, workdir / "litellm.log")
    wait_healthy(server, "/health/liveliness", deadline=180)
    return server


@contextmanager
def servers_stopped(servers: list[Server]) -> Iterator[None]:
    """Stop every server on the way out."""
    try:
        yield
    finally:
        for server in servers:
            server.stop()


# ----------------------------------------------------------------------- measuring
V1_BODY = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 64}
NATIVE_BODY = {"prompt": PROMPT, "max_tokens": 64}


def run_load(
    url: str, pid: int, body: dict[str, Any], c: int, n: int, warmup: int
) -> dict[str, Any]:
    """One load-generator process against ``url``; its figures."""
    argv = [sys.executable, str(Path(__file__).resolve()), "load", "--url", url]
    argv += ["--pid", str(pid), "--body", json.dumps(body), "--concurrency", str(c)]
    argv += ["--requests", str(n), "--warmup", str(warmup), "--seconds", str(SECONDS)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, check=True)
    return dict(json.loads(done.stdout))


def set_delay(upstream: str, ms: int) -> None:
    """Tell the upstream how long to wait before answering."""
    import urllib.request

    request = urllib.request.Request(
        upstream + "/_bench/delay", data=json.dumps({"ms": ms}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=5):
        pass


def counts(delay: int, c: int, quick: bool) -> tuple[int, int]:
    """(requests, warm-up requests) of one cell."""
    table = {(0, 1): (400, 40), (0, 32): (3000, 300), (50, 1): (60, 5), (50, 32): (1500, 150)}
    n, warmup = table[(delay, c)]
    return (max(10, n // 5), max(5, warmup // 5)) if quick else (n, warmup)


CELLS: Final = ((0, 1), (0, 32), (50, 1), (50, 32))  # (upstream delay ms, concurrency)


def measure(
    targets: list[tuple[str, Server, str, dict[str, Any]]],
    upstream: Server,
    rounds: int,
    quick: bool,
    cells: tuple[tuple[int, int], ...] = CELLS,
) -> list[Result]:
    """Every cell, targets interleaved (rotated each round), medians over rounds."""
    results = []
    for delay, c in cells:
        set_delay(upstream.url, delay)
        n, warmup = counts(delay, c, quick)
        runs: dict[str, list[dict[str, Any]]] = {t[0]: [] for t in targets}
        for r in range(rounds):
            order = targets[r % len(targets) :] + targets[: r % len(targets)]
            for name, server, path, body in order:
                runs[name].append(run_load(server.url + path, server.pid, body, c, n, warmup))
        for name, _, _, _ in targets:
            figures = {
                key: statistics.median(run[key] for run in runs[name])
                for key in ("rps", "p50", "p95", "p99", "cpu_ms")
            }
            errors = sum(int(run["errors"]) for run in runs[name])
            results.append(Result(name, delay, c, n, errors, **figures))
            print(f"  {name:11s} delay={delay:2d}ms C={c:2d}: {figures['rps']:8.0f} req/s,"
                  f" p50 {figures['p50']:6.2f} ms, CPU {figures['cpu_ms']:.3f} ms/req"
                  f"{f', {errors} errors' if errors else ''}", flush=True)  # fmt: skip
    return results


def streamed(
    targets: list[tuple[str, Server, str, dict[str, Any]]],
) -> list[tuple[str, Server, str, dict[str, Any]]]:
    """The same targets asking for a stream (the upstream sends five events)."""
    return [(name, server, path, {**body, "stream": True}) for name, server, path, body in targets]


def all_types(fakes: dict[str, str]) -> list[dict[str, Any]]:
    """One provider per vendor type, over the simulated vendors."""
    return [
        {"name": "openai", "type": "openai", "api_key": "sk-bench-openai-123456",
         "base_url": f"{fakes['openai']}/v1", "model": "gpt-4.1-mini", "priority": 10},
        {"name": "anthropic", "type": "anthropic", "api_key": "sk-ant-bench-123456",
         "base_url": fakes["anthropic"], "model": "claude-haiku-4-5", "priority": 20},
        {"name": "gemini", "type": "gemini", "api_key": "gemini-bench-123456",
         "base_url": fakes["gemini"], "model": "gemini-2.5-flash", "priority": 30},
        {"name": "ollama", "type": "ollama", "base_url": fakes["ollama"],
         "model": "gemma3:4b", "priority": 40},
    ]  # fmt: skip


def settle(hub: Server, providers: int) -> float:
    """Wait until the first health round has judged every provider and the RSS has held still
    for a second (the first choice's library is imported in the background); that RSS."""
    import urllib.request

    for _ in range(600):
        with urllib.request.urlopen(hub.url + "/health", timeout=5) as answer:
            rows = json.loads(answer.read())["providers"]
        if len(rows) == providers and all(row.get("state") != "unknown" for row in rows):
            break
        time.sleep(0.05)
    readings = [rss_mib(hub.pid)]
    while len(readings) < 60 and (len(readings) < 5 or max(readings[-5:]) - min(readings[-5:]) > 1):
        time.sleep(0.25)
        readings.append(rss_mib(hub.pid))
    return readings[-1]


def first_request_ms(hub: Server, provider: str) -> float:
    """Latency of the first chat after start, pinned to ``provider`` (a deferred SDK import
    shows here)."""
    import urllib.request

    request = urllib.request.Request(
        hub.url + "/api/v1/chat",
        data=json.dumps({**NATIVE_BODY, "provider": provider}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as answer:
        answer.read()
    return (time.perf_counter() - started) * 1000


@dataclass
class Startup:
    """Start-up figures of one hub configuration (medians over the starts)."""

    label: str
    healthy_s: float
    healthy_cpu_s: float  # the hub's CPU seconds (all threads) when it first answered
    rss_mib: float
    first_request_ms: float  # to the first choice (its library warmed up in the background)
    other_request_ms: float  # then to the last provider (its library loads on this call)
    rss_after_mib: float


def compile_bytecode(root: Path) -> None:
    """Compile ``root``'s add-on to bytecode, as the image's ``pip install`` does.

    Without it (``PYTHONDONTWRITEBYTECODE`` set, or a fresh checkout) every start would compile
    the add-on's sources first, which the add-on never does.
    """
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(root / "addon")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def startups(
    configs: list[tuple[str, dict[str, Any], Path]], workdir: Path, times: int
) -> list[Startup]:
    """For each (label, options, root): start-to-healthy and the hub's CPU by then, idle RSS
    once every provider is judged, the first request to the first choice and to the last
    provider, and the RSS after them; medians of ``times`` starts, the configurations
    interleaved so a load spike hits them alike."""
    for root in {root for _, _, root in configs}:
        compile_bytecode(root)
    samples: dict[str, list[list[float]]] = {
        label: [[] for _ in range(6)] for label, _, _ in configs
    }
    for i in range(times):
        for label, options, root in configs:
            providers = options["providers"]
            hub, seconds = start_hub(options, workdir, f"start{i}", root)
            try:
                cpu = cpu_ticks(hub.pid) / os.sysconf("SC_CLK_TCK")  # less noisy than the wall
                rss = settle(hub, len(providers))
                first = first_request_ms(hub, providers[0]["name"])
                other = first_request_ms(hub, providers[-1]["name"])
                figures = (seconds, cpu, rss, first, other, rss_mib(hub.pid))
            finally:
                hub.stop()
            for column, value in zip(samples[label], figures, strict=True):
                column.append(value)
    return [
        Startup(label, *(statistics.median(column) for column in samples[label]))
        for label, _, _ in configs
    ]


def profile(hub: Server, url: str, out: Path) -> list[str]:
    """py-spy's view of the hub under C=32 load: the top frames, inclusive and self."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    argv = [spy, "record", "-p", str(hub.pid), "-r", "250", "-f", "raw", "-o", str(out)]
    recorder = subprocess.Popen(
        [*argv, "-d", str(int(SECONDS) + 1), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    run_load(url, hub.pid, V1_BODY, 32, 100_000, 0)
    recorder.wait()
    return top_frames(out)


def top_frames(path: Path, count: int = 25) -> list[str]:
    """The ``count`` frames with the most samples inside them, and those on top of the stack."""
    inside: Counter[str] = Counter()
    on_top: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        total += int(samples)
        for frame in set(frames):
            inside[frame] += int(samples)
        on_top[frames[-1]] += int(samples)
    lines = [f"{total} samples; inclusive:"]
    lines += [f"  {100 * n / total:5.1f}% {f}" for f, n in inside.most_common(count)]
    lines.append("self:")
    lines += [f"  {100 * n / total:5.1f}% {f}" for f, n in on_top.most_common(count // 2)]
    return lines


# ----------------------------------------------------------------------- report
def table(results: list[Result], floor: str = "relay") -> str:
    """Markdown table with ratios to the floor (and to LiteLLM when measured)."""
    by_cell = {(r.target, r.delay_ms, r.concurrency): r for r in results}
    direct_p50 = {(r.delay_ms, r.concurrency): r.p50 for r in results if r.target == "direct"}
    lines = [
        "| path | delay | C | req/s | p50 ms | p95 ms | p99 ms | CPU ms/req | added p50 |"
        " req/s vs relay | CPU vs relay |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        base = by_cell[(floor, r.delay_ms, r.concurrency)]
        added = r.p50 - direct_p50[(r.delay_ms, r.concurrency)]
        lines.append(
            f"| {r.target} | {r.delay_ms} ms | {r.concurrency} | {r.rps:,.0f} | {r.p50:.2f} |"
            f" {r.p95:.2f} | {r.p99:.2f} | {r.cpu_ms:.3f} | {added:+.2f} ms |"
            f" {r.rps / base.rps:.2f} | {r.cpu_ms / base.cpu_ms if base.cpu_ms else 0:.1f}x |"
        )
    return "\n".join(lines)


def goals(results: list[Result]) -> list[str]:
    """The issue's goals, each with its figure."""
    cell = {(r.target, r.delay_ms, r.concurrency): r for r in results}
    out = []
    for hub in ("hub /v1", "hub native"):
        cpu = cell[(hub, 0, 32)].cpu_ms
        relay_cpu = cell[("relay", 0, 32)].cpu_ms
        share = cell[(hub, 50, 32)].rps / cell[("relay", 50, 32)].rps
        added = cell[(hub, 0, 1)].p50 - cell[("direct", 0, 1)].p50
        out.append(
            f"{hub}: CPU {cpu:.2f} ms/req at 0 ms C=32 (goal <= 1 ms; {cpu / relay_cpu:.1f}x the"
            f" relay, goal <= 6x); throughput at 50 ms C=32 {share:.0%} of the relay's (goal >="
            f" 80%); added p50 at C=1 {added:+.2f} ms (goal <= 1.5 ms)"
        )
        if ("litellm", 0, 32) in cell:
            ratio = cell[("litellm", 0, 32)].cpu_ms / cpu
            out.append(f"{hub}: LiteLLM spends {ratio:.1f}x its CPU per request (goal >= 10x)")
    return out


def noise() -> str:
    """The machine's load while the benchmark ran (other processes share these cores)."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


# ----------------------------------------------------------------------- main
def bench(args: argparse.Namespace) -> None:
    """Start everything, measure, print the tables."""
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        workdir = Path(tmp)
        print(f"Before: {noise()}", flush=True)
        upstream = python_server("upstream", free_port(), workdir / "upstream.log")
        servers = [upstream]
        with servers_stopped(servers):
            relay = python_server(
                "relay", free_port(), workdir / "relay.log", "--upstream", upstream.url
            )
            servers.append(relay)
            provider = {"name": "upstream", "type": "openai_compatible", "api_key": "bench",
                        "base_url": f"{upstream.url}/v1", "model": MODEL}  # fmt: skip
            hub, _ = start_hub(hub_options([provider]), workdir, "bench")
            servers.append(hub)
            targets = [
                ("direct", upstream, "/v1/chat/completions", V1_BODY),
                ("relay", relay, "/v1/chat/completions", V1_BODY),
                ("hub /v1", hub, "/v1/chat/completions", V1_BODY),
                ("hub native", hub, "/api/v1/chat", NATIVE_BODY),
            ]
            if args.base:
                base, _ = start_hub(hub_options([provider]), workdir, "base", Path(args.base))
                servers.append(base)
                targets.append(("base /v1", base, "/v1/chat/completions", V1_BODY))
                targets.append(("base native", base, "/api/v1/chat", NATIVE_BODY))
            litellm = os.environ.get("LITELLM_BIN")
            if litellm:
                server = start_litellm(litellm, upstream.url, workdir)
                servers.append(server)
                targets.append(("litellm", server, "/v1/chat/completions", V1_BODY))
            results: list[Result] = []
            streams: list[Result] = []
            if not args.startup_only:
                print("Throughput and latency (targets interleaved):", flush=True)
                results = measure(targets, upstream, args.rounds, args.quick)
                print("Streams (the upstream sends five events):", flush=True)
                streams = measure(
                    streamed(targets), upstream, args.rounds, args.quick, cells=((0, 32),)
                )
            frames = []
            if args.profile and not args.startup_only:
                set_delay(upstream.url, 0)
                frames = profile(hub, hub.url + "/v1/chat/completions", Path(args.profile))
            for server in servers[2:]:
                server.stop()
            starts = 2 if args.quick else args.starts
            fakes = start_fakes(workdir, servers)
            roots = [("hub", ROOT)] + ([("base", Path(args.base))] if args.base else [])
            one, four = hub_options([provider]), hub_options(all_types(fakes))
            configs = [
                (f"{name}, {label}", options, root)
                for name, root in roots
                for label, options in (("1 provider", one), ("4 vendor types", four))
            ]
            startup_figures = startups(configs, workdir, starts)
        report(args, results, streams, startup_figures, frames)


def report(
    args: argparse.Namespace,
    results: list[Result],
    streams: list[Result],
    startups: list[Startup],
    frames: list[str],
) -> None:
    """Print the tables, the goals and the profile; save the figures when asked."""
    print(f"After: {noise()}\n")
    if results:
        print(table(results))
        print("\nStreams (stream: true, five events from the upstream):\n")
        print(table(streams))
        print()
    print("| hub | start to healthy (median) | its CPU | idle RSS | first request: first choice |"
          " last provider | RSS after them |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in startups:
        print(f"| {row.label} | {row.healthy_s:.2f} s | {row.healthy_cpu_s:.2f} s |"
              f" {row.rss_mib:.0f} MiB |"
              f" {row.first_request_ms:.1f} ms | {row.other_request_ms:.1f} ms |"
              f" {row.rss_after_mib:.0f} MiB |")  # fmt: skip
    print()
    for line in goals(results) if results else []:
        print("- " + line)
    if frames:
        print("\nProfile of the hub, /v1 at C=32, 0 ms upstream:")
        print("\n".join(frames))
    if args.json:
        dump = {
            "cells": [asdict(r) for r in results],
            "streams": [asdict(r) for r in streams],
            "startups": [asdict(s) for s in startups],
        }
        Path(args.json).write_text(json.dumps(dump, indent=2))


def start_fakes(workdir: Path, servers: list[Server]) -> dict[str, str]:
    """The simulated vendors of ``tests/fakes`` (one process); their base URLs."""
    ready = workdir / "fakes.json"
    argv = [sys.executable, "-m", "tests.fakes.serve", "openai", "anthropic", "gemini", "ollama"]
    server = spawn("fakes", [*argv, "--ready-file", str(ready)], 0, workdir / "fakes.log")
    servers.append(server)
    for _ in range(3000):
        if ready.exists():
            return dict(json.loads(ready.read_text()))
        time.sleep(0.02)
    raise RuntimeError("the simulated vendors did not start")


def main() -> None:
    """Dispatch: the benchmark, or one of its helper processes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="role")
    parser.add_argument("--quick", action="store_true", help="a fifth of the requests")
    parser.add_argument("--rounds", type=int, default=1, help="repeat each cell; take medians")
    parser.add_argument("--json", help="save the raw figures here")
    parser.add_argument("--profile", help="py-spy the hub under load; raw stacks to this file")
    parser.add_argument("--starts", type=int, default=5, help="start-ups to take medians of")
    parser.add_argument(
        "--startup-only", action="store_true", help="only the start-up figures (no load cells)"
    )
    parser.add_argument(
        "--base", help="another checkout's hub to measure beside this one (e.g. main before)"
    )
    up = sub.add_parser("upstream")
    up.add_argument("--port", type=int, required=True)
    relay = sub.add_parser("relay")
    relay.add_argument("--port", type=int, required=True)
    relay.add_argument("--upstream", required=True)
    gen = sub.add_parser("load")
    for name in ("--url", "--body"):
        gen.add_argument(name, required=True)
    for name in ("--pid", "--concurrency", "--requests", "--warmup"):
        gen.add_argument(name, type=int, required=True)
    gen.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    if args.role == "upstream":
        web.run_app(upstream_app(), host="127.0.0.1", port=args.port, print=None, access_log=None)
    elif args.role == "relay":
        app = relay_app(args.upstream)
        web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)
    elif args.role == "load":
        print(json.dumps(asyncio.run(load(args))))
    else:
        bench(args)


if __name__ == "__main__":
    main()
