"""measure: durations read from headers (exact where the format says), estimated otherwise."""

from __future__ import annotations

import struct

import pytest

from addon.audio.duration import NOMINAL_BITRATE, measure
from addon.errors import InvalidRequestError
from addon.models.media import AudioFormat
from tests.fakes.audio import speech_seconds, voice_pcm, wav_file
from tests.fakes.audio_containers import (
    aac_file,
    flac_file,
    m4a_file,
    mp3_file,
    ogg_opus_file,
    webm_file,
)

TEXT = "please turn on the lights in the living room"
SECONDS = speech_seconds(TEXT)


def _mpeg1(frames: int) -> bytes:
    """MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo; frames alternate padding."""
    out = b""
    for n in range(frames):
        padding = n % 2
        header = bytes([0xFF, 0xFB, 0x90 | (padding << 1), 0x64])
        out += header + bytes(144 * 128_000 // 44_100 + padding - 4)
    return out


@pytest.mark.parametrize(
    ("data", "fmt", "seconds", "rate"),
    [
        (wav_file(voice_pcm(TEXT, 16_000), 16_000), AudioFormat.WAV, SECONDS, 16_000),
        (wav_file(voice_pcm(TEXT, 8_000) * 2, 8_000, 2), AudioFormat.WAV, SECONDS, 8_000),
        (flac_file(TEXT), AudioFormat.FLAC, SECONDS, 24_000),
        (ogg_opus_file(TEXT), AudioFormat.OGG, SECONDS, 48_000),
        (webm_file(TEXT), AudioFormat.WEBM, SECONDS, None),
        (webm_file(TEXT, duration=False), AudioFormat.WEBM, SECONDS, None),
        (m4a_file(TEXT), AudioFormat.M4A, SECONDS, None),
        (m4a_file(TEXT, moov_first=True), AudioFormat.M4A, SECONDS, None),
        (_mpeg1(100), AudioFormat.MP3, 100 * 1152 / 44_100, 44_100),
    ],
)
def test_exact(data: bytes, fmt: AudioFormat, seconds: float, rate: int | None) -> None:
    found = measure(data, fmt)
    assert found.exact
    assert found.seconds == pytest.approx(seconds, abs=0.021)
    assert found.sample_rate == rate


@pytest.mark.parametrize(
    ("data", "fmt", "frame"),
    [
        (mp3_file(TEXT), AudioFormat.MP3, 576 / 24_000),
        (aac_file(TEXT), AudioFormat.AAC, 1024 / 24_000),
    ],
)
def test_frame_walks_round_up_to_whole_frames(data: bytes, fmt: AudioFormat, frame: float) -> None:
    found = measure(data, fmt)
    assert found.exact
    assert SECONDS <= found.seconds < SECONDS + frame


def test_wav_skips_other_chunks_and_pads_odd_ones() -> None:
    wav = wav_file(voice_pcm(TEXT))
    extra = b"LIST" + struct.pack("<I", 5) + b"INFOx" + b"\x00"  # odd size, one pad byte
    data = wav[:12] + extra + wav[12:]
    assert measure(data, AudioFormat.WAV).seconds == pytest.approx(SECONDS)


def test_streamed_wav_with_unknown_size_counts_what_arrived() -> None:
    wav = bytearray(wav_file(voice_pcm(TEXT)))
    at = wav.find(b"data")
    struct.pack_into("<I", wav, at + 4, 0xFFFFFFFF)
    assert measure(bytes(wav), AudioFormat.WAV).seconds == pytest.approx(SECONDS)


def test_ogg_vorbis_uses_its_own_sample_rate() -> None:
    ident = b"\x01vorbis" + struct.pack("<IBI", 0, 1, 16_000) + bytes(20)
    first = b"OggS\x00\x02" + struct.pack("<q", 0) + bytes(13) + ident
    last = b"OggS\x00\x04" + struct.pack("<q", 32_000) + bytes(13)
    found = measure(first + bytes(100) + last, AudioFormat.OGG)
    assert (found.seconds, found.sample_rate, found.exact) == (2.0, 16_000, True)


def test_m4a_version_1_header_and_large_boxes() -> None:
    mvhd = b"\x01" + bytes(3) + struct.pack(">QQIQ", 0, 0, 1000, 90_500) + bytes(80)
    moov = struct.pack(">I", 8 + 8 + len(mvhd)) + b"moov" + struct.pack(">I", 8 + len(mvhd))
    moov += b"mvhd" + mvhd
    large = struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 16 + 4) + bytes(4)
    data = struct.pack(">I", 16) + b"ftypM4A " + bytes(4) + large + moov
    assert measure(data, AudioFormat.M4A).seconds == pytest.approx(90.5)


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (struct.pack(">I", 16) + b"ftypM4A " + bytes(4) + bytes(8000), AudioFormat.M4A),
        (b"\x1a\x45\xdf\xa3\x80" + bytes(4000), AudioFormat.WEBM),
        (b"OggS" + bytes(4000), AudioFormat.OGG),
        (bytes([0xFF, 0xF3, 0x84, 0xC4]) + bytes(4000), AudioFormat.MP3),
    ],
)
def test_estimated_from_size_when_headers_do_not_say(data: bytes, fmt: AudioFormat) -> None:
    found = measure(data, fmt)  # MP3: one frame measured, the junk after it estimated
    assert not found.exact
    assert found.seconds > 0
    assert found.seconds <= len(data) * 8 / NOMINAL_BITRATE[fmt] + 0.1


def test_flac_without_a_sample_count_is_estimated() -> None:
    flac = bytearray(flac_file(TEXT))
    packed = int.from_bytes(flac[18:26]) & ~((1 << 36) - 1)
    flac[18:26] = packed.to_bytes(8)
    assert not measure(bytes(flac), AudioFormat.FLAC).exact


@pytest.mark.parametrize(
    ("data", "fmt", "says"),
    [
        (b"RIFF\x00\x00\x00\x00WAVEdata\x04\x00\x00\x00abcd", AudioFormat.WAV, "'fmt ' chunk"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt \x02\x00\x00\x00", AudioFormat.WAV, "'fmt ' chunk"),
        (b"fLaC\x00\x00\x00", AudioFormat.FLAC, "STREAMINFO"),
        (b"fLaC\x04\x00\x00\x22" + bytes(34), AudioFormat.FLAC, "STREAMINFO"),
        (b"fLaC\x00\x00\x00\x22" + bytes(34), AudioFormat.FLAC, "sample rate is 0"),
    ],
)
def test_malformed_headers_are_a_400(data: bytes, fmt: AudioFormat, says: str) -> None:
    with pytest.raises(InvalidRequestError, match=says):
        measure(data, fmt)
