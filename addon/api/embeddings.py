"""Embeddings: ``POST /api/v1/embeddings`` (the hub's shape) and ``POST /v1/embeddings`` (OpenAI's).

Texts are checked at the edge: one text or a list of up to 2048, none empty, each at most
32,768 characters (the vendors' 8,192-token limit) and 1,000,000 characters in all. Both doors
call the manager's ``embed``: the same routing, failover, budgets, cache and ledger as chat.
"""

from __future__ import annotations

import base64
import struct
from typing import Any, Final

import voluptuous as vol
from aiohttp import web

from addon.api.body import checked_fields, read_json
from addon.api.context import hub
from addon.api.envelope import request_id
from addon.api.openai_compat import ATTEMPTS_HEADER, format_attempts, model_id
from addon.api.openai_request import resolve_target
from addon.errors import PayloadTooLargeError
from addon.models import EmbeddingRequest, EmbeddingResponse, MediaRequest, MediaResponse
from addon.settings import STRATEGIES
from addon.validation import caller_tag, whole

MAX_INPUTS: Final = 2048
MAX_INPUT_CHARS: Final = 32_768
MAX_TOTAL_CHARS: Final = 1_000_000
MAX_DIMENSIONS: Final = 8192


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("must be a non-empty string")
    if len(value) > MAX_INPUT_CHARS:
        raise vol.Invalid(f"must be at most {MAX_INPUT_CHARS} characters")
    return value


INPUT: Final = vol.Any(
    _text,
    vol.All([_text], vol.Length(min=1, max=MAX_INPUTS)),
    msg=f"must be a non-empty text or a list of 1 to {MAX_INPUTS} of them",
)
EMBEDDINGS_SCHEMA: Final = vol.Schema(
    {
        vol.Required("input"): INPUT,
        vol.Optional("provider"): vol.Any(None, vol.All(str, vol.Length(min=1))),
        vol.Optional("model"): vol.Any(None, vol.All(str, vol.Length(min=1))),
        vol.Optional("dimensions"): vol.Any(whole(1, MAX_DIMENSIONS), None),
        vol.Optional("tag"): vol.Any(caller_tag, None),
        vol.Optional("strategy"): vol.Any(None, vol.In(STRATEGIES)),
        vol.Optional("cache"): bool,
    }
)
OPENAI_EMBEDDINGS_SCHEMA: Final = vol.Schema(
    {
        vol.Required("input"): INPUT,
        vol.Optional("model"): vol.Any(None, str),
        vol.Optional("dimensions"): vol.Any(whole(1, MAX_DIMENSIONS), None),
        vol.Optional("encoding_format"): vol.Any(None, vol.In(("float", "base64"))),
        vol.Optional("user"): vol.Any(None, vol.All(str, vol.Length(max=256))),
    }
)


def _validate(schema: vol.Schema, body: Any) -> dict[str, Any]:
    data = checked_fields(schema, body)
    texts = _texts(data["input"])
    total = sum(len(text) for text in texts)
    if total > MAX_TOTAL_CHARS:
        raise PayloadTooLargeError(
            f"The texts have {total} characters; at most {MAX_TOTAL_CHARS} per request"
        )
    return data


def _texts(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


# --- the hub's own door ---------------------------------------------------------------------
async def embeddings(request: web.Request) -> web.StreamResponse:
    """One vector per text: ``{vectors, dimensions, provider, model, usage, cost_usd, ...}``."""
    data = _validate(EMBEDDINGS_SCHEMA, await read_json(request))
    media = MediaRequest(
        EmbeddingRequest(_texts(data["input"]), data.get("model") or "", data.get("dimensions")),
        request_id=request_id(request),
        provider=data.get("provider"),
        tag=data.get("tag"),
        strategy=data.get("strategy"),
        cache=data.get("cache"),
    )
    response = await hub(request).manager.embed(media)
    return web.json_response(native_body(response))


def native_body(response: MediaResponse[EmbeddingResponse]) -> dict[str, Any]:
    """The hub's answer: the common figures plus the vectors."""
    vectors = response.result.vectors
    return {
        **response.to_dict(),
        "dimensions": len(vectors[0]) if vectors else 0,
        "vectors": [list(vector) for vector in vectors],
    }


# --- the OpenAI-compatible door -------------------------------------------------------------
async def openai_embeddings(request: web.Request) -> web.StreamResponse:
    """OpenAI's ``embeddings`` endpoint: a ``list`` of ``embedding`` objects and ``usage``.

    ``model`` pins as on chat completions: ``auto`` (or nothing), ``<provider>``,
    ``<provider>/<model>``, or a bare model name. ``encoding_format: base64`` answers
    little-endian float32 (what OpenAI's SDKs ask for by default).
    """
    data = _validate(OPENAI_EMBEDDINGS_SCHEMA, await read_json(request))
    manager = hub(request).manager
    names = [settings.name for settings in manager.configured()]
    provider, model = resolve_target(data.get("model"), names)
    media = MediaRequest(
        EmbeddingRequest(_texts(data["input"]), model, data.get("dimensions")),
        request_id=request_id(request),
        provider=provider,
    )
    response = await manager.embed(media)
    attempts = format_attempts((a.provider, a.outcome) for a in response.attempts)
    return web.json_response(
        openai_body(response, data.get("encoding_format") or "float"),
        headers={ATTEMPTS_HEADER: attempts},
    )


def openai_body(response: MediaResponse[EmbeddingResponse], encoding: str) -> dict[str, Any]:
    """OpenAI's ``list`` of ``embedding`` objects, by index, with the usage."""
    data = [
        {"object": "embedding", "index": index, "embedding": _encode(vector, encoding)}
        for index, vector in enumerate(response.result.vectors)
    ]
    tokens = response.usage.input_tokens
    return {
        "object": "list",
        "data": data,
        "model": model_id(response.provider, response.model),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _encode(vector: tuple[float, ...], encoding: str) -> Any:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return list(vector)
