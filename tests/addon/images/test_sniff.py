"""sniff_format: magic bytes decide, and refusals name what was actually sent."""

from __future__ import annotations

import pytest

from addon.errors import UnsupportedMediaError
from addon.images import MIME_TYPES, sniff_format
from tests.addon.images import corpus


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (corpus.jpeg(16, 16), "jpeg"),
        (corpus.png(16, 16), "png"),
        (corpus.animated_gif(), "gif"),
        (b"GIF87a" + b"\x00" * 10, "gif"),
        (corpus.encode(corpus.photo(16, 16), "WEBP"), "webp"),
        (corpus.encode(corpus.photo(16, 16), "BMP"), "bmp"),
        (corpus.encode(corpus.photo(16, 16), "TIFF"), "tiff"),
        (b"MM\x00*" + b"\x00" * 10, "tiff"),
        (corpus.polyglot_jpeg_zip(), "jpeg"),
        (corpus.truncated_jpeg(), "jpeg"),
    ],
)
def test_accepted(data: bytes, expected: str) -> None:
    assert sniff_format(data) == expected
    assert expected in MIME_TYPES


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        (b"", "unknown"),
        (b"%PDF-1.4\n", "application/pdf"),
        (corpus.pdf_with_jpeg_inside(), "application/pdf"),
        (b"PK\x03\x04rest", "application/zip"),
        (b"\x1f\x8b\x08\x00", "application/gzip"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", "image/heic"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00", "image/avif"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00", "video/mp4"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "image/jp2"),
        (b"8BPS\x00\x01", "image/vnd.adobe.photoshop"),
        (b"\x00\x00\x01\x00\x01\x00", "image/x-icon"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"  <svg xmlns='http://www.w3.org/2000/svg'></svg>", "image/svg+xml"),
        (b"<?xml version='1.0'?><svg/>", "image/svg+xml"),
        (b"<!DOCTYPE html><html>", "text/html"),
        (b'{"image": "no"}', "application/json"),
        (b"BM" + b"\x00" * 30, "unknown"),  # "BM" without a DIB header is not a BMP
        (b"\xff\xd8", "unknown"),  # too short to be a JPEG
        (b"just some text", "unknown"),
    ],
)
def test_refused_with_the_detected_type(data: bytes, detected: str) -> None:
    with pytest.raises(UnsupportedMediaError) as info:
        sniff_format(data)
    assert info.value.details["detected"] == detected
    assert detected in info.value.message
    assert info.value.to_dict()["key"] == "unsupported_media"
