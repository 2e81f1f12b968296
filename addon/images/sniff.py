"""Identify an image by its magic bytes; the declared MIME type and file name are never trusted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from addon.errors import UnsupportedMediaError

#: Accepted formats (as ``sniff_format`` names them) -> their MIME type.
MIME_TYPES: Final[Mapping[str, str]] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
}

#: ``sniff_format`` name -> the Pillow plugin allowed to decode it (no other plugin may try).
PILLOW_FORMATS: Final[Mapping[str, str]] = {
    "jpeg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "webp": "WEBP",
    "bmp": "BMP",
    "tiff": "TIFF",
}

# The BITMAPINFOHEADER family sizes: "BM" alone is too weak a signature.
_BMP_HEADER_SIZES: Final = frozenset({12, 16, 40, 52, 56, 64, 108, 124})

_PREFIXES: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)

# Rejected formats we can name, so the caller learns what they actually sent.
_REJECTED_PREFIXES: Final[tuple[tuple[bytes, str], ...]] = (
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!", "application/vnd.rar"),
    (b"8BPS", "image/vnd.adobe.photoshop"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "image/jp2"),
    (b"\xff\x4f\xff\x51", "image/jp2"),
    (b"\xff\x0a", "image/jxl"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "image/jxl"),
    (b"qoif", "image/qoi"),
    (b"II+\x00", "image/tiff (BigTIFF)"),
    (b"MM\x00+", "image/tiff (BigTIFF)"),
    (b"\x1a\x45\xdf\xa3", "video/webm"),
    (b"ID3", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
    (b"\x7fELF", "application/x-elf"),
    (b"MZ", "application/x-msdownload"),
)

_ISO_BRANDS: Final[Mapping[bytes, str]] = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"hevc": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"qt  ": "video/quicktime",
}

_RIFF_KINDS: Final[Mapping[bytes, str]] = {
    b"WAVE": "audio/wav",
    b"AVI ": "video/x-msvideo",
}


def sniff_format(data: bytes) -> str:
    """Return the image format of ``data`` by its magic bytes.

    One of ``jpeg``, ``png``, ``gif``, ``webp``, ``bmp``, ``tiff`` (see ``MIME_TYPES``).
    Anything else raises ``UnsupportedMediaError`` whose ``detected`` detail names what the
    bytes look like (``application/pdf``, ``image/heic``... or ``unknown``).
    """
    for prefix, name in _PREFIXES:
        if data.startswith(prefix):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:2] == b"BM" and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES:
        return "bmp"
    detected = detect_unsupported(data)
    raise UnsupportedMediaError(
        f"Unsupported image type {detected}: send JPEG, PNG, WebP, GIF, BMP or TIFF",
        detected=detected,
    )


def detect_unsupported(data: bytes) -> str:
    """Best-effort MIME type of bytes that are not an accepted image (``unknown`` if unsure)."""
    for prefix, mime in _REJECTED_PREFIXES:
        if data.startswith(prefix):
            return mime
    if data[4:8] == b"ftyp":
        return _ISO_BRANDS.get(data[8:12], "video/mp4")
    if data[:4] == b"RIFF":
        return _RIFF_KINDS.get(data[8:12], "application/octet-stream")
    return _detect_text(data[:512])


def _detect_text(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "image/svg+xml"
    if text.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if text.startswith(b"<?xml"):
        return "application/xml"
    if text.startswith((b"{", b"[")):
        return "application/json"
    return "unknown"
