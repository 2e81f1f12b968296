"""Reading an audio upload: ``multipart/form-data`` (a ``file`` part and text fields) or JSON.

The form is bounded like the vision form: one file part named ``file`` of at most 25 MiB
(413 past it, while it arrives), only the fields the endpoint knows (a field ending in ``[]``
may repeat, as OpenAI's SDK sends lists), each small. JSON carries the audio as base64 in
``audio``. Either way the bytes then pass ``inspect_audio`` (format, duration, PCM framing).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import BodyPartReader, web

from addon.api.body import read_json
from addon.api.multipart import (
    CHUNK,
    MALFORMED,
    Budget,
    check_part,
    malformed_reason,
    read_text_part,
)
from addon.api.transport import body_deadline
from addon.audio import AudioLimits
from addon.errors import (
    InvalidRequestError,
    PayloadTooLargeError,
    RequestTimeoutError,
    UnsupportedMediaError,
)

FILE_FIELD: Final = "file"
LIMITS: Final = AudioLimits()

Fields = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Upload:
    """What arrived: the fields, the audio, and the type the caller declared for it.

    ``declared`` is the file part's ``Content-Type`` (or JSON's ``format``): it matters only for
    raw PCM (``audio/L16;rate=16000``), which has no signature to sniff.
    """

    fields: Fields = field(default_factory=dict)
    audio: bytes = b""
    declared: str | None = None

    def __repr__(self) -> str:
        return f"Upload({sorted(self.fields)}, {len(self.audio)} bytes, {self.declared})"


async def read_upload(
    request: web.Request, fields: Collection[str], *, json_allowed: bool = True
) -> Upload:
    """The form's (or, when allowed, the JSON body's) fields and the audio bytes."""
    if request.content_type.startswith("multipart/"):
        deadline = body_deadline(request)
        try:
            async with asyncio.timeout(deadline):
                return await _read_form(request, fields)
        except MALFORMED as err:
            raise InvalidRequestError(f"Malformed multipart body: {malformed_reason(err)}") from err
        except TimeoutError as err:
            raise RequestTimeoutError(
                f"The request body did not arrive within {deadline:g} s"
            ) from err
    if not json_allowed or request.content_type not in ("application/json", ""):
        also = " or JSON" if json_allowed else ""
        raise UnsupportedMediaError(
            f"Send multipart/form-data (a 'file' part){also}, not {request.content_type!r}"
        )
    return _from_json(await read_json(request))


async def _read_form(request: web.Request, fields: Collection[str]) -> Upload:
    reader = await request.multipart()
    budget = Budget(request.client_max_size)
    values: Fields = {}
    audio: bytes | None = None
    declared: str | None = None
    count = 0
    async for item in reader:
        count += 1
        if count > len(fields) + 8:
            raise InvalidRequestError("Invalid request: too many form parts")
        part, name = check_part(item)
        if name == FILE_FIELD:
            if audio is not None:
                raise InvalidRequestError("Invalid request: send one 'file' part")
            audio = await _file(part, budget)
            declared = part.headers.get("Content-Type")
            continue
        if name not in fields:
            raise InvalidRequestError(f"Invalid request: unknown form field {name!r}")
        text = await read_text_part(part, name, budget)
        if name.endswith("[]"):
            values.setdefault(name, []).append(text)
        elif name in values:
            raise InvalidRequestError(f"Invalid request: form field {name!r} given twice")
        else:
            values[name] = text
    if audio is None:
        raise InvalidRequestError("Invalid request: attach the audio as a 'file' part")
    return Upload(values, audio, declared)


async def _file(part: BodyPartReader, budget: Budget) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(CHUNK):
        budget.take(len(chunk))
        size += len(chunk)
        if size > LIMITS.max_bytes:
            raise PayloadTooLargeError(
                f"The audio is over {LIMITS.max_bytes} bytes "
                f"({LIMITS.max_bytes // (1024 * 1024)} MiB)",
                limit_bytes=LIMITS.max_bytes,
            )
        chunks.append(bytes(chunk))
    return b"".join(chunks)


def _from_json(body: Any) -> Upload:
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object")
    encoded = body.get("audio")
    if not isinstance(encoded, str) or not encoded:
        raise InvalidRequestError(
            "Invalid request: 'audio' must be the audio as base64", param="audio"
        )
    if len(encoded) > LIMITS.max_bytes * 4 // 3 + 4:
        raise PayloadTooLargeError(
            f"The audio is over {LIMITS.max_bytes} bytes", limit_bytes=LIMITS.max_bytes
        )
    try:
        audio = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidRequestError("Invalid request: 'audio' is not base64", param="audio") from err
    fields = {key: value for key, value in body.items() if key != "audio"}
    declared = fields.get("format")
    return Upload(fields, audio, declared if isinstance(declared, str) else None)
