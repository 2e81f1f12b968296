"""Turning a hub request into one provider's call: its model and its prepared images."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from addon.models import ChatRequest, HubRequest, ImageInput, Message, RawImage, Role
from addon.providers.base import Provider

ImagePreparer = Callable[
    [Sequence[RawImage], str, str | None, float], Awaitable[tuple[ImageInput, ...]]
]
"""Prepares a request's images for one provider type.

Arguments: ``images, provider_type, detail, timeout`` (seconds left of the request's deadline).
"""


async def passthrough_images(
    images: Sequence[RawImage], _provider_type: str, _detail: str | None, _timeout: float
) -> tuple[ImageInput, ...]:
    """Hand images on unchanged (where no preprocessing is wanted, e.g. unit tests)."""
    return tuple(ImageInput(i.data, i.declared_type or "image/jpeg") for i in images)


def model_for(provider: Provider, request: HubRequest) -> str:
    """The model ``provider`` would use for ``request``."""
    if request.chat.model:
        return request.chat.model
    if request.needs_vision and provider.settings.vision_model:
        return provider.settings.vision_model
    return provider.resolve_model(request.chat)


def chat_with_model(provider: Provider, request: HubRequest) -> ChatRequest:
    """``request``'s chat with the model ``provider`` would use (images not yet attached)."""
    return replace(request.chat, model=model_for(provider, request))


class CallPreparer:
    """Builds the provider-ready chats of one request.

    Images are prepared once per provider type, so a failover to a provider of the same type
    does not decode them again.
    """

    def __init__(self, request: HubRequest, prepare_images: ImagePreparer) -> None:
        self._request = request
        self._prepare_images = prepare_images
        self._prepared: dict[str, tuple[ImageInput, ...]] = {}

    async def chat_for(self, provider: Provider, timeout: float) -> ChatRequest:
        """The chat for ``provider``: model resolved, images prepared for its type.

        Preparing images counts against the request's deadline: ``timeout`` is what is left.
        """
        request = self._request
        chat = chat_with_model(provider, request)
        if not request.images:
            return chat
        kind = provider.settings.type
        if kind not in self._prepared:
            self._prepared[kind] = await self._prepare_images(
                request.images, kind, request.detail, timeout
            )
        return replace(chat, messages=attach_images(chat.messages, self._prepared[kind]))


def attach_images(
    messages: tuple[Message, ...], images: tuple[ImageInput, ...]
) -> tuple[Message, ...]:
    """Put the images on the last user message (the question they belong to)."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.role is Role.USER:
            updated = replace(message, images=message.images + images)
            return (*messages[:index], updated, *messages[index + 1 :])
    return (*messages, Message(role=Role.USER, content="", images=images))
