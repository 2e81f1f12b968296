"""Identify audio by its magic bytes; a declared type or file name is never trusted.

Raw PCM has no signature: it is accepted only when the caller declares it (with its rate), and
bytes that sniff as a real container are taken as that container instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from addon.models.media import AudioFormat

#: MIME type of each format as the hub answers and as providers are told.
MIME_TYPES: Final[Mapping[AudioFormat, str]] = {
    AudioFormat.WAV: "audio/wav",
    AudioFormat.MP3: "audio/mpeg",
    AudioFormat.OGG: "audio/ogg",
    AudioFormat.OPUS: "audio/ogg",
    AudioFormat.FLAC: "audio/flac",
    AudioFormat.M4A: "audio/mp4",
    AudioFormat.WEBM: "audio/webm",
    AudioFormat.AAC: "audio/aac",
    AudioFormat.PCM: "audio/pcm",
}

# Things people send by mistake, named so the error says what the bytes are.
_REJECTED: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"FORM", "audio/aiff"),
    (b"MThd", "audio/midi"),
    (b"#!AMR", "audio/amr"),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "audio/x-ms-wma"),
    (b".snd", "audio/basic"),
    (b"caff", "audio/x-caf"),
    (b"\x7fELF", "application/x-elf"),
    (b"\x1a\x45\xdf\xa3", "video/x-matroska"),  # reached only when the DocType is not webm
)
_RIFF_KINDS: Final[Mapping[bytes, str]] = {b"AVI ": "video/x-msvideo", b"WEBP": "image/webp"}
_TEXT_KINDS: Final[Mapping[bytes, str]] = {
    b"{": "application/json",
    b"[": "application/json",
    b"<": "text/html",
}
_ID3_HEADER: Final = 10


def sniff_audio(data: bytes) -> AudioFormat | None:
    """The container of ``data`` by its magic bytes, or None when it is none the hub takes."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return AudioFormat.WAV
    if data[:4] == b"fLaC":
        return AudioFormat.FLAC
    if data[:4] == b"OggS":
        return AudioFormat.OGG
    if data[4:8] == b"ftyp" and _is_audio_brand(data[8:12]):
        return AudioFormat.M4A
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return AudioFormat.WEBM if _ebml_doctype(data) == b"webm" else None
    return _mpeg_stream(data[skip_id3(data) :])


def skip_id3(data: bytes) -> int:
    """Where the audio starts after leading ID3v2 tags (0 without any)."""
    pos = 0
    while data[pos : pos + 3] == b"ID3" and len(data) >= pos + _ID3_HEADER:
        size = 0
        for byte in data[pos + 6 : pos + 10]:
            size = (size << 7) | (byte & 0x7F)
        footer = _ID3_HEADER if data[pos + 5] & 0x10 else 0
        pos += _ID3_HEADER + size + footer
    return pos


def _mpeg_stream(head: bytes) -> AudioFormat | None:
    """MPEG audio (Layer I-III: "mp3") or ADTS AAC by the frame sync of the first frame."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    if head[1] & 0xF6 == 0xF0:  # 12-bit sync, layer 00: ADTS
        return AudioFormat.AAC
    version, layer = (head[1] >> 3) & 0x3, (head[1] >> 1) & 0x3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 0x3
    if version == 1 or layer == 0 or bitrate in (0, 15) or rate == 3:
        return None
    return AudioFormat.MP3


def _is_audio_brand(brand: bytes) -> bool:
    """ISO-BMFF brands of audio (and plain MP4) files; image brands (HEIC, AVIF) are not."""
    return brand not in {b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1", b"avif"}


def _ebml_doctype(data: bytes) -> bytes | None:
    """The DocType string in an EBML header ("webm", "matroska")."""
    at = data.find(b"\x42\x82", 4, 64)
    if at < 0 or at + 3 > len(data) or not data[at + 2] & 0x80:
        return None
    size = data[at + 2] & 0x7F
    return data[at + 3 : at + 3 + size]


def describe_unsupported(data: bytes) -> str:
    """Best-effort MIME type of bytes that are no accepted audio (``unknown`` if unsure)."""
    for prefix, mime in _REJECTED:
        if data.startswith(prefix):
            return mime
    if data[:4] == b"RIFF":
        return _RIFF_KINDS.get(data[8:12], "application/octet-stream")
    if data[4:8] == b"ftyp":  # only image brands are refused
        return "image/heic"
    text = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return _TEXT_KINDS.get(text[:1], "unknown")
