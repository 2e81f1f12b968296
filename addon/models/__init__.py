"""The hub's shared vocabulary: wire-neutral models that handlers, manager and providers use.

``chat`` describes a conversation (messages, images, tools, answers); ``hub`` wraps it with the
routing wishes of one request and the hub's answer. Nothing here imports another hub package.
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
    "FinishReason",
    "HealthStatus",
    "HubRequest",
    "HubResponse",
    "ImageInput",
    "Message",
    "ModelInfo",
    "RawImage",
    "Role",
    "StreamDelta",
    "ToolCall",
    "ToolChoice",
    "ToolChoiceMode",
    "ToolSpec",
    "Usage",
]
