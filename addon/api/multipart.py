"""Reading ``multipart/form-data`` vision requests: bounded, and every malformation a 4xx.

aiohttp's reader trusts the sender: it reads a part of any size, any number of parts, and
raises ``ValueError``/``RuntimeError``/``LookupError`` on broken framing, unknown transfer
encodings or charsets. Here the number of parts, the size of each text field and the whole
body are capped before anything is kept, field names must be known, and each failure is an
``invalid_request`` (or ``payload_too_large``) naming what to fix. The part cap also keeps one
request from monopolising the event loop: parts already buffered are parsed without yielding.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from addon.api.schemas import MAX_IMAGES, VISION_FORM_SCHEMA, convert_form_field
from addon.api.transport import body_deadline
from addon.errors import InvalidRequestError, PayloadTooLargeError, RequestTimeoutError
from addon.models import RawImage

FORM_FIELDS: Final = frozenset(str(key) for key in VISION_FORM_SCHEMA.schema)
MAX_PARTS: Final = MAX_IMAGES + len(FORM_FIELDS)
MAX_FIELD_BYTES: Final = 1024 * 1024  # a long conversation in ``messages`` fits
CHUNK: Final = 64 * 1024
# What aiohttp raises for broken framing, transfer encodings and charsets of parts.
MALFORMED: Final = (ValueError, RuntimeError, LookupError, HttpProcessingError)
PLAIN_TRANSFER: Final = frozenset({"", "7bit", "8bit", "binary"})

Form = tuple[dict[str, Any], tuple[RawImage, ...]]


async def read_multipart(request: web.Request) -> Form:
    """Form fields as a body mapping, file parts as images (``invalid_request`` if malformed)."""
    deadline = body_deadline(request)
    try:
        async with asyncio.timeout(deadline):
            return await _read(request, request.client_max_size)
    except MALFORMED as err:
        raise InvalidRequestError(f"Malformed multipart body: {malformed_reason(err)}") from err
    except TimeoutError as err:
        raise RequestTimeoutError(f"The request body did not arrive within {deadline:g} s") from err


async def _read(
    request: web.Request, max_bytes: int
) -> tuple[dict[str, Any], tuple[RawImage, ...]]:
    reader = await request.multipart()
    fields: dict[str, Any] = {}
    images: list[RawImage] = []
    budget = Budget(max_bytes)
    count = 0
    async for item in reader:
        count += 1
        if count > MAX_PARTS:
            raise InvalidRequestError(
                f"Invalid request: at most {MAX_PARTS} parts ({MAX_IMAGES} images and one "
                "part per form field)"
            )
        part, name = check_part(item)
        if part.filename is not None:
            if len(images) >= MAX_IMAGES:
                raise InvalidRequestError(f"Invalid request: at most {MAX_IMAGES} images")
            data = await read_part(part, budget)
            images.append(RawImage(data=data, declared_type=part.headers.get("Content-Type")))
            continue
        if name not in FORM_FIELDS:
            raise InvalidRequestError(f"Invalid request: unknown form field {name!r}")
        if name in fields:
            raise InvalidRequestError(f"Invalid request: form field {name!r} given twice")
        fields[name] = convert_form_field(name, await read_text_part(part, name, budget))
    if not images:
        raise InvalidRequestError("Invalid request: attach at least one image file")
    return fields, tuple(images)


class Budget:
    """The bytes a whole multipart body may still use."""

    def __init__(self, total: int) -> None:
        self.left = total

    def take(self, size: int) -> None:
        """Spend ``size`` bytes; ``payload_too_large`` once the body is over its limit."""
        self.left -= size
        if self.left < 0:
            raise PayloadTooLargeError("Request body too large")


def check_part(part: Any) -> tuple[BodyPartReader, str]:
    """The part and its name, once it is a named form-data part without transfer encoding."""
    if not isinstance(part, BodyPartReader):
        raise InvalidRequestError("Invalid request: nested multipart bodies are not accepted")
    name = part.name
    if not name:
        raise InvalidRequestError(
            'Invalid request: every part needs Content-Disposition: form-data; name="..."'
        )
    # Header bytes that are not UTF-8 arrive as surrogate escapes (or mojibake): refuse both.
    if not name.isprintable() or any("\udc80" <= c <= "\udcff" for c in name):
        raise InvalidRequestError("Invalid request: a part name must be printable UTF-8")
    transfer = part.headers.get("Content-Transfer-Encoding", "").strip().lower()
    if transfer not in PLAIN_TRANSFER:
        # RFC 7578 4.7: form-data parts carry no transfer encoding.
        raise InvalidRequestError(f"Invalid request: part {name!r} has a Content-Transfer-Encoding")
    return part, name


async def read_part(part: BodyPartReader, budget: Budget, cap: int | None = None) -> bytes:
    """The part's bytes within the body's budget; ``invalid_request`` when over ``cap``."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(CHUNK):
        budget.take(len(chunk))
        size += len(chunk)
        if cap is not None and size > cap:
            raise InvalidRequestError(
                f"Invalid request: form field {part.name!r} is over {cap} bytes"
            )
        chunks.append(bytes(chunk))
    return b"".join(chunks)


async def read_text_part(part: BodyPartReader, name: str, budget: Budget) -> str:
    """A text field's value (at most 1 MiB, in its declared charset)."""
    data = await read_part(part, budget, MAX_FIELD_BYTES)
    charset = part.get_charset(default="utf-8")
    try:
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError) as err:
        raise InvalidRequestError(
            f"Invalid request: form field {name!r} is not valid {charset} text"
        ) from err


def malformed_reason(err: Exception) -> str:
    """The first line of what aiohttp said about a malformed body (for the 400's message)."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text[:200]
