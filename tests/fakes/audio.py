"""Deterministic, valid audio for the fakes and the tests, and a way to read back what it says.

"Speech" here is a code, not sound: ``voice_pcm`` turns a text into 16-bit mono PCM in which,
after a marker, each UTF-8 byte of the text is a run of one sample value (60 ms per byte, so a
sentence lasts about as long as spoken). Lossless containers (WAV, FLAC's samples, raw PCM) keep
it; the lossy ones the fakes write (MP3, AAC, Ogg Opus, WebM) hold silent frames and carry the
text in their metadata instead (ID3 ``TIT2``, Vorbis comment ``TITLE``). ``spoken_text`` reads
either back, so a fake transcriber answers what a fake speaker said, and a test can check that a
transcript is of the audio it sent.
"""

from __future__ import annotations

import io
import itertools
import struct
import sys
import wave
from array import array
from typing import Final

MARK: Final = 12345  # the marker's sample value (alternating sign, four runs)
STEP: Final = 100  # byte b is sample value (b + 1) * STEP
BYTE_SECONDS: Final = 0.06  # how long one byte of text "sounds"
LEAD_SECONDS: Final = 0.1  # silence before and after the code


def voice_pcm(text: str, rate: int = 16_000) -> bytes:
    """``text`` as signed 16-bit little-endian mono PCM at ``rate`` (see the module doc)."""
    unit = max(1, round(rate * BYTE_SECONDS))
    lead = [0] * round(rate * LEAD_SECONDS)
    samples: list[int] = list(lead)
    for value in (MARK, -MARK, MARK, -MARK):
        samples.extend([value] * unit)
    for byte in text.encode():
        samples.extend([(byte + 1) * STEP] * unit)
    samples.extend(lead or [0])
    return _pack(samples)


def read_voice(pcm: bytes) -> str | None:
    """The text ``voice_pcm`` coded into ``pcm`` (None: no code in it)."""
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    runs = [(value, len(list(group))) for value, group in itertools.groupby(samples)]
    for start in range(max(len(runs) - 3, 0)):
        head = runs[start : start + 4]
        if [v for v, _ in head] == [MARK, -MARK, MARK, -MARK]:
            return _decode_runs(runs[start + 4 :], unit=head[1][1])
    return None


def _decode_runs(runs: list[tuple[int, int]], *, unit: int) -> str | None:
    data = bytearray()
    for value, count in runs:
        if value == 0:
            break
        if value % STEP or not STEP <= value <= 256 * STEP:
            return None
        data.extend([value // STEP - 1] * max(1, round(count / unit)))
    return data.decode(errors="replace")


def speech_seconds(text: str) -> float:
    """How long ``text`` lasts when coded by ``voice_pcm`` (the compressed formats match it)."""
    return len(text.encode()) * BYTE_SECONDS + 4 * BYTE_SECONDS + 2 * LEAD_SECONDS


def wav_file(pcm: bytes, rate: int = 16_000, channels: int = 1) -> bytes:
    """A RIFF/WAVE file around 16-bit PCM (the stdlib ``wave`` writer)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm)
    return out.getvalue()


def wav_pcm(data: bytes) -> tuple[bytes, int, int]:
    """The PCM frames, sample rate and channel count of a WAV file."""
    with wave.open(io.BytesIO(data), "rb") as reader:
        return reader.readframes(reader.getnframes()), reader.getframerate(), reader.getnchannels()


def id3_tag(text: str) -> bytes:
    """An ID3v2.4 tag holding ``text`` as the title (``TIT2``, UTF-8)."""
    body = b"\x03" + text.encode()
    frame = b"TIT2" + syncsafe(len(body)) + b"\x00\x00" + body
    return b"ID3\x04\x00\x00" + syncsafe(len(frame)) + frame


def syncsafe(value: int) -> bytes:
    """A 28-bit ID3 "syncsafe" integer (7 bits per byte)."""
    return bytes((value >> shift) & 0x7F for shift in (21, 14, 7, 0))


def read_id3_title(data: bytes) -> str | None:
    """The ``TIT2`` of a leading ID3v2.3/2.4 tag (None without one)."""
    if data[:3] != b"ID3" or len(data) < 10:
        return None
    version = data[3]
    end = 10 + _unsync(data[6:10])
    pos = 10
    while pos + 10 <= min(end, len(data)):
        frame_id = data[pos : pos + 4]
        raw = data[pos + 4 : pos + 8]
        size = _unsync(raw) if version == 4 else int.from_bytes(raw)
        if frame_id == b"TIT2":
            body = data[pos + 10 : pos + 10 + size]
            return _id3_text(body)
        if not frame_id.strip(b"\x00") or size <= 0:
            return None
        pos += 10 + size
    return None


def _id3_text(body: bytes) -> str:
    encoding, text = body[:1], body[1:]
    codec = {b"\x00": "latin-1", b"\x01": "utf-16", b"\x02": "utf-16-be"}.get(encoding, "utf-8")
    return text.decode(codec, errors="replace").rstrip("\x00")


def _unsync(raw: bytes) -> int:
    return int.from_bytes(bytes(b & 0x7F for b in raw)) if len(raw) == 4 else 0


def read_vorbis_title(block: bytes) -> str | None:
    """``TITLE`` from a Vorbis comment block (the body after FLAC's or OpusTags' header)."""
    try:
        (vendor_len,) = struct.unpack_from("<I", block, 0)
        pos = 4 + vendor_len
        (count,) = struct.unpack_from("<I", block, pos)
        pos += 4
        for _ in range(count):
            (length,) = struct.unpack_from("<I", block, pos)
            comment = block[pos + 4 : pos + 4 + length].decode(errors="replace")
            pos += 4 + length
            key, _, value = comment.partition("=")
            if key.upper() == "TITLE":
                return value
    except struct.error:
        return None
    return None


def vorbis_comment(text: str, vendor: str = "fake-audio") -> bytes:
    """A Vorbis comment block with ``TITLE=text``."""
    comment = f"TITLE={text}".encode()
    return (
        struct.pack("<I", len(vendor))
        + vendor.encode()
        + struct.pack("<I", 1)
        + struct.pack("<I", len(comment))
        + comment
    )


def spoken_text(data: bytes, *, pcm_rate: int | None = None) -> str | None:
    """What the audio says: the voice code of WAV/PCM, else the title its container carries."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return read_voice(wav_pcm(data)[0])
    if data[:3] == b"ID3":
        return read_id3_title(data)
    if data[:4] == b"fLaC":
        return _flac_title(data)
    title = _tagged_title(data) or _webm_title(data) or _m4a_title(data)
    if title is not None:
        return title
    if pcm_rate is not None or len(data) % 2 == 0:
        return read_voice(data)
    return None


def _flac_title(data: bytes) -> str | None:
    pos = 4
    while pos + 4 <= len(data):
        header = data[pos]
        length = int.from_bytes(data[pos + 1 : pos + 4])
        if header & 0x7F == 4:
            return read_vorbis_title(data[pos + 4 : pos + 4 + length])
        if header & 0x80:
            return None
        pos += 4 + length
    return None


def _tagged_title(data: bytes) -> str | None:
    """``TITLE`` of an OpusTags packet anywhere in the first kilobytes (Ogg Opus, WebM)."""
    at = data.find(b"OpusTags", 0, 64 * 1024)
    if at < 0:
        return None
    return read_vorbis_title(data[at + 8 :])


def _webm_title(data: bytes) -> str | None:
    """Matroska's ``Title`` (element 0x7BA9, one-byte size) in a WebM file's Info."""
    if data[:4] != b"\x1a\x45\xdf\xa3":
        return None
    at = data.find(b"\x7b\xa9", 0, 64 * 1024)
    if at < 0 or not data[at + 2] & 0x80:
        return None
    size = data[at + 2] & 0x7F
    return data[at + 3 : at + 3 + size].decode(errors="replace")


def _m4a_title(data: bytes) -> str | None:
    """The ``udta/titl`` box ``audio_containers.m4a_file`` writes."""
    if data[4:8] != b"ftyp":
        return None
    at = data.find(b"titl")
    if at < 4:
        return None
    size = int.from_bytes(data[at - 4 : at])
    return data[at + 4 : at - 4 + size].decode(errors="replace")


def _pack(samples: list[int]) -> bytes:
    packed = array("h", samples)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()
