"""prepare_images against the generated corpus: each file gets its documented result."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image, ImageFile

from addon.errors import (
    HubError,
    InvalidRequestError,
    PayloadTooLargeError,
    UnsupportedMediaError,
)
from addon.images import ImageLimits, ImageOptions, PreparedImage, prepare_images, process
from addon.images import pipeline as pipeline_module
from tests.addon.images import corpus

Pixel = tuple[int, ...]


async def prepare(
    *images: bytes,
    provider: str = "openai",
    limits: ImageLimits | None = None,
    max_workers: int = 2,
    **options: Any,
) -> list[PreparedImage]:
    return await prepare_images(
        list(images),
        provider_type=provider,
        options=ImageOptions(**options),
        limits=limits or ImageLimits(),
        max_workers=max_workers,
    )


def decoded(image: PreparedImage) -> Image.Image:
    im = Image.open(io.BytesIO(image.data))
    im.load()
    return im


def pixel(image: PreparedImage, xy: tuple[int, int]) -> Pixel:
    value = decoded(image).getpixel(xy)
    assert isinstance(value, tuple)
    return value


def close_to(actual: Pixel, expected: Pixel, tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def assert_clean(image: PreparedImage) -> None:
    """Pixels only: no EXIF/GPS, ICC, comments, XMP, text chunks or trailing payloads."""
    im = decoded(image)
    assert im.mode == "RGB"
    assert im.size == (image.width, image.height)
    assert not im.getexif()
    assert not {"exif", "icc_profile", "comment", "xmp", "XML:com.adobe.xmp"} & set(im.info)
    for marker in (b"Exif\x00\x00", b"SecretCam", b"52.52N", b"<script", corpus.SECRET):
        assert marker not in image.data
    if image.mime_type == "image/jpeg":
        assert image.data.startswith(b"\xff\xd8")
        assert image.data.endswith(b"\xff\xd9")
    else:
        assert image.mime_type == "image/png"
        for chunk in (b"eXIf", b"iCCP", b"tEXt", b"zTXt", b"iTXt"):
            assert chunk not in image.data


# ---------------------------------------------------------------- accepted files


@pytest.mark.parametrize(
    ("build", "source_format"),
    [
        (corpus.jpeg, "jpeg"),
        (corpus.png, "png"),
        (lambda: corpus.encode(corpus.photo(80, 60), "WEBP"), "webp"),
        (lambda: corpus.encode(corpus.photo(80, 60), "BMP"), "bmp"),
        (lambda: corpus.encode(corpus.photo(80, 60), "TIFF"), "tiff"),
        (lambda: corpus.encode(corpus.photo(80, 60), "TIFF", compression="tiff_lzw"), "tiff"),
        (corpus.animated_gif, "gif"),
        (corpus.srgb_tagged_png, "png"),
        (corpus.polyglot_jpeg_html_comment, "jpeg"),
    ],
)
async def test_accepted_formats_come_out_as_clean_jpeg(
    build: Callable[[], bytes], source_format: str
) -> None:
    data = build()
    (image,) = await prepare(data)
    assert image.mime_type == "image/jpeg"
    assert image.source_format == source_format
    assert image.source_bytes == len(data)
    assert_clean(image)


async def test_wrong_extension_is_sniffed_not_trusted() -> None:
    """A PNG uploaded as "photo.jpg" / image/jpeg: decoded as the PNG it is."""
    (image,) = await prepare(corpus.png(64, 48))
    assert image.source_format == "png"
    assert (image.width, image.height) == (64, 48)


async def test_polyglot_keeps_the_pixels_and_drops_the_payload() -> None:
    data = corpus.polyglot_jpeg_zip()
    assert corpus.SECRET in data
    (image,) = await prepare(data)
    assert image.source_format == "jpeg"
    assert (image.width, image.height) == (64, 48)
    assert_clean(image)


async def test_exif_orientation_is_applied_and_gps_dropped() -> None:
    data = corpus.exif_rotated_with_gps()
    assert b"SecretCam" in data
    (image,) = await prepare(data)
    # Stored 60x40 landscape with red top-left; orientation 6 shows it 40x60, red top-right.
    assert (image.width, image.height) == (40, 60)
    assert close_to(pixel(image, (35, 4)), corpus.RED, 40)
    assert close_to(pixel(image, (4, 4)), corpus.WHITE, 40)
    assert close_to(pixel(image, (35, 55)), corpus.WHITE, 40)
    assert_clean(image)


@pytest.mark.parametrize(
    ("orientation", "size", "red_corner"),
    [
        (1, (60, 40), "top-left"),
        (2, (60, 40), "top-right"),  # mirrored
        (3, (60, 40), "bottom-right"),  # rotated 180°
        (4, (60, 40), "bottom-left"),  # flipped
        (5, (40, 60), "top-left"),  # transposed
        (6, (40, 60), "top-right"),  # rotated 90° clockwise
        (7, (40, 60), "bottom-right"),  # transversed
        (8, (40, 60), "bottom-left"),  # rotated 90° counter-clockwise
        (9, (60, 40), "top-left"),  # not a valid value: shown as stored
    ],
)
async def test_every_exif_orientation(
    orientation: int, size: tuple[int, int], red_corner: str
) -> None:
    im = Image.new("RGB", (60, 40), corpus.WHITE)
    im.paste(corpus.RED, (0, 0, 16, 12))
    exif = Image.Exif()
    exif[0x0112] = orientation
    (image,) = await prepare(corpus.encode(im, "PNG", exif=exif), lossless=True)
    assert (image.width, image.height) == size
    w, h = size
    corners = {
        "top-left": (3, 3),
        "top-right": (w - 4, 3),
        "bottom-left": (3, h - 4),
        "bottom-right": (w - 4, h - 4),
    }
    for name, xy in corners.items():
        assert pixel(image, xy) == (corpus.RED if name == red_corner else corpus.WHITE), name
    assert_clean(image)


async def test_orientation_survives_resizing() -> None:
    im = Image.new("RGB", (3000, 2000), corpus.WHITE)
    im.paste(corpus.RED, (0, 0, 1000, 700))
    exif = Image.Exif()
    exif[0x0112] = 8  # display rotated 90° counter-clockwise: top-left goes bottom-left
    (image,) = await prepare(corpus.encode(im, "JPEG", exif=exif), max_side=300)
    assert (image.width, image.height) == (200, 300)
    assert close_to(pixel(image, (20, 280)), corpus.RED, 30)
    assert close_to(pixel(image, (20, 20)), corpus.WHITE, 30)


# ---------------------------------------------------------------- sizes and encodings


@pytest.mark.parametrize(
    ("provider", "detail_side", "expected"),
    [
        ("openai", None, (1536, 1152)),
        ("anthropic", None, (1568, 1176)),
        ("gemini", None, (1536, 1152)),
        ("ollama", None, (1024, 768)),
        ("openai_compatible", None, (1536, 1152)),
        ("anthropic", 400, (400, 300)),
    ],
)
async def test_resized_to_the_provider_long_side(
    provider: str, detail_side: int | None, expected: tuple[int, int]
) -> None:
    (image,) = await prepare(corpus.jpeg(4000, 3000), provider=provider, max_side=detail_side)
    assert (image.width, image.height) == expected
    assert decoded(image).size == expected


async def test_portrait_is_limited_by_its_long_side() -> None:
    (image,) = await prepare(corpus.jpeg(1000, 3000), max_side=600)
    assert (image.width, image.height) == (200, 600)


async def test_big_jpegs_are_decoded_near_the_target_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DCT scaling: a 4000x3000 JPEG aimed at 1568 decodes at 1/2 (2000x1500), not in full."""
    decoded_sizes: list[tuple[str, tuple[int, int]]] = []
    real_load = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile) -> Any:
        result = real_load(self)
        decoded_sizes.append((self.mode, self.size))
        return result

    data = corpus.jpeg(4000, 3000)
    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    (image,) = await prepare(data, provider="anthropic")
    assert decoded_sizes[0] == ("YCbCr", (2000, 1500))
    assert (image.width, image.height) == (1568, 1176)


async def test_small_images_are_never_upscaled() -> None:
    (image,) = await prepare(corpus.jpeg(300, 200), provider="anthropic")
    assert (image.width, image.height) == (300, 200)


async def test_lossless_gives_png_with_exact_pixels() -> None:
    im = Image.new("RGB", (40, 20), (10, 200, 30))
    im.paste((250, 5, 99), (20, 0, 40, 20))
    (image,) = await prepare(corpus.encode(im, "PNG"), lossless=True)
    assert image.mime_type == "image/png"
    assert pixel(image, (5, 5)) == (10, 200, 30)
    assert pixel(image, (30, 5)) == (250, 5, 99)
    assert_clean(image)


async def test_quality_controls_the_jpeg_size() -> None:
    data = corpus.jpeg(800, 600)
    (low,) = await prepare(data, quality=30)
    (high,) = await prepare(data, quality=95)
    assert len(low.data) < len(high.data)


# ---------------------------------------------------------------- colour modes


@pytest.mark.parametrize(
    ("build", "probes"),
    [
        (corpus.cmyk_jpeg, {(16, 16): (0, 255, 255)}),
        (lambda: corpus.png16(32768), {(4, 8): (128, 128, 128), (28, 8): (255, 255, 255)}),
        (lambda: corpus.png16(4096), {(4, 8): (16, 16, 16)}),
        (corpus.palette_with_transparency, {(4, 8): (128, 128, 128), (28, 8): corpus.RED}),
        (
            lambda: corpus.encode(Image.new("LA", (8, 8), (255, 0)), "PNG"),
            {(4, 4): (128, 128, 128)},
        ),
        (
            lambda: corpus.encode(Image.new("RGBA", (8, 8), (0, 0, 255, 255)), "PNG"),
            {(4, 4): corpus.BLUE},
        ),
        (
            lambda: corpus.encode(Image.new("RGBA", (8, 8), (255, 255, 255, 0)), "WEBP"),
            {(4, 4): (128, 128, 128)},
        ),
        (lambda: corpus.encode(Image.new("1", (8, 8), 1), "PNG"), {(4, 4): corpus.WHITE}),
        (lambda: corpus.encode(Image.new("L", (8, 8), 200), "TIFF"), {(4, 4): (200, 200, 200)}),
        (
            lambda: corpus.encode(Image.new("P", (8, 8), 3).convert("P"), "BMP"),
            {(4, 4): (3, 3, 3)},
        ),
        (
            lambda: corpus.encode(Image.new("I", (8, 8), 1000), "TIFF"),
            {(4, 4): (4, 4, 4)},
        ),
        (
            lambda: corpus.encode(Image.new("F", (8, 8), 0.5), "TIFF"),
            {(4, 4): (128, 128, 128)},
        ),
    ],
    ids=["cmyk", "16bit-half", "16bit-dark", "palette-alpha", "LA", "RGBA", "webp-alpha", "1",
         "L", "P-bmp", "I32", "F"],
)  # fmt: skip
async def test_every_mode_becomes_rgb(
    build: Callable[[], bytes], probes: dict[tuple[int, int], Pixel]
) -> None:
    (image,) = await prepare(build(), lossless=True)
    for xy, expected in probes.items():
        assert close_to(pixel(image, xy), expected, 3), (xy, pixel(image, xy), expected)
    assert_clean(image)


# ---------------------------------------------------------------- animations


@pytest.mark.parametrize(
    ("frames", "colours"),
    [
        (1, [corpus.RED]),
        (2, [corpus.RED, corpus.BLUE]),
        (3, [corpus.RED, corpus.GREEN, corpus.BLUE]),
        (5, [corpus.RED, corpus.GREEN, corpus.BLUE]),
    ],
)
async def test_animated_gif_frames(frames: int, colours: list[Pixel]) -> None:
    prepared = await prepare(corpus.animated_gif(), frames=frames, lossless=True)
    assert [pixel(image, (20, 15)) for image in prepared] == colours
    for image in prepared:
        assert image.source_format == "gif"
        assert_clean(image)


@pytest.mark.parametrize(
    ("n_frames", "wanted", "frame_pixels", "expected"),
    [
        (1, 5, 100, [0]),
        (10, 1, 100, [0]),
        (10, 2, 100, [0, 9]),
        (10, 4, 100, [0, 3, 6, 9]),
        (3, 10, 100, [0, 1, 2]),
        # 40 MP budget per wanted frame: 10 MP frames -> only the first 8 of 100 are reachable
        (100, 2, 10_000_000, [0, 7]),
        (100, 3, 40_000_000, [0, 1, 2]),
    ],
)
def test_frame_selection(
    n_frames: int, wanted: int, frame_pixels: int, expected: list[int]
) -> None:
    assert process.frame_indices(n_frames, wanted, frame_pixels, ImageLimits()) == expected


async def test_multi_page_tiff_pages_keep_their_own_shape() -> None:
    pages = [Image.new("RGB", (80, 40), corpus.RED), Image.new("RGB", (30, 90), corpus.BLUE)]
    data = corpus.encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    prepared = await prepare(data, frames=2, max_side=60, lossless=True)
    assert [(image.width, image.height) for image in prepared] == [(60, 30), (20, 60)]
    assert [pixel(image, (5, 5)) for image in prepared] == [corpus.RED, corpus.BLUE]


async def test_frames_of_all_animations_count_against_max_images() -> None:
    gif = corpus.animated_gif()
    with pytest.raises(PayloadTooLargeError, match="ask for fewer frames"):
        await prepare(gif, gif, frames=3, limits=ImageLimits(max_images=5))


# ---------------------------------------------------------------- refusals


def _no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.mark.parametrize(
    ("build", "limits"),
    [
        (corpus.png_bomb, ImageLimits(max_pixels=10_000_000)),
        (lambda: corpus.png_header_claiming(7000, 7000), ImageLimits()),
        (lambda: corpus.png_header_claiming(100_000, 100_000), ImageLimits()),
        (lambda: corpus.jpeg_claiming(65_000, 65_000), ImageLimits()),
        (lambda: corpus.jpeg_claiming(8000, 6000), ImageLimits(max_pixels=40_000_000)),
    ],
    ids=["png-bomb", "png-49MP", "png-10GP", "jpeg-4GP", "jpeg-48MP"],
)
async def test_decompression_bombs_are_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch, build: Callable[[], bytes], limits: ImageLimits
) -> None:
    data = build()
    assert len(data) < 100_000
    _no_decoding(monkeypatch)
    with pytest.raises(PayloadTooLargeError, match="Image 0 has too many pixels") as info:
        await prepare(data, limits=limits)
    assert info.value.status == 413
    assert info.value.details["index"] == 0


async def test_metadata_bomb_is_payload_too_large() -> None:
    with pytest.raises(PayloadTooLargeError, match="decompression bomb"):
        await prepare(corpus.text_chunk_bomb())


@pytest.mark.parametrize(
    ("images", "limits", "error", "message"),
    [
        ([b""], ImageLimits(), InvalidRequestError, "Image 0 is empty"),
        ([corpus.truncated_jpeg()], ImageLimits(), InvalidRequestError, "Image 0 is truncated"),
        ([corpus.header_only_jpeg()], ImageLimits(), InvalidRequestError, "Image 0 is trunc"),
        (
            [corpus.jpeg(16, 16), corpus.png(16, 16)[:60]],
            ImageLimits(),
            InvalidRequestError,
            "Image 1 is truncated or corrupt",
        ),
        ([corpus.jpeg(16, 16)] * 3, ImageLimits(max_images=2), PayloadTooLargeError, "3 images"),
        (
            [corpus.png(16, 16), corpus.jpeg(400, 300)],
            ImageLimits(max_bytes=5_000),
            PayloadTooLargeError,
            "Image 1 is .* bytes, over the limit of 5,000",
        ),
        (
            [corpus.pdf_with_jpeg_inside()],
            ImageLimits(),
            UnsupportedMediaError,
            "Image 0 is application/pdf",
        ),
        (
            [corpus.png(16, 16), b"<svg xmlns='http://www.w3.org/2000/svg'/>"],
            ImageLimits(),
            UnsupportedMediaError,
            "Image 1 is image/svg",
        ),
        ([b"\x00\x00\x00\x18ftypheic" + b"\x00" * 32], ImageLimits(), UnsupportedMediaError,
         "heic"),
        ([b"hello, world"], ImageLimits(), UnsupportedMediaError, "Image 0 is unknown"),
    ],
    ids=["zero-bytes", "truncated-jpeg", "jpeg-header-only", "truncated-png-second",
         "too-many-images", "too-many-bytes", "pdf-polyglot", "svg", "heic", "text"],
)  # fmt: skip
async def test_refusals(
    images: list[bytes], limits: ImageLimits, error: type[HubError], message: str
) -> None:
    with pytest.raises(error, match=message) as info:
        await prepare(*images, limits=limits)
    assert type(info.value) is error
    assert info.value.status == error.status


async def test_lowest_failing_index_is_reported() -> None:
    with pytest.raises(InvalidRequestError) as info:
        await prepare(corpus.jpeg(16, 16), corpus.truncated_jpeg(), corpus.truncated_jpeg())
    assert info.value.details["index"] == 1


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"quality": 0}, "quality"),
        ({"quality": 100}, "quality"),
        ({"max_side": 8}, "max_side"),
        ({"frames": 0}, "frames"),
        ({"frames": 11}, "frames"),
    ],
)
async def test_invalid_options(options: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await prepare_images(
            [corpus.jpeg(16, 16)],
            provider_type="openai",
            options=ImageOptions(**options),
            limits=ImageLimits(),
        )
    assert info.value.details["field"] == field


# ---------------------------------------------------------------- concurrency


@pytest.mark.parametrize("max_workers", [1, 2, 3])
async def test_work_runs_off_the_loop_within_the_bound(
    monkeypatch: pytest.MonkeyPatch, max_workers: int
) -> None:
    real = process.prepare_one
    lock = threading.Lock()
    active, peak, threads = 0, 0, set()

    def counting(*args: Any, **kwargs: Any) -> list[PreparedImage]:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
            threads.add(threading.get_ident())
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                active -= 1

    monkeypatch.setattr(pipeline_module, "prepare_one", counting)
    images = [corpus.jpeg(200 + i, 100) for i in range(6)]
    prepared = await prepare(*images, max_workers=max_workers)
    assert [image.width for image in prepared] == [200 + i for i in range(6)]  # input order
    assert 1 <= peak <= max_workers
    assert threading.get_ident() not in threads
