"""The hub's shared vocabulary: wire-neutral models that handlers, manager and providers use.

``chat`` describes a conversation (messages, images, tools, answers); ``media`` the other
capabilities (embeddings, speech to text, text to speech, image generation); ``hub`` wraps a
chat with the routing wishes of one request and the hub's answer. Nothing here imports another
hub package.
"""

from addon.models.chat import (
    ChatRequest,
    ChatResponse,
    FinishReason,
    HealthStatus,
    ImageInput,
    Message,
    ModelInfo,
    Role,
    StreamDelta,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolSpec,
    Usage,
)
from addon.models.hub import DETAILS, Attempt, HubRequest, HubResponse, RawImage

__all__ = [
    "DETAILS",
    "Attempt",
    "ChatRequest",
    "ChatResponse",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "FinishReason",
    "GeneratedImage",
    "HealthStatus",
    "HubRequest",
    "HubResponse",
    "ImageInput",
    "ImageRequest",
    "ImageResponse",
    "Message",
    "ModelInfo",
    "RawImage",
    "Role",
    "SpeechRequest",
    "SpeechResponse",
    "StreamDelta",
    "ToolCall",
    "ToolChoice",
    "ToolChoiceMode",
    "ToolSpec",
    "TranscriptDelta",
    "TranscriptionRequest",
    "TranscriptionResponse",
    "Usage",
]
