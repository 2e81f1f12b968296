"""sniff_audio: the bytes decide the format; refusals name what was actually sent."""

from __future__ import annotations

import struct

import pytest

from addon.audio import MIME_TYPES, sniff_audio
from addon.audio.sniff import describe_unsupported, skip_id3
from addon.models.media import AudioFormat
from tests.fakes.audio import id3_tag, voice_pcm, wav_file
from tests.fakes.audio_containers import (
    aac_file,
    flac_file,
    m4a_file,
    mp3_file,
    ogg_opus_file,
    webm_file,
)

TEXT = "turn on the kitchen light"
MPEG1_FRAME = bytes([0xFF, 0xFB, 0x90, 0x64]) + bytes(413)  # MPEG-1 L3 128 kbit/s 44.1 kHz


def _matroska() -> bytes:
    doctype = b"\x42\x82\x88matroska"
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(doctype)]) + doctype


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (wav_file(voice_pcm(TEXT)), AudioFormat.WAV),
        (mp3_file(TEXT), AudioFormat.MP3),
        (MPEG1_FRAME * 3, AudioFormat.MP3),
        (id3_tag("x") + id3_tag("y") + MPEG1_FRAME, AudioFormat.MP3),
        (aac_file(TEXT), AudioFormat.AAC),
        (aac_file(TEXT)[skip_id3(aac_file(TEXT)) :], AudioFormat.AAC),
        (flac_file(TEXT), AudioFormat.FLAC),
        (ogg_opus_file(TEXT), AudioFormat.OGG),
        (webm_file(TEXT), AudioFormat.WEBM),
        (m4a_file(TEXT), AudioFormat.M4A),
        (struct.pack(">I", 20) + b"ftypmp42" + bytes(8), AudioFormat.M4A),
    ],
)
def test_accepted(data: bytes, expected: AudioFormat) -> None:
    assert sniff_audio(data) is expected
    assert MIME_TYPES[expected].startswith("audio/")


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        (b"", "unknown"),
        (b"\x89PNG\r\n\x1a\n" + bytes(20), "image/png"),
        (b"\xff\xd8\xff\xe0" + bytes(20), "image/jpeg"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"FORM\x00\x00\x00\x10AIFF", "audio/aiff"),
        (b"#!AMR\n", "audio/amr"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "video/x-msvideo"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", "image/heic"),
        (_matroska(), "video/x-matroska"),
        (b'{"audio": "base64..."}', "application/json"),
        (b"<html><body>", "text/html"),
        (bytes([0xFF, 0xFF, 0xFF, 0xFF]) * 4, "unknown"),  # a sync word with reserved fields
        (voice_pcm(TEXT), "unknown"),  # raw PCM has no signature
    ],
)
def test_refused_with_what_it_is(data: bytes, detected: str) -> None:
    assert sniff_audio(data) is None
    assert describe_unsupported(data) == detected


def test_id3_tags_are_skipped_with_their_footer() -> None:
    tag = bytearray(id3_tag("title"))
    tag[5] |= 0x10  # footer present: 10 more bytes after the tag
    data = bytes(tag) + b"3DI" + bytes(7) + MPEG1_FRAME
    assert skip_id3(data) == len(tag) + 10
    assert sniff_audio(data) is AudioFormat.MP3
