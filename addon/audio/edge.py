"""Checking uploaded audio before any provider sees it: format, size, duration, PCM framing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from addon.audio.duration import Measured, measure, pcm_seconds
from addon.audio.sniff import describe_unsupported, sniff_audio
from addon.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaError
from addon.models.media import AudioFormat, AudioInput

PCM_RATES: Final = range(8_000, 48_001)
_PCM_NAMES: Final = frozenset({"pcm", "s16le", "audio/pcm", "audio/l16", "audio/x-raw"})
_ACCEPTED: Final = (
    "WAV, MP3, Ogg (Opus/Vorbis), FLAC, M4A/MP4, AAC (ADTS), WebM, or raw 16-bit PCM with "
    "its sample_rate"
)


@dataclass(frozen=True, slots=True)
class AudioLimits:
    """Bounds of one upload: OpenAI's 25 MB file limit, half an hour, OpenAI's 0.1 s floor."""

    max_bytes: int = 25 * 1024 * 1024
    max_seconds: float = 1800.0
    min_seconds: float = 0.1


def describe_formats() -> str:
    """The accepted formats in words (for errors and documentation)."""
    return _ACCEPTED


def parse_declared(declared: str | None) -> tuple[bool, int | None, int | None]:
    """Whether a declared type means raw PCM, with the ``rate``/``channels`` it carries.

    Takes a format name (``pcm``, ``s16le``) or a MIME type with parameters
    (``audio/L16;rate=16000;channels=1``, ``audio/pcm;rate=24000``). Other declarations say
    nothing: the bytes are sniffed.
    """
    if not declared:
        return False, None, None
    name, *params = (part.strip() for part in declared.split(";"))
    if name.lower() not in _PCM_NAMES:
        return False, None, None
    values = dict(p.partition("=")[::2] for p in params)
    return True, _int(values.get("rate")), _int(values.get("channels"))


def inspect_audio(
    data: bytes,
    *,
    declared: str | None = None,
    sample_rate: int | None = None,
    channels: int | None = None,
    limits: AudioLimits | None = None,
) -> AudioInput:
    """``data`` as an ``AudioInput`` after the edge's checks (see the package doc).

    ``declared`` is the caller's format or MIME type: it matters only for raw PCM, which has
    no signature; ``sample_rate``/``channels`` complete it (or come in the MIME parameters).
    """
    limits = limits or AudioLimits()
    if not data:
        raise InvalidRequestError("The audio is empty", field="file")
    if len(data) > limits.max_bytes:
        raise PayloadTooLargeError(
            f"The audio is {len(data)} bytes; at most {limits.max_bytes} bytes "
            f"({limits.max_bytes // (1024 * 1024)} MiB)",
            limit_bytes=limits.max_bytes,
        )
    fmt = sniff_audio(data)
    is_pcm, declared_rate, declared_channels = parse_declared(declared)
    if fmt is None and is_pcm:
        rate = sample_rate or declared_rate
        return _pcm(data, rate, channels or declared_channels or 1, limits)
    if fmt is None:
        detected = describe_unsupported(data)
        raise UnsupportedMediaError(
            f"Unsupported audio type {detected}: send {_ACCEPTED}", detected=detected
        )
    measured = measure(data, fmt)
    _check_duration(measured, limits)
    return AudioInput(
        data=data,
        format=fmt,
        sample_rate=measured.sample_rate,
        channels=measured.channels,
        duration_s=round(measured.seconds, 3),
    )


def _pcm(data: bytes, rate: int | None, channels: int, limits: AudioLimits) -> AudioInput:
    if rate is None or rate not in PCM_RATES:
        raise InvalidRequestError(
            "Raw PCM needs its sample_rate, from 8000 to 48000 Hz", field="sample_rate"
        )
    if channels not in (1, 2):
        raise InvalidRequestError("Raw PCM has 1 or 2 channels", field="channels")
    frame = 2 * channels
    if len(data) % frame:
        raise InvalidRequestError(
            f"Raw PCM is 16-bit: its length must be a multiple of {frame} bytes", field="file"
        )
    seconds = pcm_seconds(len(data), rate, channels)
    _check_duration(Measured(seconds, exact=True), limits)
    return AudioInput(
        data=data,
        format=AudioFormat.PCM,
        sample_rate=rate,
        channels=channels,
        duration_s=round(seconds, 3),
    )


def _check_duration(measured: Measured, limits: AudioLimits) -> None:
    how = "" if measured.exact else " (estimated from its size)"
    if measured.seconds > limits.max_seconds:
        raise PayloadTooLargeError(
            f"The audio lasts {measured.seconds:.1f} s{how}; at most {limits.max_seconds:g} s",
            duration_s=round(measured.seconds, 3),
            limit_s=limits.max_seconds,
        )
    if measured.exact and measured.seconds < limits.min_seconds:
        raise InvalidRequestError(
            f"The audio is too short ({measured.seconds:.3f} s): at least {limits.min_seconds:g} s",
            field="file",
        )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
