"""The test audio itself: every format says its text back, and real decoders accept it.

The decoder check runs where ``ffprobe`` is installed (it is no dependency of the hub); the
round trip of the text runs everywhere.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes.audio import read_voice, speech_seconds, spoken_text, voice_pcm, wav_file
from tests.fakes.audio_containers import (
    aac_file,
    flac_file,
    m4a_file,
    mp3_file,
    ogg_opus_file,
    webm_file,
)

TEXTS = ["turn on the kitchen light", "Größe: 11 °C — ok", "ll", "a"]
WRITERS: dict[str, Callable[[str], bytes]] = {
    "wav": lambda text: wav_file(voice_pcm(text, 24_000), 24_000),
    "mp3": mp3_file,
    "aac": aac_file,
    "flac": flac_file,
    "opus": ogg_opus_file,
    "webm": webm_file,
    "m4a": m4a_file,
}


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_every_format_says_its_text(kind: str, text: str) -> None:
    assert spoken_text(WRITERS[kind](text)) == text


@pytest.mark.parametrize("rate", [8_000, 16_000, 24_000, 48_000])
def test_voice_code_survives_any_rate(rate: int) -> None:
    pcm = voice_pcm("hello world", rate)
    assert read_voice(pcm) == "hello world"
    assert len(pcm) / 2 / rate == pytest.approx(speech_seconds("hello world"), abs=1e-3)


def test_audio_without_the_code_says_nothing() -> None:
    assert read_voice(bytes(32_000)) is None
    assert spoken_text(wav_file(bytes(32_000))) is None


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")
@pytest.mark.parametrize("kind", sorted(set(WRITERS) - {"m4a"}))  # m4a is a skeleton
def test_real_decoders_accept_the_files(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"speech.{kind}"
    path.write_bytes(WRITERS[kind](TEXTS[0]))
    ffmpeg = shutil.which("ffmpeg") or "ffmpeg"
    run = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert run.returncode == 0
    assert run.stderr == ""
