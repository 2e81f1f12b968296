"""The chat vocabulary: messages, images, tools, requests and answers, wire-neutral.

Handlers build these from the wire (native API, OpenAI- and Ollama-compatible doors), the
manager routes them, providers map them to and from their SDK. No SDK type and no HTTP detail
appears here.

A tool conversation is described once, here:

* the request offers ``tools`` (``ToolSpec``: name, description, JSON-schema parameters) and may
  say how the model must use them (``ToolChoice``);
* the model answers with ``ToolCall`` items (``ChatResponse.tool_calls``, or complete calls in
  ``StreamDelta.tool_calls`` while streaming) and ``FinishReason.TOOL_CALLS``;
* the caller runs them and continues the conversation with the assistant turn that carries the
  calls (``Message.tool_calls``) followed by one ``Role.TOOL`` message per call
  (``Message.tool_call_id`` and ``Message.tool_name``, the result in ``content``).

Ids are the hub's to keep stable: a conversation whose calls came from one vendor can be
continued on another, each provider mapping ids (and names, where its vendor wants them) from
these messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """Who wrote a message."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class FinishReason(StrEnum):
    """Why the model stopped, normalised across vendors."""

    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ImageInput:
    """One image, already preprocessed: raw bytes and their MIME type."""

    data: bytes
    mime_type: str = "image/jpeg"
    width: int = 0  # 0 when unknown (not preprocessed)
    height: int = 0

    def __repr__(self) -> str:
        return f"ImageInput({self.mime_type}, {self.width}x{self.height}, {len(self.data)} bytes)"


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model may call: its name, what it does, and its JSON-schema parameters."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)


class ToolChoiceMode(StrEnum):
    """How the model must use the offered tools."""

    AUTO = "auto"  # the model decides
    NONE = "none"  # no tool call, text only
    REQUIRED = "required"  # at least one tool call
    TOOL = "tool"  # a call to the one named tool


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """The caller's wish about tool use; ``name`` is set only with ``ToolChoiceMode.TOOL``."""

    mode: ToolChoiceMode = ToolChoiceMode.AUTO
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the model made; ``arguments`` is the decoded JSON object."""

    id: str
    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message.

    Images ride on user messages. An assistant message may carry ``tool_calls``; a
    ``Role.TOOL`` message answers one of them: ``tool_call_id`` names the call, ``tool_name``
    the tool, ``content`` is the result (text, often JSON).
    """

    role: Role
    content: str
    images: tuple[ImageInput, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    tool_name: str | None = None


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A provider-neutral chat (or vision) request.

    ``model`` is the model to use (the manager resolves it before the call). ``json_schema``
    asks for structured output: the response then carries the parsed object in ``data``.
    ``tool_choice`` is None when the caller did not say (the vendor's default, i.e. auto);
    ``parallel_tool_calls`` None likewise. ``keep_alive`` is how long a local model server
    should keep the model loaded afterwards (Ollama's duration such as ``"5m"``, or seconds;
    ``-1`` forever); vendors without such a notion ignore it.
    """

    messages: tuple[Message, ...]
    model: str = ""
    max_tokens: int | None = None
    temperature: float | None = None
    stop: tuple[str, ...] = ()
    json_schema: Mapping[str, Any] | None = None
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    keep_alive: float | str | None = None

    @property
    def has_images(self) -> bool:
        """True when any message carries an image (the request needs vision)."""
        return any(message.images for message in self.messages)

    @property
    def uses_tools(self) -> bool:
        """True when the request offers tools or continues a tool conversation."""
        return bool(self.tools) or any(
            message.tool_calls or message.role is Role.TOOL for message in self.messages
        )

    @property
    def system_prompt(self) -> str | None:
        """All system messages joined (for vendors that take the system prompt apart)."""
        parts = [m.content for m in self.messages if m.role is Role.SYSTEM and m.content]
        return "\n\n".join(parts) if parts else None

    @property
    def conversation(self) -> tuple[Message, ...]:
        """The messages without the system ones."""
        return tuple(m for m in self.messages if m.role is not Role.SYSTEM)


@dataclass(frozen=True, slots=True)
class Usage:
    """What one call used.

    Tokens (output includes reasoning/thinking tokens), and for the capabilities billed
    otherwise: audio seconds, characters of synthesised text, images.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    audio_seconds: float = 0.0
    characters: int = 0
    images: int = 0

    @property
    def total_tokens(self) -> int:
        """Input plus output."""
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class ChatResponse:
    """A provider's answer, normalised."""

    text: str
    model: str
    usage: Usage
    finish_reason: FinishReason = FinishReason.STOP
    latency_ms: float = 0.0
    data: Any = None
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True, slots=True)
class StreamDelta:
    """One piece of a streamed answer.

    ``tool_calls`` carries tool calls once each is complete (providers assemble the vendor's
    argument fragments). The last delta carries usage and the finish reason. Providers leave
    ``provider`` empty; the manager names the provider (and the model) that is answering on
    every delta it passes on, so a front door can label each piece.
    """

    text: str = ""
    model: str | None = None
    provider: str | None = None
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model a provider offers."""

    id: str
    display_name: str | None = None
    vision: bool | None = None


@dataclass(frozen=True, slots=True)
class HealthStatus:
    """Result of one health check."""

    ok: bool
    latency_ms: float
    error_key: str | None = None
    message: str | None = None
