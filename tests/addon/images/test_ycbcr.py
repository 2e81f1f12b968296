"""The JPEG fast path (YCbCr end to end, chroma at 4:2:0 size) and Pillow's block cache."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageCms, ImageStat
from PIL import _imaging as pillow_core

from addon.images import ImageLimits, ImageOptions, PreparedImage, memory, prepare_images, ycbcr
from tests.addon.images import corpus

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
YELLOW = (255, 255, 0)


async def prepare(data: bytes, **options: Any) -> PreparedImage:
    (image,) = await prepare_images(
        [data], provider_type="openai", options=ImageOptions(**options), limits=ImageLimits()
    )
    return image


def rgb(image: PreparedImage) -> Image.Image:
    im = Image.open(io.BytesIO(image.data))
    assert im.mode == "RGB"
    return im


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio of ``a`` against ``b`` in dB (higher: closer)."""
    rms = ImageStat.Stat(ImageChops.difference(a, b)).rms
    mean_square = sum(value**2 for value in rms) / len(rms)
    return math.inf if mean_square == 0 else 10 * math.log10(255**2 / mean_square)


def quadrants(width: int, height: int) -> Image.Image:
    """Red, green, blue and yellow quarters: chroma misplaced by a pixel would show."""
    im = Image.new("RGB", (width, height), corpus.RED)
    im.paste(corpus.GREEN, (width // 2, 0, width, height // 2))
    im.paste(corpus.BLUE, (0, height // 2, width // 2, height))
    im.paste(YELLOW, (width // 2, height // 2, width, height))
    return im


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data), formats=["JPEG", "PNG"])


def mpo() -> bytes:
    """A multi-picture JPEG (stereo cameras): red, then blue."""
    frames = [Image.new("RGB", (64, 48), colour) for colour in (corpus.RED, corpus.BLUE)]
    return corpus.encode(frames[0], "MPO", save_all=True, append_images=frames[1:])


# ---------------------------------------------------------------- which images take the path


@pytest.mark.parametrize(
    ("build", "options", "expected"),
    [
        (lambda: corpus.jpeg(64, 48), ImageOptions(), True),
        (lambda: corpus.jpeg(64, 48, icc_profile=SRGB), ImageOptions(), True),
        (lambda: corpus.jpeg(64, 48), ImageOptions(lossless=True), False),
        (lambda: corpus.jpeg(64, 48, keep_rgb=True), ImageOptions(), False),
        (lambda: corpus.encode(Image.new("L", (64, 48), 90), "JPEG"), ImageOptions(), False),
        (corpus.cmyk_jpeg, ImageOptions(), False),
        (lambda: corpus.png(64, 48), ImageOptions(), False),
        (mpo, ImageOptions(), True),
        (mpo, ImageOptions(frames=2), False),
    ],
    ids=[
        "jfif",
        "srgb-tagged",
        "lossless",
        "rgb-coded",
        "grey",
        "cmyk",
        "png",
        "mpo-first",
        "mpo-frames",
    ],
)
def test_eligible(build: Callable[[], bytes], options: ImageOptions, expected: bool) -> None:
    with opened(build()) as im:
        assert ycbcr.eligible(im, options, im.info.get("icc_profile")) is expected


def test_a_colour_managed_jpeg_keeps_the_rgb_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A profile other than sRGB needs an RGB transform, so the pixels must be RGB."""
    monkeypatch.setattr(ycbcr, "is_srgb_or_unusable", lambda _profile: False)
    with opened(corpus.jpeg(64, 48, icc_profile=SRGB)) as im:
        assert not ycbcr.eligible(im, ImageOptions(), im.info["icc_profile"])


def test_rgb_coded_component_ids_without_markers_are_not_ycbcr() -> None:
    """No JFIF nor Adobe segment: libjpeg goes by the component ids, and so do we."""
    with opened(corpus.jpeg(64, 48)) as im:
        assert isinstance(im, Image.Image)
        im.info.pop("jfif")
        im.layer = [(ord(c), 1, 1, 0) for c in "RGB"]  # type: ignore[attr-defined]
        assert not ycbcr.eligible(im, ImageOptions(), None)
        im.layer = [(i, 1, 1, 0) for i in (1, 2, 3)]  # type: ignore[attr-defined]
        assert ycbcr.eligible(im, ImageOptions(), None)


# ---------------------------------------------------------------- what comes out


@pytest.mark.parametrize(
    ("max_side", "size"),
    [
        (300, (300, 200)),
        (301, (301, 201)),  # odd both ways: the last column and row have chroma of their own
        (3000, (3000, 2000)),  # no resize: straight from YCbCr to YCbCr
    ],
)
async def test_colours_stay_in_place(max_side: int, size: tuple[int, int]) -> None:
    data = corpus.encode(quadrants(3000, 2000), "JPEG", quality=95)
    image = await prepare(data, max_side=max_side)
    im = rgb(image)
    assert im.size == size
    w, h = size
    probes = {
        (0, 0): corpus.RED,
        (w // 4, h // 4): corpus.RED,
        (w - 1, 0): corpus.GREEN,
        (3 * w // 4, h // 4): corpus.GREEN,
        (0, h - 1): corpus.BLUE,
        (w // 4, 3 * h // 4): corpus.BLUE,
        (w - 1, h - 1): YELLOW,
        (3 * w // 4, 3 * h // 4): YELLOW,
    }
    for xy, expected in probes.items():
        actual = im.getpixel(xy)
        assert isinstance(actual, tuple)
        assert all(abs(a - e) <= 24 for a, e in zip(actual, expected, strict=True)), (xy, actual)


async def test_rgb_coded_jpeg_keeps_its_colours() -> None:
    data = corpus.encode(quadrants(800, 600), "JPEG", quality=95, keep_rgb=True)
    im = rgb(await prepare(data, max_side=400))
    assert im.getpixel((10, 10)) == pytest.approx(corpus.RED, abs=12)
    assert im.getpixel((390, 290)) == pytest.approx(YELLOW, abs=12)


@pytest.mark.parametrize(
    ("source", "max_side"),
    [
        (corpus.photo(3840, 2160), 1024),
        (corpus.photo(3840, 2160), 1536),
        (corpus.photo(3840, 2160), 1568),
        (corpus.photo(3840, 2160), 1000),  # 1000x563: odd height
        (quadrants(1001, 701), 333),  # sharp colour edges, odd sizes in and out
    ],
    ids=["1024", "1536", "1568", "1000", "edges"],
)
async def test_looks_like_the_rgb_path(
    monkeypatch: pytest.MonkeyPatch, source: Image.Image, max_side: int
) -> None:
    """Same picture as decoding, resizing and encoding in RGB: no visible difference."""
    data = corpus.encode(source, "JPEG", quality=90)
    fast = await prepare(data, max_side=max_side)
    monkeypatch.setattr(ycbcr, "eligible", lambda *_args: False)
    plain = await prepare(data, max_side=max_side)
    assert (fast.width, fast.height) == (plain.width, plain.height)
    assert psnr(rgb(fast), rgb(plain)) > 40


async def test_output_is_four_two_zero_jfif() -> None:
    """The chroma doubling relies on the encoder halving it again: 2x2 luma sampling."""
    image = await prepare(corpus.jpeg(1200, 900), max_side=600)
    with opened(image.data) as im:
        assert "jfif" in im.info
        assert [layer[1:3] for layer in im.layer] == [(2, 2), (1, 1), (1, 1)]  # type: ignore[attr-defined]


# ---------------------------------------------------------------- Pillow's block cache


@pytest.fixture
def pillow_settings(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls: dict[str, int] = {}
    monkeypatch.setattr(memory, "_configured", False)
    monkeypatch.setattr(pillow_core, "set_block_size", lambda n: calls.update(size=n))
    monkeypatch.setattr(pillow_core, "set_blocks_max", lambda n: calls.update(max=n))
    for name in memory.ENV_OVERRIDES:
        monkeypatch.delenv(name, raising=False)
    return calls


def test_block_cache_is_bounded(pillow_settings: dict[str, int]) -> None:
    memory.reuse_image_memory()
    assert pillow_settings == {"size": memory.BLOCK_SIZE, "max": memory.BLOCKS_MAX}
    assert memory.BLOCK_SIZE * memory.BLOCKS_MAX <= 64 * memory.MIB


def test_block_cache_is_set_once(pillow_settings: dict[str, int]) -> None:
    memory.reuse_image_memory()
    pillow_settings.clear()
    memory.reuse_image_memory()
    assert pillow_settings == {}


@pytest.mark.parametrize("name", memory.ENV_OVERRIDES)
def test_operator_settings_win(
    pillow_settings: dict[str, int], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "4")
    memory.reuse_image_memory()
    assert pillow_settings == {}


async def test_prepare_images_turns_the_cache_on(pillow_settings: dict[str, int]) -> None:
    await prepare(corpus.jpeg(32, 32))
    assert pillow_settings == {"size": memory.BLOCK_SIZE, "max": memory.BLOCKS_MAX}
