"""Embeddings over OpenAI's ``/v1/embeddings`` (and the servers that speak it).

OpenAI answers ``base64`` (little-endian float32, a quarter of the JSON's size) when asked, as
its SDK does by default; an OpenAI-compatible server may not know that encoding, so it is asked
for ``float``. Either answer is read, whatever was asked.
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Literal, cast

from openai import AsyncOpenAI, omit

from addon.errors import ProviderResponseError
from addon.models import EmbeddingRequest, EmbeddingResponse, Usage
from addon.providers.media_calls import estimated_tokens

Encoding = Literal["float", "base64"]


async def create_embeddings(
    client: AsyncOpenAI,
    request: EmbeddingRequest,
    *,
    timeout: float,
    encoding: Encoding,
    provider: str,
) -> EmbeddingResponse:
    """``request.inputs`` embedded by ``request.model``, in input order."""
    response = await client.embeddings.create(
        model=request.model,
        input=list(request.inputs),
        dimensions=request.dimensions if request.dimensions is not None else omit,
        encoding_format=encoding,
        timeout=timeout,
    )
    items = sorted(response.data or (), key=lambda item: item.index)
    if [item.index for item in items] != list(range(len(items))):
        raise ProviderResponseError(f"{provider} returned embeddings out of order")
    vectors = tuple(decode(cast("object", item.embedding), provider) for item in items)
    usage = getattr(response, "usage", None)  # compatible servers may leave it out
    tokens = usage.prompt_tokens if usage is not None else estimated_tokens(request.inputs)
    return EmbeddingResponse(vectors, response.model or request.model, Usage(input_tokens=tokens))


def decode(embedding: object, provider: str) -> tuple[float, ...]:
    """A vector as sent: a list of numbers, or base64 of little-endian float32."""
    if isinstance(embedding, str):
        try:
            raw = base64.b64decode(embedding, validate=True)
            return struct.unpack(f"<{len(raw) // 4}f", raw)
        except (binascii.Error, struct.error) as err:
            raise ProviderResponseError(f"{provider} sent an embedding that is not base64") from err
    if isinstance(embedding, list) and all(
        isinstance(value, int | float) and not isinstance(value, bool) for value in embedding
    ):
        return tuple(float(value) for value in embedding)
    raise ProviderResponseError(f"{provider} sent an embedding that is not a list of numbers")
