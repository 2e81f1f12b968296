"""Model names at the Ollama door: ``<provider>/<model>[:tag]`` pins, ``auto`` lets the hub route.

Ollama clients expect ``name:tag`` names and add ``:latest`` where a name has no tag, so the
door lists ``openai/gpt-4.1-mini:latest`` and reads ``:latest`` as "no tag". A configured model
that has a tag of its own (``ollama/gemma3:4b``) keeps it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

from addon.api.openai_request import resolve_target
from addon.errors import NotFoundError
from addon.hub_status import OfferedModel

AUTO: Final = "auto"
LATEST: Final = ":latest"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a request for one name goes: a provider and/or a model (empty: the hub chooses)."""

    provider: str | None
    model: str


def tag_name(provider: str, model: str) -> str:
    """The listed name of a provider's model."""
    name = f"{provider}/{model}"
    return name if ":" in model else name + LATEST


def auto_name() -> str:
    """The listed name of the model that lets the hub route."""
    return AUTO + LATEST


def resolve(name: str, providers: Collection[str]) -> Target:
    """The target of a requested model name (the rules of ``/v1``, after ``:latest``)."""
    bare = name.strip().removesuffix(LATEST)
    provider, model = resolve_target(bare, providers)
    return Target(provider, model)


def matching(
    name: str, offered: Sequence[OfferedModel], providers: Collection[str]
) -> list[OfferedModel]:
    """The offered models a name stands for; ``NotFoundError`` in Ollama's words when none."""
    target = resolve(name, providers)
    found = [
        m
        for m in offered
        if (target.provider in (None, m.provider)) and (target.model in ("", m.model))
    ]
    if not found:
        raise NotFoundError(f"model '{name}' not found; the hub offers those in /api/tags")
    return found
