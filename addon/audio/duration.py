"""How long audio lasts, read from its headers without decoding a sample.

WAV and raw PCM are exact (bytes / byte rate). MP3 is measured frame by frame, FLAC from
STREAMINFO's sample count, Ogg from the last page's granule position, M4A from ``mvhd`` and WebM
from Info's Duration. A file that does not say (a WebM from a browser's MediaRecorder, a stream
cut short) is estimated from its size at the format's typical voice bitrate and marked so.
Malformed headers raise ``InvalidRequestError``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from addon.audio.containers import m4a_seconds, ogg_seconds, webm_seconds
from addon.audio.sniff import skip_id3
from addon.errors import InvalidRequestError
from addon.models.media import AudioFormat

# Typical bitrates of voice recordings (bits/s), for files whose headers do not say.
NOMINAL_BITRATE: Final[Mapping[AudioFormat, int]] = {
    AudioFormat.MP3: 64_000,
    AudioFormat.AAC: 64_000,
    AudioFormat.M4A: 64_000,
    AudioFormat.OGG: 32_000,
    AudioFormat.OPUS: 32_000,
    AudioFormat.WEBM: 32_000,
    AudioFormat.FLAC: 400_000,
    AudioFormat.WAV: 256_000,
}
_MP3_BITRATES: Final = {  # kbit/s by (MPEG-1?, layer) and index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES: Final = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000)}
_MP3_RATES_25: Final = (11_025, 12_000, 8_000)
_MIN_WAV_FMT: Final = 16
_ADTS_RATES: Final = (
    *(96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000),
    *(22_050, 16_000, 12_000, 11_025, 8_000, 7_350),
)


@dataclass(frozen=True, slots=True)
class Measured:
    """A duration, whether it was read (``exact``) or estimated, and what the headers told."""

    seconds: float
    exact: bool
    sample_rate: int | None = None
    channels: int | None = None


def measure(data: bytes, fmt: AudioFormat) -> Measured:
    """The duration of ``data`` in format ``fmt`` (``PCM`` needs ``pcm_seconds`` instead)."""
    reader = _READERS.get(fmt)
    found = reader(data) if reader is not None else None
    if found is not None:
        return found
    return Measured(len(data) * 8 / NOMINAL_BITRATE.get(fmt, 64_000), exact=False)


def pcm_seconds(size: int, sample_rate: int, channels: int) -> float:
    """Seconds of 16-bit PCM of ``size`` bytes."""
    return size / (sample_rate * channels * 2)


def _wav(data: bytes) -> Measured:
    """RIFF chunks: ``fmt `` gives the byte rate, ``data`` the size (the rest if unsized)."""
    pos, rate, channels, byte_rate = 12, 0, 0, 0
    while pos + 8 <= len(data):
        kind, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = pos + 8
        if kind == b"fmt ":
            if size < _MIN_WAV_FMT or body + _MIN_WAV_FMT > len(data):
                break
            _tag, channels, rate, byte_rate = struct.unpack_from("<HHII", data, body)
        elif kind == b"data":
            if not byte_rate or not channels or not rate:
                break
            available = len(data) - body
            frames = available if size in (0, 0xFFFFFFFF) or size > available else size
            return Measured(frames / byte_rate, exact=True, sample_rate=rate, channels=channels)
        pos = body + size + (size & 1)
    raise InvalidRequestError(
        "The WAV file is malformed: it needs a 'fmt ' chunk before its 'data' chunk"
    )


def _mp3(data: bytes) -> Measured | None:
    """Walk the MPEG frames; a stream that loses sync is estimated past that point."""
    pos, seconds, frames, rate, channels = skip_id3(data), 0.0, 0, 0, 1
    while pos + 4 <= len(data):
        frame = _mpeg_frame(data[pos : pos + 4])
        if frame is None:
            break
        length, samples, rate, channels = frame
        seconds += samples / rate
        frames += 1
        pos += length
    if not frames:
        return None
    rest = len(data) - pos
    if rest > 1024:  # lost sync (or junk after the frames): estimate what is left
        seconds += rest * 8 / NOMINAL_BITRATE[AudioFormat.MP3]
    return Measured(seconds, exact=rest <= 1024, sample_rate=rate, channels=channels)


def _mpeg_frame(head: bytes) -> tuple[int, int, int, int] | None:
    """(frame bytes, samples, sample rate, channels) of an MPEG audio frame header."""
    if head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version, layer_bits = (head[1] >> 3) & 0x3, (head[1] >> 1) & 0x3
    index, rate_index, padding = head[2] >> 4, (head[2] >> 2) & 0x3, (head[2] >> 1) & 0x1
    if version == 1 or layer_bits == 0 or index in (0, 15) or rate_index == 3:
        return None
    layer, mpeg1 = 4 - layer_bits, version == 3
    kbps = _MP3_BITRATES[(mpeg1, 1 if layer == 1 else (layer if mpeg1 else 2))][index - 1]
    rate = _MP3_RATES.get(version, _MP3_RATES_25)[rate_index]
    channels = 1 if head[3] >> 6 == 3 else 2
    if layer == 1:
        return (12 * kbps * 1000 // rate + padding) * 4, 384, rate, channels
    samples = 1152 if mpeg1 or layer == 2 else 576
    return samples // 8 * kbps * 1000 // rate + padding, samples, rate, channels


def _adts(data: bytes) -> Measured | None:
    """ADTS frames: 13-bit frame length, 1024 samples per raw data block."""
    pos, samples, rate, channels, frames = skip_id3(data), 0, 0, 1, 0
    while pos + 7 <= len(data) and data[pos] == 0xFF and data[pos + 1] & 0xF6 == 0xF0:
        index = (data[pos + 2] >> 2) & 0xF
        length = ((data[pos + 3] & 0x3) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
        if index >= len(_ADTS_RATES) or length < 7:
            break
        rate = _ADTS_RATES[index]
        channels = ((data[pos + 2] & 0x1) << 2) | (data[pos + 3] >> 6) or channels
        samples += 1024 * ((data[pos + 6] & 0x3) + 1)
        frames += 1
        pos += length
    if not frames:
        return None
    rest = len(data) - pos
    seconds = samples / rate + rest * 8 / NOMINAL_BITRATE[AudioFormat.AAC]
    return Measured(seconds, exact=rest == 0, sample_rate=rate, channels=channels)


def _flac(data: bytes) -> Measured | None:
    """STREAMINFO (the first metadata block): 20-bit rate, 3-bit channels, 36-bit samples."""
    if len(data) < 8 + 34 or data[4] & 0x7F != 0:
        raise InvalidRequestError("The FLAC file is malformed: it has no STREAMINFO block")
    packed = int.from_bytes(data[8 + 10 : 8 + 18])
    rate, channels, total = packed >> 44, ((packed >> 41) & 0x7) + 1, packed & ((1 << 36) - 1)
    if not rate:
        raise InvalidRequestError("The FLAC file is malformed: its sample rate is 0")
    if not total:
        return None
    return Measured(total / rate, exact=True, sample_rate=rate, channels=channels)


def _exact(
    reader: Callable[[bytes], tuple[float, int | None, int | None] | None],
) -> Callable[[bytes], Measured | None]:
    def read(data: bytes) -> Measured | None:
        found = reader(data)
        if found is None:
            return None
        seconds, rate, channels = found
        return Measured(seconds, exact=True, sample_rate=rate, channels=channels)

    return read


_READERS: Final[Mapping[AudioFormat, Callable[[bytes], Measured | None]]] = {
    AudioFormat.WAV: _wav,
    AudioFormat.MP3: _mp3,
    AudioFormat.FLAC: _flac,
    AudioFormat.AAC: _adts,
    AudioFormat.OGG: _exact(ogg_seconds),
    AudioFormat.OPUS: _exact(ogg_seconds),
    AudioFormat.M4A: _exact(m4a_seconds),
    AudioFormat.WEBM: _exact(webm_seconds),
}
