"""Valid compressed audio files built by hand: MP3, AAC (ADTS), FLAC, Ogg Opus, WebM, M4A.

Each holds silence of about ``speech_seconds(text)`` and carries ``text`` in its metadata (see
``tests.fakes.audio``), written to each format's specification so real decoders accept them:
- MP3: an ID3v2.4 tag, then MPEG-2 Layer III frames (24 kHz, 64 kbit/s, mono) whose side info
  says "no spectral data" (silence), 576 samples each.
- AAC: an ID3v2.4 tag, then ADTS frames (AAC-LC, 24 kHz, mono) each holding one single channel
  element with no spectral data and ``END``, 1024 samples each.
- FLAC: ``fLaC``, STREAMINFO, a Vorbis comment, then frames with VERBATIM subframes of the voice
  code (lossless, so the samples themselves say the text too), CRC-8 and CRC-16 as specified.
- Ogg Opus: ``OpusHead``, ``OpusTags`` (with the title), then pages of the 3-byte silent 20 ms
  CELT packet; page CRCs as RFC 3533 defines them.
- WebM: EBML header, Segment (Info with Duration and Title, one Opus track, Clusters of
  SimpleBlocks); ``duration=False`` leaves Duration out, as browsers' MediaRecorder does.
- M4A: ``ftyp`` (M4A ), ``mdat``, then ``moov`` with ``mvhd`` (duration/timescale): the container
  skeleton the hub's edge reads, not a playable file.
"""

from __future__ import annotations

import math
import struct
from typing import Final

from tests.fakes.audio import id3_tag, speech_seconds, voice_pcm, vorbis_comment

MP3_FRAME_SAMPLES: Final = 576  # MPEG-2 Layer III
AAC_FRAME_SAMPLES: Final = 1024
OPUS_SILENCE: Final = b"\xf8\xff\xfe"  # TOC: CELT-only fullband 20 ms, one frame; silence
OPUS_PACKET_SAMPLES: Final = 960  # 20 ms at Opus' 48 kHz clock
OPUS_PRE_SKIP: Final = 312


def mp3_file(text: str) -> bytes:
    """ID3 title + silent MPEG-2 Layer III frames lasting about ``speech_seconds(text)``."""
    header = bytes([0xFF, 0xF3, 0x84, 0xC4])  # MPEG-2 L3, no CRC, 64 kbit/s, 24 kHz, mono
    frame = header + bytes(192 - len(header))  # 72 * 64000 / 24000 bytes; zero side info
    count = math.ceil(speech_seconds(text) * 24_000 / MP3_FRAME_SAMPLES)
    return id3_tag(text) + frame * count


def aac_file(text: str) -> bytes:
    """ID3 title + silent ADTS AAC-LC frames (24 kHz mono)."""
    raw = bytes([0x00, 0x00, 0x00, 0x07])  # SCE tag 0, gain 0, max_sfb 0, no tools; END
    length = 7 + len(raw)
    adts = bytes(
        [
            0xFF,
            0xF1,  # sync, MPEG-4, layer 0, no CRC
            (1 << 6) | (6 << 2) | 0,  # AAC-LC (object type 2 - 1), 24 kHz (index 6)
            (1 << 6) | (length >> 11),  # one channel
            (length >> 3) & 0xFF,
            ((length & 0x7) << 5) | 0x1F,  # buffer fullness 0x7FF (VBR)
            0xFC,  # one raw data block
        ]
    )
    count = math.ceil(speech_seconds(text) * 24_000 / AAC_FRAME_SAMPLES)
    return id3_tag(text) + (adts + raw) * count


# --- FLAC -----------------------------------------------------------------------------------
def flac_file(text: str, rate: int = 24_000) -> bytes:
    """A FLAC stream of the voice code (VERBATIM subframes) with a ``TITLE`` comment."""
    pcm = voice_pcm(text, rate)
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    block = 4096
    info = struct.pack(">HH", block, block) + b"\x00" * 6
    packed = (rate << 44) | (0 << 41) | (15 << 36) | len(samples)  # mono, 16 bits
    info += packed.to_bytes(8) + bytes(16)
    comment = vorbis_comment(text)
    out = b"fLaC" + bytes([0]) + len(info).to_bytes(3) + info
    out += bytes([0x80 | 4]) + len(comment).to_bytes(3) + comment
    for number, start in enumerate(range(0, len(samples), block)):
        out += _flac_frame(number, samples[start : start + block], rate)
    return out


def _flac_frame(number: int, samples: tuple[int, ...], rate: int) -> bytes:
    header = bytearray([0xFF, 0xF8, (0b0111 << 4) | 0b1100, (0b0000 << 4) | (0b100 << 1)])
    header += _utf8_number(number)
    header += struct.pack(">H", len(samples) - 1) + bytes([rate // 1000])
    header.append(crc8(bytes(header)))
    body = bytes([0b00000010]) + struct.pack(f">{len(samples)}h", *samples)  # VERBATIM
    frame = bytes(header) + body
    return frame + struct.pack(">H", crc16(frame))


def _utf8_number(value: int) -> bytes:
    """FLAC's "UTF-8" coding of a frame number."""
    if value < 0x80:
        return bytes([value])
    for length in range(2, 8):
        if value < 1 << (5 * length + 1):
            tail = [0x80 | ((value >> (6 * i)) & 0x3F) for i in reversed(range(length - 1))]
            lead = ((0xFF << (8 - length)) & 0xFF) | (value >> (6 * (length - 1)))
            return bytes([lead, *tail])
    raise ValueError(value)


def crc8(data: bytes) -> int:
    """FLAC's CRC-8 (polynomial x^8 + x^2 + x + 1, initial 0)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def crc16(data: bytes) -> int:
    """FLAC's CRC-16 (polynomial x^16 + x^15 + x^2 + 1, initial 0)."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


# --- Ogg Opus -------------------------------------------------------------------------------
def opus_head(rate: int = 24_000) -> bytes:
    """The ``OpusHead`` identification header (RFC 7845), mono, mapping family 0."""
    return b"OpusHead" + struct.pack("<BBHIhB", 1, 1, OPUS_PRE_SKIP, rate, 0, 0)


def ogg_opus_file(text: str) -> bytes:
    """An Ogg Opus stream of silence with ``TITLE=text`` in ``OpusTags``."""
    packets = math.ceil(speech_seconds(text) * 48_000 / OPUS_PACKET_SAMPLES)
    pages = [
        _ogg_page(0, 0, [opus_head()], flags=0x02),
        _ogg_page(1, 0, [b"OpusTags" + vorbis_comment(text)]),
    ]
    sequence, done = 2, 0
    while done < packets:
        batch = min(50, packets - done)
        done += batch
        granule = OPUS_PRE_SKIP + done * OPUS_PACKET_SAMPLES
        last = done == packets
        pages.append(_ogg_page(sequence, granule, [OPUS_SILENCE] * batch, flags=4 if last else 0))
        sequence += 1
    return b"".join(pages)


def _ogg_page(sequence: int, granule: int, packets: list[bytes], *, flags: int = 0) -> bytes:
    lacing = bytearray()
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, 0x0F4E5A01, sequence, 0, 0)
    page = bytearray(header[:-1]) + bytes([len(lacing)]) + lacing + b"".join(packets)
    struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
    return bytes(page)


def ogg_crc(data: bytes) -> int:
    """Ogg's page CRC-32 (polynomial 0x04C11DB7, not reflected, initial 0)."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


# --- WebM (Matroska) ------------------------------------------------------------------------
def webm_file(text: str, *, duration: bool = True) -> bytes:
    """A WebM file with one Opus track of silence; Info carries Title (and Duration)."""
    packets = math.ceil(speech_seconds(text) * 1000 / 20)
    header = _ebml(
        0x1A45DFA3,
        _uint(0x4286, 1)
        + _uint(0x42F7, 1)
        + _uint(0x42F2, 4)
        + _uint(0x42F3, 8)
        + _ebml(0x4282, b"webm")
        + _uint(0x4287, 4)
        + _uint(0x4285, 2),
    )
    info = _uint(0x2AD7B1, 1_000_000) + _ebml(0x7BA9, text.encode())
    info += _ebml(0x4D80, b"fake-audio") + _ebml(0x5741, b"fake-audio")
    if duration:
        info += _ebml(0x4489, struct.pack(">d", packets * 20.0))
    audio = _ebml(0xB5, struct.pack(">d", 48_000.0)) + _uint(0x9F, 1)
    track = _uint(0xD7, 1) + _uint(0x73C5, 1) + _uint(0x83, 2) + _ebml(0x86, b"A_OPUS")
    track += _ebml(0x63A2, opus_head(48_000)) + _ebml(0xE1, audio)
    clusters = b""
    for first in range(0, packets, 1000):  # 20 s per cluster (block timecodes are int16 ms)
        blocks = b"".join(
            _ebml(0xA3, b"\x81" + struct.pack(">hB", (n - first) * 20, 0x80) + OPUS_SILENCE)
            for n in range(first, min(first + 1000, packets))
        )
        clusters += _ebml(0x1F43B675, _uint(0xE7, first * 20) + blocks)
    body = _ebml(0x1549A966, info) + _ebml(0x1654AE6B, _ebml(0xAE, track)) + clusters
    return header + _ebml(0x18538067, body)


def _ebml(element: int, payload: bytes) -> bytes:
    return element.to_bytes((element.bit_length() + 7) // 8) + _vint(len(payload)) + payload


def _uint(element: int, value: int) -> bytes:
    return _ebml(element, value.to_bytes(max(1, (value.bit_length() + 7) // 8)))


def _vint(value: int) -> bytes:
    for length in range(1, 9):
        if value < (1 << (7 * length)) - 1:
            return ((1 << (7 * length)) | value).to_bytes(length)
    raise ValueError(value)


# --- M4A (ISO base media) -------------------------------------------------------------------
def m4a_file(text: str, *, moov_first: bool = False) -> bytes:
    """``ftyp`` + ``mdat`` + ``moov``/``mvhd`` (or ``moov`` first, as "fast start" files)."""
    timescale = 24_000
    duration = round(speech_seconds(text) * timescale)
    mvhd = _box(b"mvhd", bytes(4) + struct.pack(">IIII", 0, 0, timescale, duration) + bytes(80))
    moov = _box(b"moov", mvhd + _box(b"udta", _box(b"titl", text.encode())))
    ftyp = _box(b"ftyp", b"M4A " + struct.pack(">I", 0) + b"M4A mp42isom")
    mdat = _box(b"mdat", bytes(round(speech_seconds(text) * 8000)))  # ~64 kbit/s of payload
    return ftyp + (moov + mdat if moov_first else mdat + moov)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload
