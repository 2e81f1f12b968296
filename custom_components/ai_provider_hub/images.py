"""Collect the images of an ``analyze_image`` call: cameras, image entities, files, URLs.

``plan_images`` checks everything that can be checked without fetching (entities exist, paths
are allowed and exist, the count is within limits) so that bad input fails before any request;
``fetch_images`` then takes the snapshots and reads the bytes.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientError, ClientResponse
from homeassistant.components import camera
from homeassistant.components.image.const import DATA_COMPONENT as IMAGE_COMPONENT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import DOMAIN, IMAGE_FETCH_TIMEOUT, MAX_IMAGE_BYTES, MAX_IMAGES
from .errors import validation_error

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImageSources:
    """Where the images of one call come from (already validated)."""

    cameras: Sequence[str] = ()
    frames: int = 1
    interval: float = 0.0
    image_entities: Sequence[str] = ()
    files: Sequence[Path] = ()
    urls: Sequence[str] = ()

    @property
    def count(self) -> int:
        """How many images the call will send."""
        return (
            len(self.cameras) * self.frames
            + len(self.image_entities)
            + len(self.files)
            + len(self.urls)
        )


@dataclass(frozen=True, slots=True)
class Picture:
    """One image's bytes and declared type."""

    data: bytes
    mime_type: str | None

    def as_payload(self) -> dict[str, Any]:
        """The add-on's ``images`` entry."""
        entry: dict[str, Any] = {"data": base64.b64encode(self.data).decode("ascii")}
        if self.mime_type:
            entry["mime_type"] = self.mime_type
        return entry


async def plan_images(hass: HomeAssistant, data: dict[str, Any]) -> ImageSources:
    """Validate the image fields of a call; raise a translated validation error when wrong."""
    paths: list[str] = data.get("file_path", [])
    # ``is_allowed_path`` resolves paths on disk: not in the event loop.
    files = await hass.async_add_executor_job(_allowed_files, hass, paths) if paths else []
    sources = ImageSources(
        cameras=data.get("camera_entity_id", []),
        frames=data.get("frames", 1),
        interval=data.get("interval", 0.0),
        image_entities=data.get("image_entity_id", []),
        files=files,
        urls=data.get("url", []),
    )
    for entity_id in [*sources.cameras, *sources.image_entities]:
        if hass.states.get(entity_id) is None:
            raise validation_error("entity_not_found", entity_id=entity_id)
    if sources.count == 0:
        raise validation_error("no_images")
    if sources.count > MAX_IMAGES:
        raise validation_error("too_many_images", count=str(sources.count), limit=str(MAX_IMAGES))
    return sources


def _allowed_files(hass: HomeAssistant, paths: Sequence[str]) -> list[Path]:
    """The paths, checked against Home Assistant's allow list and the disk (blocking)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_absolute() or not hass.config.is_allowed_path(str(path)):
            raise validation_error("path_not_allowed", path=raw)
        if not path.is_file():
            raise validation_error("file_not_found", path=raw)
        files.append(path)
    return files


async def fetch_images(hass: HomeAssistant, sources: ImageSources) -> list[Picture]:
    """Take the snapshots and read every image, in the order cameras, entities, files, URLs."""
    pictures: list[Picture] = []
    for frame in range(sources.frames):
        if frame and sources.interval:
            await asyncio.sleep(sources.interval)
        pictures.extend([await _camera_snapshot(hass, e) for e in sources.cameras])
    pictures.extend([await _image_entity(hass, e) for e in sources.image_entities])
    pictures.extend([await _read_file(hass, p) for p in sources.files])
    pictures.extend([await _download(hass, u) for u in sources.urls])
    return pictures


async def _camera_snapshot(hass: HomeAssistant, entity_id: str) -> Picture:
    try:
        image = await camera.async_get_image(hass, entity_id)
    except HomeAssistantError as err:
        raise _fetch_error("camera_snapshot_failed", entity_id=entity_id) from err
    return Picture(image.content, image.content_type)


async def _image_entity(hass: HomeAssistant, entity_id: str) -> Picture:
    component = hass.data.get(IMAGE_COMPONENT)
    entity = component.get_entity(entity_id) if component else None
    if entity is None:
        raise validation_error("entity_not_found", entity_id=entity_id)
    try:
        content = await entity.async_image()
    except HomeAssistantError as err:
        raise _fetch_error("image_entity_failed", entity_id=entity_id) from err
    if not content:
        raise _fetch_error("image_entity_failed", entity_id=entity_id)
    return Picture(content, entity.content_type)


async def _read_file(hass: HomeAssistant, path: Path) -> Picture:
    def read() -> bytes:
        if path.stat().st_size > MAX_IMAGE_BYTES:
            raise ValueError("too large")
        return path.read_bytes()

    try:
        content = await hass.async_add_executor_job(read)
    except (OSError, ValueError) as err:
        raise _fetch_error("file_read_failed", path=str(path)) from err
    return Picture(content, mimetypes.guess_type(path.name)[0])


async def _download(hass: HomeAssistant, url: str) -> Picture:
    session = async_get_clientsession(hass)
    content: bytes | None = None
    try:
        async with asyncio.timeout(IMAGE_FETCH_TIMEOUT), session.get(url) as resp:
            resp.raise_for_status()
            mime_type = resp.content_type
            if (resp.content_length or 0) <= MAX_IMAGE_BYTES:
                content = await _read_at_most(resp, MAX_IMAGE_BYTES)
    except (ClientError, TimeoutError) as err:
        _LOGGER.debug("Fetching an image for analyze_image failed: %s", type(err).__name__)
        raise _fetch_error("url_fetch_failed", url=url) from err
    if content is None or not mime_type.startswith("image/"):
        raise _fetch_error("url_fetch_failed", url=url)
    return Picture(content, mime_type)


async def _read_at_most(resp: ClientResponse, limit: int) -> bytes | None:
    """The body, or None as soon as it grows past ``limit`` (no huge body held in memory)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _fetch_error(key: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )
