"""Image pipeline benchmark: the hub's ``prepare_images`` against the LLM Vision reference.

Not a test. Run ``.venv/bin/python bench/images.py`` from the repository root; it generates
photo-like inputs (a 4K and a 12 MP JPEG, a large PNG), times both pipelines side by side in
one run (interleaved, median of N), and prints medians, the ratio, output bytes, output sizes,
whether each output fits every provider's documented limits, and how close each output is to
an ideal one (PSNR against the full-resolution decode resized with Lanczos, no compression),
so a speed-up bought with visible quality loss shows.

It also times the floor: the least any pipeline must do for the same output size (JPEG: the
DCT-scaled draft decode at the needed scale and a JPEG encode of it, no resize; other formats:
the full decode and the encode), and prints the hub's time over the floor's (goal: <= 1.25x).

Pillow's block cache (``addon.images.memory``) is process-wide, so the reference gets it too.

``--write-sample`` (re)generates ``addon/samples/front_door.jpg``, the demo's vision image.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import math
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from addon.images import (  # noqa: E402
    ImageLimits,
    ImageOptions,
    default_max_side,
    estimate_image_tokens,
    prepare_images,
)
from addon.images.memory import reuse_image_memory  # noqa: E402

SAMPLE = ROOT / "addon" / "samples" / "front_door.jpg"
REFERENCE_WIDTH = 1280
PROVIDERS = ("openai", "anthropic", "gemini", "ollama")

# Documented per-image limits: (max encoded bytes, max side in pixels or None).
# OpenAI: 20 MB per image (50 MB per request). Anthropic: 5 MB per image, 8000x8000 px.
# Gemini: inline data of the whole request <= 20 MB (base64 counted). Ollama: no fixed limit,
# but the model's context must hold the image (checked via the token estimate <= 4096).
LIMITS: dict[str, tuple[int, int | None]] = {
    "openai": (20 * 1024 * 1024, None),
    "anthropic": (5 * 1024 * 1024, 8000),
    "gemini": (20 * 1000 * 1000, None),
    "ollama": (100 * 1024 * 1024, None),
}
OLLAMA_CONTEXT_BUDGET = 4096


# ---------------------------------------------------------------- inputs


def photo_like(width: int, height: int, seed: int = 1) -> Image.Image:
    """Gradients, blurred shapes and sensor-like noise: compresses like a camera frame."""
    rnd = random.Random(seed)
    gradient = Image.linear_gradient("L").resize((width, height))
    radial = Image.radial_gradient("L").resize((width, height))
    base = Image.merge(
        "RGB", (gradient, radial, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    )
    draw = ImageDraw.Draw(base)
    for _ in range(60):
        x, y = rnd.randrange(width), rnd.randrange(height)
        side = rnd.randrange(20, max(21, width // 6))
        colour = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        draw.rectangle((x, y, x + side, y + side // 2), fill=colour)
    base = base.filter(ImageFilter.GaussianBlur(3))
    noise = Image.effect_noise((width // 2, height // 2), 20).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    grain = Image.merge("RGB", (noise, noise, noise))
    return Image.composite(base, grain, Image.new("L", (width, height), 200))


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def inputs() -> dict[str, bytes]:
    print("generating inputs ...", flush=True)
    return {
        "4K JPEG 3840x2160": encode(photo_like(3840, 2160), "JPEG", quality=90),
        "12MP JPEG 4000x3000": encode(photo_like(4000, 3000, seed=2), "JPEG", quality=90),
        "PNG 2560x1600": encode(photo_like(2560, 1600, seed=3), "PNG"),
    }


# ---------------------------------------------------------------- the two pipelines


def reference(data: bytes) -> tuple[bytes, tuple[int, int]]:
    """LLM Vision's resize_image: open, RGB, resize to 1280 wide, JPEG at Pillow's quality 75."""
    with Image.open(io.BytesIO(data)) as img:
        im: Image.Image = img
        if im.mode == "RGBA" or im.format == "GIF":
            im = im.convert("RGB")
        width, height = im.size
        target_height = int(REFERENCE_WIDTH / (width / height))
        if width > REFERENCE_WIDTH or height > target_height:
            im = im.resize((REFERENCE_WIDTH, target_height))
        out = io.BytesIO()
        im.save(out, format="JPEG")
        base64.b64encode(out.getvalue())
        return out.getvalue(), im.size


def floor(data: bytes, max_side: int) -> tuple[bytes, tuple[int, int]]:
    """The least work for this output: decode (JPEG: DCT-scaled near the target), encode."""
    with Image.open(io.BytesIO(data)) as img:
        scale = max_side / max(img.size)
        if scale < 1:
            img.draft("RGB", (round(img.width * scale), round(img.height * scale)))
        img.load()
        im = img if img.mode == "RGB" else img.convert("RGB")
        out = io.BytesIO()
        im.save(out, format="JPEG", quality=85)
        return out.getvalue(), im.size


@dataclass
class Result:
    label: str
    times: list[float]
    cpu_times: list[float] = field(default_factory=list)
    data: bytes = b""
    size: tuple[int, int] = (0, 0)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000

    @property
    def median_cpu_ms(self) -> float:
        return statistics.median(self.cpu_times) * 1000


def hub_runner(provider: str, max_side: int | None) -> Callable[[bytes], Awaitable[Result]]:
    options = ImageOptions(max_side=max_side)
    limits = ImageLimits()

    async def run(data: bytes) -> Result:
        start, cpu = time.perf_counter(), time.process_time()
        (prepared,) = await prepare_images(
            [data], provider_type=provider, options=options, limits=limits
        )
        base64.b64encode(prepared.data)
        return _result(start, cpu, prepared.data, (prepared.width, prepared.height))

    return run


async def reference_runner(data: bytes) -> Result:
    start, cpu = time.perf_counter(), time.process_time()
    out, size = await asyncio.to_thread(reference, data)
    return _result(start, cpu, out, size)


def floor_runner(max_side: int) -> Callable[[bytes], Awaitable[Result]]:
    async def run(data: bytes) -> Result:
        start, cpu = time.perf_counter(), time.process_time()
        out, size = await asyncio.to_thread(floor, data, max_side)
        return _result(start, cpu, out, size)

    return run


def _result(start: float, cpu: float, data: bytes, size: tuple[int, int]) -> Result:
    wall, cpu_used = time.perf_counter() - start, time.process_time() - cpu
    return Result("", [wall], [cpu_used], data, size)


# ---------------------------------------------------------------- reporting


def fits(provider: str, result: Result) -> bool:
    max_bytes, max_side = LIMITS[provider]
    size = len(result.data) * 4 // 3 if provider == "gemini" else len(result.data)
    if size > max_bytes or (max_side is not None and max(result.size) > max_side):
        return False
    if provider == "ollama":
        return estimate_image_tokens(provider, *result.size) <= OLLAMA_CONTEXT_BUDGET
    return True


class Ideal:
    """The full-resolution decode, resized with Lanczos to any size asked (cached)."""

    def __init__(self, data: bytes) -> None:
        with Image.open(io.BytesIO(data)) as im:
            self.full = im.convert("RGB")
        self.sizes: dict[tuple[int, int], Image.Image] = {}

    def psnr(self, result: Result) -> float:
        """PSNR in dB of ``result``'s output against the ideal image of its size."""
        ideal = self.sizes.get(result.size)
        if ideal is None:
            ideal = self.sizes[result.size] = self.full.resize(
                result.size, Image.Resampling.LANCZOS
            )
        with Image.open(io.BytesIO(result.data)) as out:
            rms = ImageStat.Stat(ImageChops.difference(out.convert("RGB"), ideal)).rms
        mean_square = sum(value**2 for value in rms) / len(rms)
        return math.inf if mean_square == 0 else 10 * math.log10(255**2 / mean_square)


async def bench_one(name: str, data: bytes, repeats: int) -> tuple[Result, Result, Result]:
    """Time every method on ``data``, print the table.

    Returns the reference, the hub at the reference's size, and the floor at that size.
    """
    runners: dict[str, Callable[[bytes], Awaitable[Result]]] = {
        f"reference ({REFERENCE_WIDTH} wide, q75)": reference_runner,
        f"hub, max_side={REFERENCE_WIDTH} (same size)": hub_runner("openai", REFERENCE_WIDTH),
        f"floor: decode at scale + encode ({REFERENCE_WIDTH})": floor_runner(REFERENCE_WIDTH),
    }
    for provider in PROVIDERS:
        runners[f"hub for {provider} (max_side={default_max_side(provider)})"] = hub_runner(
            provider, None
        )
    results = {label: Result(label, []) for label in runners}
    for _ in range(repeats):  # interleaved, so drift and noise hit every method alike
        for label, runner in runners.items():
            outcome = await runner(data)
            result = results[label]
            result.times += outcome.times
            result.cpu_times += outcome.cpu_times
            result.data, result.size = outcome.data, outcome.size
    ordered = list(results.values())
    _print_table(name, data, ordered)
    return ordered[0], ordered[1], ordered[2]


def _print_table(name: str, data: bytes, results: list[Result]) -> None:
    ref = results[0]
    ideal = Ideal(data)
    print(f"\n== {name}: {len(data):,} bytes in")
    print(
        f"{'method':44} {'wall ms':>8} {'speed-up':>8} {'cpu ms':>7} {'speed-up':>8}"
        f" {'out bytes':>9} {'out size':>10} {'PSNR dB':>7}  fits openai/anthropic/gemini/ollama"
    )
    for result in results:
        wall_ratio = ref.median_ms / result.median_ms
        cpu_ratio = ref.median_cpu_ms / result.median_cpu_ms
        fit = "/".join("yes" if fits(p, result) else "NO" for p in PROVIDERS)
        dims = f"{result.size[0]}x{result.size[1]}"
        print(
            f"{result.label:44} {result.median_ms:8.1f} {wall_ratio:7.2f}x"
            f" {result.median_cpu_ms:7.1f} {cpu_ratio:7.2f}x {len(result.data):9,} {dims:>10}"
            f" {ideal.psnr(result):7.2f}  {fit}"
        )


async def run_bench(repeats: int) -> None:
    reuse_image_memory()  # what prepare_images does on its first call, before any timing
    same_size = {name: await bench_one(name, data, repeats) for name, data in inputs().items()}
    print("\nhub at the reference's size (1280 wide), speed-up over the reference:")
    for name, (ref, hub, _) in same_size.items():
        print(
            f"  {name:22} wall {ref.median_ms / hub.median_ms:5.2f}x"
            f"  cpu {ref.median_cpu_ms / hub.median_cpu_ms:5.2f}x"
        )
    print("\nhub over the floor at the same size (goal <= 1.25x):")
    for name, (_, hub, least) in same_size.items():
        print(
            f"  {name:22} wall {hub.median_ms / least.median_ms:5.2f}x"
            f"  cpu {hub.median_cpu_ms / least.median_cpu_ms:5.2f}x"
        )
    print(
        "\nmedians of interleaved runs; speed-up = reference median / method median;"
        "\ncpu ms = process CPU time (steadier than wall time on a busy machine);"
        "\nPSNR = against the full decode resized with Lanczos (higher is closer; the"
        " reference is LLM Vision's output)"
    )


# ---------------------------------------------------------------- the demo sample


def front_door(width: int = 640, height: int = 480) -> Image.Image:
    """A porch at dusk: siding, a red door with a parcel on the mat, a lamp, a plant."""
    im = Image.new("RGB", (width, height), (178, 186, 190))
    draw = ImageDraw.Draw(im)
    for y in range(0, 360, 14):  # lap siding, each board shaded at its lower edge
        draw.rectangle((0, y, width, y + 13), fill=(184 - y // 12, 192 - y // 12, 196 - y // 14))
        draw.line((0, y + 13, width, y + 13), fill=(120, 128, 134), width=2)
    draw.polygon([(0, 360), (width, 360), (width, height), (0, height)], fill=(122, 92, 64))
    for x in range(-400, width + 400, 46):  # porch planks converging to the door
        draw.line((x, height, width // 2 + (x - width // 2) // 3, 360), fill=(96, 70, 48))
    draw.rectangle((238, 58, 402, 362), fill=(244, 244, 240))  # trim
    draw.rectangle((252, 72, 388, 360), fill=(128, 28, 30))  # door
    for top in (90, 220):
        for left in (266, 326):
            draw.rectangle((left, top, left + 48, top + 112), outline=(92, 18, 20), width=5)
    draw.ellipse((366, 208, 380, 222), fill=(212, 172, 60), outline=(120, 90, 30))
    draw.rectangle((62, 110, 182, 250), fill=(244, 244, 240))  # window and its panes
    draw.rectangle((72, 120, 172, 240), fill=(62, 84, 104))
    draw.line((122, 120, 122, 240), fill=(244, 244, 240), width=6)
    draw.line((72, 180, 172, 180), fill=(244, 244, 240), width=6)
    draw.rectangle((430, 120, 452, 160), fill=(40, 40, 40))  # lamp
    draw.ellipse((424, 150, 458, 184), fill=(255, 226, 150))
    draw.rectangle((250, 372, 392, 410), fill=(70, 62, 54))  # mat
    draw.text((288, 384), "WELCOME", fill=(170, 160, 140))
    draw.rectangle((282, 318, 356, 378), fill=(176, 134, 86), outline=(120, 88, 52))  # parcel
    draw.rectangle((314, 318, 324, 378), fill=(206, 186, 140))
    draw.polygon([(498, 300), (566, 300), (556, 370), (508, 370)], fill=(150, 80, 50))  # pot
    for dx, dy in ((0, 0), (-24, 14), (24, 12), (-10, -26), (14, -22)):
        draw.ellipse((512 + dx, 236 + dy, 552 + dx, 300 + dy), fill=(52, 118 + dx, 58))
    im = im.filter(ImageFilter.GaussianBlur(1.2))
    noise = Image.effect_noise((width, height), 10)
    return Image.composite(
        im, Image.merge("RGB", (noise, noise, noise)), Image.new("L", im.size, 236)
    )


def write_sample() -> None:
    data = encode(front_door(), "JPEG", quality=82)
    SAMPLE.parent.mkdir(parents=True, exist_ok=True)
    SAMPLE.write_bytes(data)
    print(f"wrote {SAMPLE.relative_to(ROOT)} ({len(data):,} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=11, help="runs per method (median)")
    parser.add_argument("--write-sample", action="store_true", help="regenerate the demo image")
    args = parser.parse_args()
    if args.write_sample:
        write_sample()
        return
    asyncio.run(run_bench(args.repeats))


if __name__ == "__main__":
    main()
