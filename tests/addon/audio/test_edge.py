"""inspect_audio: what reaches a provider is audio of a known format within the bounds."""

from __future__ import annotations

import pytest

from addon.audio import AudioLimits, as_container, inspect_audio, parse_declared, pcm_to_wav
from addon.errors import HubError, InvalidRequestError, PayloadTooLargeError, UnsupportedMediaError
from addon.models.media import AudioFormat, AudioInput
from tests.fakes.audio import spoken_text, voice_pcm, wav_file, wav_pcm
from tests.fakes.audio_containers import flac_file, mp3_file, ogg_opus_file, webm_file

TEXT = "turn on the kitchen light"


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (wav_file(voice_pcm(TEXT)), AudioFormat.WAV),
        (mp3_file(TEXT), AudioFormat.MP3),
        (flac_file(TEXT), AudioFormat.FLAC),
        (ogg_opus_file(TEXT), AudioFormat.OGG),
        (webm_file(TEXT), AudioFormat.WEBM),
    ],
)
def test_containers_pass_with_their_duration(data: bytes, fmt: AudioFormat) -> None:
    audio = inspect_audio(data, declared="application/octet-stream")
    assert (audio.format, audio.data) == (fmt, data)
    assert audio.duration_s == pytest.approx(1.94, abs=0.03)


@pytest.mark.parametrize(
    ("declared", "rate", "channels", "expected"),
    [
        ("pcm", 16_000, None, (16_000, 1)),
        ("audio/L16;rate=16000;channels=1", None, None, (16_000, 1)),
        ("audio/pcm; rate=24000", None, None, (24_000, 1)),
        ("s16le", 8_000, 2, (8_000, 2)),
        ("audio/L16;rate=48000", 16_000, None, (16_000, 1)),  # the field wins over the MIME
    ],
)
def test_raw_pcm_is_taken_when_declared_with_its_rate(
    declared: str, rate: int | None, channels: int | None, expected: tuple[int, int]
) -> None:
    pcm = voice_pcm(TEXT, 16_000) * 2  # even for two channels
    audio = inspect_audio(pcm, declared=declared, sample_rate=rate, channels=channels)
    assert audio.format is AudioFormat.PCM
    assert (audio.sample_rate, audio.channels) == expected
    assert audio.duration_s == pytest.approx(len(pcm) / (2 * expected[0] * expected[1]), abs=1e-3)


def test_declared_pcm_that_is_really_a_wav_is_the_wav() -> None:
    wav = wav_file(voice_pcm(TEXT))
    assert inspect_audio(wav, declared="pcm").format is AudioFormat.WAV


@pytest.mark.parametrize(
    ("data", "kwargs", "error", "field_or_detail"),
    [
        (b"", {}, InvalidRequestError, ("field", "file")),
        (voice_pcm(TEXT), {}, UnsupportedMediaError, ("detected", "unknown")),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), {}, UnsupportedMediaError, ("detected", "image/png")),
        (voice_pcm(TEXT), {"declared": "pcm"}, InvalidRequestError, ("field", "sample_rate")),
        (
            voice_pcm(TEXT),
            {"declared": "pcm", "sample_rate": 96_000},
            InvalidRequestError,
            ("field", "sample_rate"),
        ),
        (
            voice_pcm(TEXT) + b"x",
            {"declared": "pcm", "sample_rate": 16_000},
            InvalidRequestError,
            ("field", "file"),
        ),
        (
            voice_pcm(TEXT),
            {"declared": "pcm", "sample_rate": 16_000, "channels": 6},
            InvalidRequestError,
            ("field", "channels"),
        ),
        (wav_file(bytes(100)), {}, InvalidRequestError, ("field", "file")),  # 3 ms: too short
    ],
)
def test_refusals_carry_a_key_and_say_what_to_fix(
    data: bytes, kwargs: dict[str, object], error: type[HubError], field_or_detail: tuple[str, str]
) -> None:
    with pytest.raises(error) as caught:
        inspect_audio(data, **kwargs)  # type: ignore[arg-type]
    key, value = field_or_detail
    assert caught.value.details[key] == value
    assert caught.value.to_dict()["key"] in {"invalid_request", "unsupported_media"}


def test_size_limit_is_a_413_before_anything_is_parsed() -> None:
    limits = AudioLimits(max_bytes=1000)
    with pytest.raises(PayloadTooLargeError) as caught:
        inspect_audio(b"\x00" * 1001, limits=limits)
    assert caught.value.status == 413
    assert caught.value.details == {"limit_bytes": 1000}


@pytest.mark.parametrize(
    ("data", "kwargs", "estimated"),
    [
        (wav_file(voice_pcm(TEXT)), {}, False),
        (voice_pcm(TEXT), {"declared": "pcm", "sample_rate": 16_000}, False),
        (b"\x1a\x45\xdf\xa3\x84\x42\x82\x84webm" + bytes(20_000), {}, True),
    ],
)
def test_duration_bound_is_a_413_naming_the_limit(
    data: bytes, kwargs: dict[str, object], estimated: bool
) -> None:
    with pytest.raises(PayloadTooLargeError) as caught:
        inspect_audio(data, limits=AudioLimits(max_seconds=1.0), **kwargs)  # type: ignore[arg-type]
    assert caught.value.details["limit_s"] == 1.0
    assert caught.value.details["duration_s"] > 1.0
    assert ("estimated" in caught.value.message) is estimated


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        (None, (False, None, None)),
        ("audio/wav", (False, None, None)),
        ("audio/L16;rate=16000;channels=2", (True, 16_000, 2)),
        ("PCM", (True, None, None)),
        ("audio/pcm;rate=abc", (True, None, None)),
    ],
)
def test_parse_declared(
    declared: str | None, expected: tuple[bool, int | None, int | None]
) -> None:
    assert parse_declared(declared) == expected


def test_as_container_wraps_pcm_as_a_wav_that_says_the_same() -> None:
    pcm = voice_pcm(TEXT, 16_000)
    raw = AudioInput(pcm, AudioFormat.PCM, sample_rate=16_000, channels=1, duration_s=1.94)
    wrapped = as_container(raw)
    assert wrapped.format is AudioFormat.WAV
    assert wav_pcm(wrapped.data) == (pcm, 16_000, 1)
    assert spoken_text(wrapped.data) == TEXT
    mp3 = inspect_audio(mp3_file(TEXT))
    assert as_container(mp3) is mp3


def test_pcm_to_wav_drops_a_partial_frame() -> None:
    assert wav_pcm(pcm_to_wav(b"\x01\x02\x03", 8_000)) == (b"\x01\x02", 8_000, 1)
