"""RIFF/WAVE around raw PCM (Gemini speaks raw PCM; OpenAI's transcription wants a container)."""

from __future__ import annotations

import io
import struct
import wave
from dataclasses import replace
from typing import Final

from addon.models.media import AudioFormat, AudioInput

UNKNOWN_SIZE: Final = 0xFFFFFFFF


def pcm_to_wav(pcm: bytes, sample_rate: int, channels: int = 1) -> bytes:
    """A WAV file of signed 16-bit little-endian ``pcm`` (a trailing odd byte is dropped)."""
    frame = 2 * channels
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(pcm[: len(pcm) - len(pcm) % frame])
    return out.getvalue()


def streaming_wav_header(sample_rate: int, channels: int = 1) -> bytes:
    """A WAV header for 16-bit PCM of unknown length (sizes 0xFFFFFFFF, as streaming writers do).

    Decoders read such a file to its end; the hub's own duration reader does too.
    """
    block = 2 * channels
    fmt = struct.pack("<HHIIHH", 1, channels, sample_rate, sample_rate * block, block, 16)
    return (
        b"RIFF"
        + struct.pack("<I", UNKNOWN_SIZE)
        + b"WAVEfmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", UNKNOWN_SIZE)
    )


def as_container(audio: AudioInput) -> AudioInput:
    """``audio`` itself, or raw PCM wrapped as WAV (for APIs that need a file format)."""
    if audio.format is not AudioFormat.PCM:
        return audio
    rate = audio.sample_rate or 16_000
    channels = audio.channels or 1
    return replace(
        audio,
        data=pcm_to_wav(audio.data, rate, channels),
        format=AudioFormat.WAV,
        sample_rate=rate,
        channels=channels,
    )
