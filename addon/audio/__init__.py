"""Audio at the edge: what it is (sniffed), how long it lasts (read from headers), limits.

``inspect_audio`` turns uploaded bytes into an ``AudioInput`` or a 4xx: 413 over the size or
duration bound, 415 for bytes that are no accepted audio, 400 for raw PCM without its rate or
a malformed header. ``as_container`` wraps raw PCM as WAV for APIs that need a file format.
"""

from addon.audio.edge import (
    PCM_RATES,
    AudioLimits,
    describe_formats,
    inspect_audio,
    parse_declared,
)
from addon.audio.sniff import MIME_TYPES, sniff_audio
from addon.audio.wav import as_container, pcm_to_wav

__all__ = [
    "MIME_TYPES",
    "PCM_RATES",
    "AudioLimits",
    "as_container",
    "describe_formats",
    "inspect_audio",
    "parse_declared",
    "pcm_to_wav",
    "sniff_audio",
]
