"""The add-on's answers beyond chat (embeddings, transcripts, speech, images) as dataclasses.

Same rules as ``api_models``: checked on arrival, unknown fields ignored, optional ones
defaulted. Speech comes back as audio, so its figures are read from the answer's headers.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .api_errors import HubResponseError
from .api_models import Attempt, Model

# The add-on's speech answers carry their figures in these headers (the body is the audio).
REQUEST_ID_HEADER: Final = "X-Request-ID"
PROVIDER_HEADER: Final = "X-Hub-Provider"
MODEL_HEADER: Final = "X-Hub-Model"
COST_HEADER: Final = "X-Hub-Cost-USD"


@dataclass(frozen=True, slots=True)
class MediaUsage(Model):
    """What one call used, in every unit a capability may be billed in."""

    input_tokens: int = 0
    output_tokens: int = 0
    audio_seconds: float = 0.0
    characters: int = 0
    images: int = 0


@dataclass(frozen=True, slots=True)
class MediaResult(Model):
    """The figures every media answer carries (who answered, what it cost, every attempt)."""

    request_id: str
    provider: str
    model: str
    usage: MediaUsage = field(default_factory=MediaUsage)
    cost_usd: float | None = None
    latency_ms: float = 0.0
    cached: bool = False
    attempts: list[Attempt] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Embeddings(MediaResult):
    """``POST /api/v1/embeddings``: one vector per input text, in order."""

    vectors: list[list[float]] = field(default_factory=list)
    dimensions: int = 0


@dataclass(frozen=True, slots=True)
class Transcript(MediaResult):
    """``POST /api/v1/transcriptions``: what the audio says."""

    text: str = ""
    language: str | None = None


@dataclass(frozen=True, slots=True)
class GeneratedImage(Model):
    """One picture of ``POST /api/v1/images`` (``data``: base64 of the encoded image)."""

    data: str
    mime_type: str = "image/png"
    revised_prompt: str | None = None

    def __post_init__(self) -> None:
        """Refuse (at parse time) data that is not base64."""
        self.content()

    def content(self) -> bytes:
        """The image's bytes."""
        try:
            return base64.b64decode(self.data, validate=True)
        except binascii.Error as err:
            raise ValueError("not base64") from err


@dataclass(frozen=True, slots=True)
class Images(MediaResult):
    """``POST /api/v1/images``: the generated pictures."""

    images: list[GeneratedImage] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SpeechInfo:
    """What the headers of a ``POST /api/v1/speech`` answer say about its audio."""

    content_type: str
    request_id: str | None = None
    provider: str | None = None
    model: str | None = None
    cost_usd: float | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> SpeechInfo:
        """Read the figures the add-on sends beside the audio (missing ones stay ``None``)."""
        content_type = headers.get("Content-Type", "").split(";", 1)[0].strip()
        if not content_type.startswith("audio/"):
            raise HubResponseError(f"POST /api/v1/speech: answer is {content_type or 'untyped'}")
        return cls(
            content_type=content_type,
            request_id=headers.get(REQUEST_ID_HEADER),
            provider=headers.get(PROVIDER_HEADER),
            model=headers.get(MODEL_HEADER),
            cost_usd=_number(headers.get(COST_HEADER)),
        )


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
