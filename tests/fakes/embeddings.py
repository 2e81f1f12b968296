"""Embeddings as the vendors' endpoints give them: deterministic vectors, each vendor's wire.

Vectors are a function of the text and the length asked for (SHA-256 of the text seeds every
component), scaled to unit length: the same text always embeds the same, different texts
differently, and a shorter vector is the longer one cut and normalised again (as models
trained for shortening, such as ``text-embedding-3-*`` and ``gemini-embedding-001``, do).

One builder per vendor checks a request as that API does (from its reference) and returns the
response body, or raises ``Refusal`` with the status and message that API answers:

- OpenAI ``POST /v1/embeddings``: ``input`` (a string or up to 2048 strings, none empty),
  ``model``, ``dimensions`` (``text-embedding-3-*`` only, 1 to the model's size),
  ``encoding_format`` (``float``, or ``base64``: little-endian float32 bytes, the SDK's
  default); the answer is a ``list`` of ``embedding`` objects by ``index`` with ``usage``
  (``prompt_tokens``, ``total_tokens``).
- Gemini ``POST /v1beta/models/{model}:batchEmbedContents``: ``requests`` (1 to 100), each with
  the same ``model``, a ``content`` of text ``parts`` and an optional ``outputDimensionality``;
  the answer is ``embeddings`` (``values``) in order, and ``usageMetadata``.
- Ollama ``POST /api/embed``: ``model``, ``input`` (a string or strings), optional
  ``dimensions``, ``truncate``, ``options``, ``keep_alive``; the answer carries ``embeddings``,
  the timings and ``prompt_eval_count``.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

OPENAI_DIMENSIONS: Final = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
GEMINI_DIMENSIONS: Final = {"gemini-embedding-001": 3072, "text-embedding-004": 768}
OLLAMA_DIMENSIONS: Final = {
    "embeddinggemma": 768,
    "nomic-embed-text": 768,
    "mxbai-embed-large": 1024,
    "all-minilm": 384,
}
OPENAI_MAX_INPUTS: Final = 2048
GEMINI_MAX_REQUESTS: Final = 100
OPENAI_INPUT_INVALID: Final = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."


@dataclass
class Refusal(Exception):  # noqa: N818 - the vendor's answer, not our error
    """What the vendor answers instead of embeddings."""

    status: int
    message: str
    param: str | None = None
    code: str | None = None


def vector(text: str, dimensions: int) -> list[float]:
    """The deterministic unit vector of ``text`` with ``dimensions`` components."""
    seed = hashlib.sha256(text.encode("utf-8")).digest()
    values = []
    for index in range(dimensions):
        block = hashlib.sha256(seed + index.to_bytes(4, "big")).digest()
        values.append(int.from_bytes(block[:4], "big") / 2**31 - 1.0)
    norm = math.sqrt(math.fsum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def tokens(text: str) -> int:
    """The fake's token count of ``text`` (about four characters per token, at least one)."""
    return max(1, math.ceil(len(text) / 4))


def float32_base64(values: list[float]) -> str:
    """``values`` as OpenAI's ``base64`` encoding: little-endian float32, base64."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")


# --- OpenAI ----------------------------------------------------------------------------------
def openai_embeddings(body: Any, *, known: Callable[[str], bool]) -> dict[str, Any]:
    """The body of ``POST /v1/embeddings`` for ``body``, or ``Refusal``."""
    if not isinstance(body, dict):
        raise Refusal(400, "We could not parse the JSON body of your request.")
    model = body.get("model")
    if not model:
        raise Refusal(400, "you must provide a model parameter")
    texts = _openai_inputs(body.get("input"))
    if not known(str(model)) or str(model) not in OPENAI_DIMENSIONS:
        raise Refusal(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )
    size = _openai_dimensions(str(model), body.get("dimensions"))
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise Refusal(
            400,
            f"Invalid value: '{encoding}'. Supported values are: 'float' and 'base64'.",
            param="encoding_format",
            code="invalid_value",
        )
    data = []
    for index, text in enumerate(texts):
        values = vector(text, size)
        embedding: Any = float32_base64(values) if encoding == "base64" else values
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    used = sum(tokens(text) for text in texts)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": used, "total_tokens": used},
    }


def _openai_inputs(value: Any) -> list[str]:
    texts = [value] if isinstance(value, str) else value
    if (
        not isinstance(texts, list)
        or not texts
        or len(texts) > OPENAI_MAX_INPUTS
        or not all(isinstance(text, str) and text for text in texts)
    ):
        raise Refusal(400, OPENAI_INPUT_INVALID)
    return texts


def _openai_dimensions(model: str, value: Any) -> int:
    native = OPENAI_DIMENSIONS[model]
    if value is None:
        return native
    if not model.startswith("text-embedding-3"):
        raise Refusal(400, "This model does not support specifying dimensions.")
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= native:
        raise Refusal(
            400,
            f"Invalid value for 'dimensions' = {value}. Must be between 1 and {native}.",
            param="dimensions",
            code="invalid_value",
        )
    return value


# --- Gemini ----------------------------------------------------------------------------------
def gemini_batch(model: str, body: Any, *, usage: bool = True) -> dict[str, Any]:
    """The body of ``batchEmbedContents`` on ``model`` for ``body``, or ``Refusal``."""
    size = GEMINI_DIMENSIONS.get(model)
    if size is None:
        raise Refusal(
            404,
            f"models/{model} is not found for API version v1beta, or is not supported for "
            "embedContent. Call ListModels to see the list of available models and their "
            "supported methods.",
        )
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise Refusal(400, "* BatchEmbedContentsRequest.requests: requests is required")
    if len(requests) > GEMINI_MAX_REQUESTS:
        raise Refusal(
            400,
            "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch",
        )
    embeddings, used = [], 0
    for index, item in enumerate(requests):
        text, dimensions = _gemini_request(model, index, item, size)
        embeddings.append({"values": vector(text, dimensions)})
        used += tokens(text)
    answer: dict[str, Any] = {"embeddings": embeddings}
    if usage:
        answer["usageMetadata"] = {"promptTokenCount": used, "totalTokenCount": used}
    return answer


def _gemini_request(model: str, index: int, item: Any, size: int) -> tuple[str, int]:
    where = f"* BatchEmbedContentsRequest.requests[{index}]"
    if not isinstance(item, Mapping) or item.get("model") != f"models/{model}":
        raise Refusal(400, f"{where}.model: model must be the same as the batch model")
    parts = (item.get("content") or {}).get("parts") or []
    text = "".join(str(part.get("text", "")) for part in parts if isinstance(part, Mapping))
    if not text:
        raise Refusal(400, f"{where}.content: contents must not be empty")
    dimensions = item.get("outputDimensionality", size)
    if not isinstance(dimensions, int) or not 1 <= dimensions <= size:
        raise Refusal(
            400,
            f"{where}.output_dimensionality: Output dimensionality must be between 1 and {size}",
        )
    return text, dimensions


# --- Ollama ----------------------------------------------------------------------------------
def ollama_embed(body: Any, *, installed: Callable[[str], str | None]) -> dict[str, Any]:
    """The body of ``POST /api/embed`` for ``body``, or ``Refusal``."""
    if not isinstance(body, dict) or not body.get("model"):
        raise Refusal(400, "model is required")
    name = str(body["model"])
    found = installed(name)
    if found is None:
        raise Refusal(404, f'model "{name}" not found, try pulling it first')
    size = OLLAMA_DIMENSIONS.get(found.split(":", 1)[0])
    if size is None:
        raise Refusal(500, "this model does not support embeddings")
    value = body.get("input", "")
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        raise Refusal(400, "invalid input type")
    dimensions = body.get("dimensions") or size
    if not isinstance(dimensions, int) or not 1 <= dimensions <= size:
        raise Refusal(400, f"dimensions must be between 1 and {size}")
    embeddings = [vector(text, dimensions) for text in texts if text]
    return {
        "model": found,
        "embeddings": embeddings,
        "total_duration": 14_143_917,
        "load_duration": 1_019_500,
        "prompt_eval_count": sum(tokens(text) for text in texts if text),
    }
