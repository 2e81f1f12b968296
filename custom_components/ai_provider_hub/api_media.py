"""The client's calls beyond chat: embeddings, speech to text, text to speech, images.

A mixin of ``HubClient`` (``api``): the same session, token, deadlines and error mapping.
Speech is the one answer that is not JSON: its audio is streamed through as it arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import ClientError, ClientSession, ClientTimeout, FormData

from .api_errors import HubConnectionError, HubTimeoutError, error_from_answer
from .api_media_models import Embeddings, Images, SpeechInfo, Transcript

API_PREFIX: Final = "/api/v1"
SPEECH_CHUNK: Final = 16 * 1024


@dataclass(slots=True)
class SpeechStream:
    """A started speech answer: its figures, then its audio piece by piece.

    ``chunks`` must be read to the end (or closed) so the connection is released.
    """

    info: SpeechInfo
    chunks: AsyncIterator[bytes]


class MediaCalls:
    """Media requests of one hub (the attributes come from ``HubClient``)."""

    _session: ClientSession
    url: str
    generate_timeout: float

    def _headers(self, auth: bool) -> dict[str, str]:
        raise NotImplementedError

    async def _request(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        json_body: Any = None,
        form: FormData | None = None,
        params: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        raise NotImplementedError

    async def embed(self, payload: Mapping[str, Any]) -> Embeddings:
        """``POST /api/v1/embeddings``: one vector per text of ``input``."""
        path = f"{API_PREFIX}/embeddings"
        body = await self._request("POST", path, json_body=payload, timeout=self.generate_timeout)
        return Embeddings.parse(body, f"POST {path}")

    async def transcribe(
        self, audio: bytes, *, filename: str, content_type: str, fields: Mapping[str, str]
    ) -> Transcript:
        """``POST /api/v1/transcriptions``: the audio as a ``file`` part, routing as fields."""
        form = FormData()
        for name, value in fields.items():
            form.add_field(name, value)
        form.add_field("file", audio, filename=filename, content_type=content_type)
        path = f"{API_PREFIX}/transcriptions"
        body = await self._request("POST", path, form=form, timeout=self.generate_timeout)
        return Transcript.parse(body, f"POST {path}")

    async def generate_image(self, payload: Mapping[str, Any]) -> Images:
        """``POST /api/v1/images``: the pictures as base64 with their MIME types."""
        path = f"{API_PREFIX}/images"
        body = await self._request("POST", path, json_body=payload, timeout=self.generate_timeout)
        return Images.parse(body, f"POST {path}")

    async def speak(self, payload: Mapping[str, Any]) -> SpeechStream:
        """``POST /api/v1/speech``: raises at once when refused, else streams the audio.

        The whole answer (request and every chunk) runs under the generation deadline.
        """
        stream = self._speech(payload)
        try:
            first = await anext(stream)
        except BaseException:
            await stream.aclose()
            raise
        assert isinstance(first, SpeechInfo)
        return SpeechStream(first, _audio(stream))

    async def _speech(self, payload: Mapping[str, Any]) -> AsyncGenerator[SpeechInfo | bytes]:
        path = f"{API_PREFIX}/speech"
        try:
            async with asyncio.timeout(self.generate_timeout):
                async with self._session.post(
                    f"{self.url}{path}",
                    json=payload,
                    headers={**self._headers(True), "Accept": "audio/*, application/json"},
                    timeout=ClientTimeout(total=None),
                ) as resp:
                    if resp.status >= 400:
                        raise await error_from_answer(resp)
                    yield SpeechInfo.from_headers(resp.headers)
                    async for chunk in resp.content.iter_chunked(SPEECH_CHUNK):
                        yield chunk
        except ClientError as err:
            raise HubConnectionError(f"POST {path}: {err}") from err
        except TimeoutError as err:
            raise HubTimeoutError(f"POST {path}: the audio did not finish in time") from err


async def _audio(stream: AsyncIterator[SpeechInfo | bytes]) -> AsyncIterator[bytes]:
    async for piece in stream:
        if isinstance(piece, bytes):
            yield piece
