"""Durations from the headers of Ogg, ISO-BMFF (M4A) and Matroska (WebM) files.

Each reader returns ``(seconds, sample_rate, channels)`` (rate and channels None when the
header does not give them) or None when the file does not say how long it is.
"""

from __future__ import annotations

import struct
from typing import Final

Found = tuple[float, int | None, int | None]

_OPUS_CLOCK: Final = 48_000
_PAGE_HEADER: Final = 27
_TAIL: Final = 128 * 1024  # an Ogg page is at most ~64 KiB
_EBML_UNKNOWN: Final = -1
_SEGMENT: Final = 0x18538067
_INFO: Final = 0x1549A966
_CLUSTER: Final = 0x1F43B675
_TIMECODE_SCALE: Final = 0x2AD7B1
_DURATION: Final = 0x4489
_CLUSTER_TIMECODE: Final = 0xE7
_SIMPLE_BLOCK: Final = 0xA3
_BLOCK_GROUP: Final = 0xA0
_BLOCK: Final = 0xA1
_OPUS_FRAME_S: Final = 0.02


def ogg_seconds(data: bytes) -> Found | None:
    """The last page's granule position over the stream's clock (Opus: 48 kHz less pre-skip)."""
    clock, skip, channels = _ogg_clock(data)
    if clock is None:
        return None
    pos = len(data)
    floor = max(0, len(data) - _TAIL)
    while (pos := data.rfind(b"OggS", floor, pos)) >= 0:
        if pos + _PAGE_HEADER <= len(data):
            (granule,) = struct.unpack_from("<q", data, pos + 6)
            if granule >= 0:
                return max(granule - skip, 0) / clock, clock, channels
    return None


def _ogg_clock(data: bytes) -> tuple[int | None, int, int | None]:
    """(granule clock, pre-skip, channels) from the first page's identification header."""
    head = data[: _PAGE_HEADER + 255 + 64]
    at = head.find(b"OpusHead")
    if at >= 0 and at + 12 <= len(head):
        return _OPUS_CLOCK, int.from_bytes(head[at + 10 : at + 12], "little"), head[at + 9]
    at = head.find(b"\x01vorbis")
    if at >= 0 and at + 16 <= len(head):
        channels, rate = struct.unpack_from("<BI", head, at + 11)
        return (rate or None), 0, channels
    return None, 0, None


def m4a_seconds(data: bytes) -> Found | None:
    """``moov/mvhd``: duration over timescale (version 0: 32-bit fields, version 1: 64-bit)."""
    moov = _box(data, b"moov")
    mvhd = _box(moov, b"mvhd") if moov is not None else None
    if mvhd is None or len(mvhd) < 20:
        return None
    if mvhd[0] == 1:
        if len(mvhd) < 32:
            return None
        timescale, duration = struct.unpack_from(">IQ", mvhd, 20)
    else:
        timescale, duration = struct.unpack_from(">II", mvhd, 12)
    if not timescale:
        return None
    return duration / timescale, None, None


def _box(data: bytes, kind: bytes) -> bytes | None:
    """The payload of the first box ``kind`` among the boxes laid out in ``data``."""
    pos = 0
    while pos + 8 <= len(data):
        size, name = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1 and pos + 16 <= len(data):
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = len(data) - pos
        if size < header:
            return None
        if name == kind:
            return data[pos + header : pos + size]
        pos += size
    return None


def webm_seconds(data: bytes) -> Found | None:
    """Segment/Info: Duration (a float in TimecodeScale units, nanoseconds each by default)."""
    pos = _skip_element(data, 0)  # the EBML header
    segment = _element(data, pos) if pos is not None else None
    if segment is None or segment[0] != _SEGMENT:
        return None
    pos = segment[1]
    while (child := _element(data, pos)) is not None:
        kind, body, size = child
        if kind == _INFO:
            if size < 0:
                return None
            scale, duration = _info(data[body : body + size])
            if duration is not None:
                return duration * scale / 1e9, None, None
            return _last_block_seconds(data, scale)
        if kind == _CLUSTER or size == _EBML_UNKNOWN:
            return None
        pos = body + size
    return None


def _last_block_seconds(data: bytes, scale: int) -> Found | None:
    """Without Duration (browser recordings): the last cluster's last block time, plus a frame.

    The last Cluster ID is found from the end and accepted only when its first child is its
    Timecode, so audio bytes that happen to look like the ID are skipped.
    """
    pos = len(data)
    while (pos := data.rfind(b"\x1f\x43\xb6\x75", 0, pos)) >= 0:
        cluster = _element(data, pos)
        first = _element(data, cluster[1]) if cluster is not None else None
        if cluster is None or first is None or first[0] != _CLUSTER_TIMECODE or first[2] < 0:
            continue
        base = int.from_bytes(data[first[1] : first[1] + first[2]])
        end = len(data) if cluster[2] < 0 else min(len(data), cluster[1] + cluster[2])
        latest = _latest_block(data[:end], first[1] + first[2])
        return (base + latest) * scale / 1e9 + _OPUS_FRAME_S, None, None
    return None


def _latest_block(data: bytes, pos: int) -> int:
    """The largest relative timecode among the (Simple)Blocks from ``pos`` on."""
    latest = 0
    while (child := _element(data, pos)) is not None and child[2] >= 0:
        kind, body, size = child
        if kind == _BLOCK_GROUP:
            latest = max(latest, _latest_block(data[: body + size], body))
        elif kind in (_SIMPLE_BLOCK, _BLOCK):
            track = _vint(data, body, keep_marker=False)
            if track is not None and track[1] + 2 <= len(data):
                (relative,) = struct.unpack_from(">h", data, track[1])
                latest = max(latest, relative)
        pos = body + size
    return latest


def _info(info: bytes) -> tuple[int, float | None]:
    """(TimecodeScale, Duration) of a Segment's Info (Duration None when absent or 0)."""
    scale, duration, pos = 1_000_000, None, 0
    while (child := _element(info, pos)) is not None and child[2] >= 0:
        kind, body, size = child
        value = info[body : body + size]
        if kind == _TIMECODE_SCALE:
            scale = int.from_bytes(value) or scale
        elif kind == _DURATION and size in (4, 8):
            (duration,) = struct.unpack(">f" if size == 4 else ">d", value)
        pos = body + size
    return scale, (duration if duration is not None and duration > 0 else None)


def _skip_element(data: bytes, pos: int) -> int | None:
    element = _element(data, pos)
    if element is None or element[2] < 0:
        return None
    return element[1] + element[2]


def _element(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(id, body offset, body size or -1 when unknown) of the EBML element at ``pos``."""
    ident = _vint(data, pos, keep_marker=True)
    if ident is None:
        return None
    kind, after_id = ident
    size = _vint(data, after_id, keep_marker=False)
    if size is None:
        return None
    value, body = size
    return kind, body, value


def _vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int] | None:
    if pos >= len(data) or data[pos] == 0:
        return None
    length = 8 - data[pos].bit_length() + 1
    if pos + length > len(data):
        return None
    raw = int.from_bytes(data[pos : pos + length])
    if keep_marker:
        return raw, pos + length
    value = raw & ((1 << (7 * length)) - 1)
    return (_EBML_UNKNOWN if value == (1 << (7 * length)) - 1 else value), pos + length
