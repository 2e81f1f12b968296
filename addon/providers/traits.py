"""Per-model capabilities and quirks, read from ``traits.yaml`` (data, not scattered ifs)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, fields
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from addon.yaml_files import safe_load

TRAITS_FILE = Path(__file__).with_name("traits.yaml")


@dataclass(frozen=True, slots=True)
class ModelTraits:
    """What a model can do and how its vendor wants to be asked.

    ``max_tokens_param`` names the request field for the output cap (OpenAI's newer models take
    ``max_completion_tokens``); ``temperature`` is False where the model rejects it;
    ``default_max_tokens`` is sent when the caller gives none and the vendor requires one
    (Anthropic); ``thinking`` marks models whose reasoning tokens count as output;
    ``system_prompt`` is False where the vendor refuses a separate system prompt (Gemma on the
    Gemini API), so the provider folds it into the first user turn; ``thought_signatures``
    marks models that refuse a replayed tool call without its signature (Gemini 3).

    The capabilities beyond chat: ``embeddings``, ``transcription`` (audio in, text out),
    ``speech`` (text in, audio out) and ``images`` (image generation); ``chat`` is False for a
    model that only does one of those (an embedding model cannot chat).
    """

    vision: bool = False
    tools: bool = True
    json_schema: bool = True
    temperature: bool = True
    max_tokens_param: str = "max_tokens"
    default_max_tokens: int | None = None
    thinking: bool = False
    system_prompt: bool = True
    thought_signatures: bool = False
    chat: bool = True
    embeddings: bool = False
    transcription: bool = False
    speech: bool = False
    images: bool = False


_FIELDS = {f.name for f in fields(ModelTraits)}


@cache
def _table() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    raw = safe_load(TRAITS_FILE.read_text(encoding="utf-8"))
    table: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for provider_type, entries in raw.items():
        rows = []
        for entry in entries:
            pattern = str(entry["match"])
            values = {k: v for k, v in entry.items() if k != "match"}
            unknown = set(values) - _FIELDS
            if unknown:
                raise ValueError(f"traits.yaml: unknown keys {sorted(unknown)} for {pattern}")
            rows.append((pattern, values))
        table[provider_type] = rows
    return table


@lru_cache(maxsize=1024)  # callers name models: bounded
def traits_for(provider_type: str, model: str) -> ModelTraits:
    """Traits of ``model`` for a provider type: the first matching pattern wins, ``*`` last."""
    name = model.lower().split("/")[-1] if provider_type != "ollama" else model.lower()
    for pattern, values in _table().get(provider_type, []):
        if fnmatch.fnmatchcase(name, pattern):
            return ModelTraits(**values)
    return ModelTraits()
