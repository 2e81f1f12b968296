"""``multipart/form-data`` bodies as the fakes read them (the stdlib's MIME parser).

The fakes' recording middleware has already read the body, so aiohttp's own reader (which
consumes the stream) cannot be used: the recorded bytes are parsed here instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser


@dataclass
class Form:
    """The parts of a form: ``(name, filename or None, bytes)`` in the order sent."""

    parts: list[tuple[str, str | None, bytes]] = field(default_factory=list)

    def texts(self, name: str) -> list[str]:
        """Every value of the text field ``name`` (repeated fields such as ``include[]``)."""
        return [
            data.decode() for key, filename, data in self.parts if key == name and filename is None
        ]

    def text(self, name: str) -> str | None:
        """The first value of the text field ``name``."""
        values = self.texts(name)
        return values[0] if values else None

    def file(self, name: str) -> tuple[str, bytes] | None:
        """``(filename, bytes)`` of the file part ``name``."""
        for key, filename, data in self.parts:
            if key == name and filename is not None:
                return filename, data
        return None


def parse_form(content_type: str, body: bytes) -> Form | None:
    """The form in ``body`` (None when it is no multipart/form-data with a boundary)."""
    if (
        not content_type.lower().startswith("multipart/form-data")
        or "boundary=" not in content_type
    ):
        return None
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        return None
    form = Form()
    for part in message.iter_parts():
        if not isinstance(part, EmailMessage):
            continue
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(payload, bytes):
            continue
        form.parts.append((name, part.get_filename(), payload))
    return form
