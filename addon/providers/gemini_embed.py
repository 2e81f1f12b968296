"""Embeddings over the Gemini API (``models/{model}:batchEmbedContents``, via the SDK).

The API takes at most 100 texts per batch, so longer lists go in batches of 100, one after
the other under the call's one deadline. ``output_dimensionality`` asks for shorter vectors.
The token count comes from the answer's ``usageMetadata`` when the API sends it, else it is
estimated (about four characters per token).
"""

from __future__ import annotations

from typing import Final

from google import genai
from google.genai import types

from addon.errors import ProviderResponseError
from addon.models import EmbeddingRequest, EmbeddingResponse, Usage
from addon.providers.media_calls import estimated_tokens

BATCH: Final = 100


async def embed_contents(
    client: genai.Client,
    request: EmbeddingRequest,
    *,
    options: types.HttpOptions,
    provider: str,
) -> EmbeddingResponse:
    """``request.inputs`` embedded by ``request.model``, in input order."""
    vectors: list[tuple[float, ...]] = []
    tokens = 0
    config = types.EmbedContentConfig(
        output_dimensionality=request.dimensions, http_options=options
    )
    for start in range(0, len(request.inputs), BATCH):
        texts = list(request.inputs[start : start + BATCH])
        contents = [types.Content(parts=[types.Part(text=text)]) for text in texts]
        response = await client.aio.models.embed_content(
            model=request.model, contents=contents, config=config
        )
        values = [embedding.values for embedding in response.embeddings or ()]
        if len(values) != len(texts) or any(v is None for v in values):
            raise ProviderResponseError(
                f"{provider} returned {len(values)} embeddings for {len(texts)} texts"
            )
        vectors.extend(tuple(v) for v in values if v is not None)
        metadata = response.usage_metadata
        counted = metadata.prompt_token_count if metadata is not None else None
        tokens += counted if counted is not None else estimated_tokens(texts)
    return EmbeddingResponse(tuple(vectors), request.model, Usage(input_tokens=tokens))
