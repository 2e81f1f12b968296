"""Token estimates made before a call, for rate-limit and budget reservations.

They err on the high side: a reservation that is too small could let concurrent requests pass
a budget, one that is too large only holds headroom until the call settles.
"""

from __future__ import annotations

import json
import math
from typing import Final

from addon.images import estimate_image_tokens
from addon.models import ChatRequest
from addon.providers.traits import ModelTraits

CHARS_PER_TOKEN: Final = 3.0  # English averages ~4; 3 keeps the estimate on the safe side
MESSAGE_OVERHEAD: Final = 8  # role markers and separators per message
REQUEST_OVERHEAD: Final = 16
UNKNOWN_IMAGE_TOKENS: Final = 1600  # an image we could not measure: the largest common cost
DEFAULT_OUTPUT_CAP: Final = 4096
"""Output cap assumed (and sent, when a budget applies) for requests without ``max_tokens``."""


def estimate_input_tokens(chat: ChatRequest, provider_type: str, detail: str | None) -> int:
    """A generous estimate of the input tokens of ``chat`` on a ``provider_type`` provider."""
    characters = sum(len(message.content) for message in chat.messages)
    if chat.json_schema is not None:
        characters += len(json.dumps(chat.json_schema))
    characters += _tool_characters(chat)
    tokens = math.ceil(characters / CHARS_PER_TOKEN)
    tokens += MESSAGE_OVERHEAD * len(chat.messages) + REQUEST_OVERHEAD
    for message in chat.messages:
        for image in message.images:
            if image.width and image.height:
                tokens += estimate_image_tokens(provider_type, image.width, image.height, detail)
            else:
                tokens += UNKNOWN_IMAGE_TOKENS
    return tokens


def _tool_characters(chat: ChatRequest) -> int:
    """Tool definitions, the calls in the history and the ids and names of the results."""
    definitions = [
        {"name": spec.name, "description": spec.description, "parameters": spec.parameters}
        for spec in chat.tools
    ]
    calls = [
        {"id": call.id, "name": call.name, "arguments": call.arguments}
        for message in chat.messages
        for call in message.tool_calls
    ]
    results = [
        (message.tool_call_id or "") + (message.tool_name or "") for message in chat.messages
    ]
    text = json.dumps([definitions, calls], default=str) if definitions or calls else ""
    return len(text) + sum(len(result) for result in results)


def output_cap(chat: ChatRequest, traits: ModelTraits) -> int:
    """The most output tokens this call may produce (thinking included)."""
    return chat.max_tokens or traits.default_max_tokens or DEFAULT_OUTPUT_CAP
