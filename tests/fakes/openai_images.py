"""OpenAI's Image API, ``POST /v1/images/generations``, for ``FakeOpenAI``.

From the API reference and the ``openai`` SDK's ``ImageGenerateParams``/``ImagesResponse``:
the GPT image models (``gpt-image-1``, ``-1-mini``, ``-1.5``, ``chatgpt-image-latest``) take
``size`` 1024x1024 / 1536x1024 / 1024x1536 / auto, ``quality`` low / medium / high / auto,
``n`` 1-10, ``output_format`` png / jpeg / webp, a prompt of at most 32,000 characters, always
answer ``b64_json`` (a ``response_format`` is an unknown parameter for them) and report token
``usage`` (output tokens by quality and size, as OpenAI's calculator lists them). The newer
GPT image models (``gpt-image-2`` and after) take any ``WIDTHxHEIGHT`` with both edges
multiples of 16, an aspect ratio within 3:1 and between 655,360 and 8,294,400 pixels (at most
3840 on an edge). ``dall-e-3`` makes one image (``n`` = 1) of 1024x1024 / 1792x1024 /
1024x1792, ``quality`` standard / hd, ``style`` vivid / natural, a prompt of at most 4,000
characters, ``response_format`` url (the default) or b64_json, a ``revised_prompt`` and no
usage; ``dall-e-2`` makes 1-10 of 256x256 / 512x512 / 1024x1024 from at most 1,000
characters. A prompt with one of the fake's ``unsafe_words`` is refused as the safety system
refuses it: ``moderation_blocked`` (GPT image models) or ``content_policy_violation`` (DALL-E).
"""

from __future__ import annotations

import base64
import math
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from tests.fakes.pictures import MIME_TYPES, picture

if TYPE_CHECKING:
    from tests.fakes.base import FakeState, Fault

GPT_SIZES: Final = ("1024x1024", "1536x1024", "1024x1536")
GPT_QUALITIES: Final = ("low", "medium", "high", "auto")
FLEX_QUALITIES: Final = ("low", "medium", "high", "xhigh", "max", "auto")
OUTPUT_FORMATS: Final = ("png", "jpeg", "webp")
SIZE: Final = re.compile(r"^(\d{1,5})x(\d{1,5})$")
MIN_PIXELS: Final = 655_360
MAX_PIXELS: Final = 8_294_400
MAX_EDGE: Final = 3840
# Output image tokens of the GPT image models by quality and size (OpenAI's calculator).
OUTPUT_TOKENS: Final[Mapping[str, Mapping[str, int]]] = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}
SAFETY_MESSAGE: Final = (
    "Your request was rejected by the safety system. If you believe this is an error, contact "
    "us at help.openai.com and include the request ID {request_id}. safety_violations=[{found}]."
)
CONTENT_POLICY_MESSAGE: Final = (
    "Your request was rejected as a result of our safety system. Your prompt may contain text "
    "that is not allowed by our safety system."
)


@dataclass(frozen=True, slots=True)
class ImageModel:
    """What one image model accepts (``sizes`` empty: any size within the flexible bounds)."""

    name: str
    legacy: bool  # DALL-E: response_format and style, url by default, no usage
    max_prompt: int
    max_n: int
    sizes: tuple[str, ...]
    qualities: tuple[str, ...]
    default_size: str
    default_quality: str


@dataclass(frozen=True, slots=True)
class Problem:
    """A 400 the Image API answers: message, ``param``, ``code`` and error ``type``."""

    message: str
    param: str | None
    code: str | None
    type: str = "invalid_request_error"


def image_model(name: str, served: frozenset[str] = frozenset()) -> ImageModel | None:
    """The rules of model ``name``, or None when it is no image model.

    ``served``: other models the server draws with, as an OpenAI-compatible server does (any
    size, DALL-E's response formats, no usage).
    """
    if name in served:
        qualities = ("low", "medium", "high", "standard", "hd", "auto")
        return ImageModel(name, True, 32000, 10, (), qualities, "1024x1024", "standard")
    if name == "dall-e-3":
        sizes = ("1024x1024", "1792x1024", "1024x1792")
        return ImageModel(name, True, 4000, 1, sizes, ("standard", "hd"), sizes[0], "standard")
    if name == "dall-e-2":
        sizes = ("256x256", "512x512", "1024x1024")
        return ImageModel(name, True, 1000, 10, sizes, ("standard",), sizes[2], "standard")
    if re.match(r"^gpt-image-[2-9]", name):
        return ImageModel(name, False, 32000, 10, (), FLEX_QUALITIES, "1024x1024", "medium")
    if name.startswith(("gpt-image-", "chatgpt-image")):
        return ImageModel(name, False, 32000, 10, GPT_SIZES, GPT_QUALITIES, GPT_SIZES[0], "medium")
    return None


def generation_problem(body: Any, served: frozenset[str] = frozenset()) -> Problem | None:
    """The 400 the API answers for the generation request ``body``, else None."""
    if not isinstance(body, dict):
        return Problem("We could not parse the JSON body of your request.", None, None)
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        return Problem(
            "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter"
        )
    model = image_model(str(body.get("model") or "dall-e-2"), served)
    if model is None:
        return Problem(
            f"Invalid value: '{body.get('model')}'. Value must be a GPT image model.",
            "model",
            "invalid_value",
        )
    return (
        _prompt_problem(model, prompt)
        or _n_problem(model, body.get("n", 1))
        or _size_problem(model, body.get("size"))
        or _option_problem(model, body)
    )


def _prompt_problem(model: ImageModel, prompt: str) -> Problem | None:
    if len(prompt) <= model.max_prompt:
        return None
    return Problem(
        f"Invalid 'prompt': string too long. Expected a string with maximum length "
        f"{model.max_prompt}, but got a string with length {len(prompt)} instead.",
        "prompt",
        "string_above_max_length",
    )


def _n_problem(model: ImageModel, n: Any) -> Problem | None:
    if n is None:
        return None
    if not isinstance(n, int) or isinstance(n, bool):
        return Problem(
            f"Invalid type for 'n': expected an integer, but got {n!r} instead.",
            "n",
            "invalid_type",
        )
    if n < 1:
        return Problem(
            f"Invalid 'n': integer below minimum value. Expected a value >= 1, but got {n} "
            "instead.",
            "n",
            "integer_below_min_value",
        )
    if n > model.max_n:
        return Problem(
            f"Invalid 'n': integer above maximum value. Expected a value <= {model.max_n}, but "
            f"got {n} instead.",
            "n",
            "integer_above_max_value",
        )
    return None


def _size_problem(model: ImageModel, size: Any) -> Problem | None:
    if size is None or (size == "auto" and not model.legacy):
        return None
    if model.legacy and not model.sizes:
        valid = isinstance(size, str) and SIZE.match(size) is not None
        return (
            None
            if valid
            else Problem("The size is not supported by this model.", None, "invalid_size")
        )
    if model.legacy:
        if size in model.sizes:
            return None
        return Problem("The size is not supported by this model.", None, "invalid_size")
    if model.sizes:
        if size in model.sizes:
            return None
        return Problem(
            f"Invalid value: '{size}'. Supported values are: 'auto', "
            + ", ".join(f"'{s}'" for s in model.sizes)
            + ".",
            "size",
            "invalid_value",
        )
    return _flexible_size_problem(str(size))


def _flexible_size_problem(size: str) -> Problem | None:
    match = SIZE.match(size)
    if match is None:
        return Problem(
            f"Invalid 'size': '{size}'. Expected 'auto' or a size of the form WIDTHxHEIGHT.",
            "size",
            "invalid_value",
        )
    width, height = int(match[1]), int(match[2])
    fits = (
        width % 16 == 0
        and height % 16 == 0
        and max(width, height) <= MAX_EDGE
        and max(width, height) <= 3 * min(width, height)
        and MIN_PIXELS <= width * height <= MAX_PIXELS
    )
    if fits:
        return None
    return Problem(
        f"Invalid 'size': '{size}'. Width and height must be multiples of 16, the aspect ratio "
        f"at most 3:1, each edge at most {MAX_EDGE} pixels and the image between {MIN_PIXELS} "
        f"and {MAX_PIXELS} pixels.",
        "size",
        "invalid_value",
    )


def _option_problem(model: ImageModel, body: Mapping[str, Any]) -> Problem | None:
    quality = body.get("quality")
    if quality is not None and quality not in model.qualities:
        if model.name == "dall-e-2":
            return Problem("Unknown parameter: 'quality'.", "quality", "unknown_parameter")
        return Problem(
            f"Invalid value: '{quality}'. Supported values are: "
            + ", ".join(f"'{q}'" for q in model.qualities)
            + ".",
            "quality",
            "invalid_value",
        )
    legacy_only = ("response_format", "style")
    gpt_only = ("output_format", "output_compression", "background", "moderation")
    for name in gpt_only if model.legacy else legacy_only:
        if body.get(name) is not None:
            return Problem(f"Unknown parameter: '{name}'.", name, "unknown_parameter")
    allowed = {
        "response_format": ("url", "b64_json"),
        "style": ("vivid", "natural"),
        "output_format": OUTPUT_FORMATS,
    }
    for name, values in allowed.items():
        value = body.get(name)
        if value is not None and value not in values:
            return Problem(
                f"Invalid value: '{value}'. Supported values are: "
                + ", ".join(f"'{v}'" for v in values)
                + ".",
                name,
                "invalid_value",
            )
    return None


def refusal(
    body: Mapping[str, Any], unsafe_words: set[str], served: frozenset[str] = frozenset()
) -> Problem | None:
    """The safety system's 400 when the prompt holds one of ``unsafe_words``."""
    prompt = str(body["prompt"]).lower()
    found = sorted(word for word in unsafe_words if word.lower() in prompt)
    if not found:
        return None
    model = image_model(str(body.get("model") or "dall-e-2"), served)
    if model is not None and model.legacy:
        return Problem(CONTENT_POLICY_MESSAGE, None, "content_policy_violation")
    message = SAFETY_MESSAGE.format(request_id=uuid.uuid4(), found=",".join(found))
    return Problem(message, None, "moderation_blocked", "image_generation_user_error")


@dataclass(frozen=True, slots=True)
class Generated:
    """The ``ImagesResponse`` body and the pictures it names by URL (DALL-E's ``url``)."""

    body: dict[str, Any]
    files: dict[str, tuple[bytes, str]]


def generate(
    body: Mapping[str, Any],
    base_url: str,
    served: frozenset[str] = frozenset(),
    data: bytes | None = None,
) -> Generated:
    """The ``ImagesResponse`` for a valid request (pictures from ``tests.fakes.pictures``).

    ``data``: bytes to send as every picture instead (a broken server).
    """
    model = image_model(str(body.get("model") or "dall-e-2"), served)
    assert model is not None  # checked by generation_problem
    size = body.get("size") or model.default_size
    size = model.default_size if size == "auto" else str(size)
    quality = body.get("quality") or model.default_quality
    quality = model.default_quality if quality == "auto" else str(quality)
    fmt = "png" if model.legacy else str(body.get("output_format") or "png")
    width, height = (int(edge) for edge in size.split("x"))
    prompt = str(body["prompt"])
    count = int(body.get("n") or 1)
    images = [
        picture(prompt, index, width, height, fmt) if data is None else data
        for index in range(count)
    ]
    response: dict[str, Any] = {"created": int(time.time())}
    files: dict[str, tuple[bytes, str]] = {}
    if model.legacy:
        response["data"] = [_legacy_item(model, body, data, base_url, files) for data in images]
        return Generated(response, files)
    response |= {
        "background": "opaque" if body.get("background") != "transparent" else "transparent",
        "data": [{"b64_json": base64.b64encode(data).decode()} for data in images],
        "output_format": fmt,
        "quality": quality,
        "size": size,
        "usage": _usage(prompt, quality, width, height, count),
    }
    return Generated(response, files)


def _legacy_item(
    model: ImageModel,
    body: Mapping[str, Any],
    data: bytes,
    base_url: str,
    files: dict[str, tuple[bytes, str]],
) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if body.get("response_format") == "b64_json":
        item["b64_json"] = base64.b64encode(data).decode()
    else:
        name = f"img-{uuid.uuid4().hex}.png"
        files[name] = (data, MIME_TYPES["png"])
        item["url"] = f"{base_url}/_fake/images/{name}"
    if model.name == "dall-e-3":
        item["revised_prompt"] = f"A detailed rendering of: {body['prompt']}"
    return item


def output_tokens(quality: str, width: int, height: int) -> int:
    """Output image tokens of one picture (scaled by area for sizes the table lacks)."""
    scale = {"xhigh": 1.5, "max": 2.0}.get(quality, 1.0)
    table = OUTPUT_TOKENS.get(quality, OUTPUT_TOKENS["high"])
    listed = table.get(f"{width}x{height}")
    if listed is not None:
        return listed
    return math.ceil(table["1024x1024"] * scale * width * height / (1024 * 1024))


def _usage(prompt: str, quality: str, width: int, height: int, count: int) -> dict[str, Any]:
    text_tokens = max(1, math.ceil(len(prompt) / 4))
    image_tokens = output_tokens(quality, width, height) * count
    return {
        "input_tokens": text_tokens,
        "input_tokens_details": {"image_tokens": 0, "text_tokens": text_tokens},
        "output_tokens": image_tokens,
        "output_tokens_details": {"image_tokens": image_tokens, "text_tokens": 0},
        "total_tokens": text_tokens + image_tokens,
    }


class OpenAIImageRoutes:
    """The image routes of ``FakeOpenAI`` (a mixin: it uses the host's key check and errors).

    ``unsafe_words``: prompts holding one are refused by the safety system; ``image_files``:
    the pictures answered by URL, served at ``GET /_fake/images/{name}``; ``image_models``:
    other models it draws with (an OpenAI-compatible server's); ``image_bytes``: sent as every
    picture instead of a real one (a broken server).
    """

    unsafe_words: set[str]
    image_files: dict[str, tuple[bytes, str]]
    image_models: frozenset[str]
    image_bytes: bytes | None

    if TYPE_CHECKING:
        state: FakeState

        @property
        def url(self) -> str: ...
        def _check_key(self, request: web.Request) -> web.Response | None: ...
        def next_fault(self) -> tuple[Fault, dict[str, Any]] | None: ...
        async def apply_fault(
            self, request: web.Request, fault: Fault, params: dict[str, Any]
        ) -> web.StreamResponse | None: ...
        @staticmethod
        def _error(
            status: int,
            message: str,
            *,
            error_type: str,
            code: str | None,
            param: str | None = None,
        ) -> web.Response: ...
        def _json(self, payload: dict[str, Any]) -> web.Response: ...

    def add_image_routes(self, app: web.Application) -> None:
        """``POST /v1/images/generations`` and ``GET /_fake/images/{name}``."""
        self.unsafe_words = set()
        self.image_files = {}
        self.image_models = frozenset()
        self.image_bytes = None
        app.router.add_post("/v1/images/generations", self._image_generations)
        app.router.add_get("/_fake/images/{name}", self._image_file)

    async def _image_generations(self, request: web.Request) -> web.StreamResponse:
        denied = self._check_key(request)
        if denied is not None:
            return denied
        fault = self.next_fault()
        if fault is not None:
            answer = await self.apply_fault(request, *fault)
            if answer is not None:
                return answer
        body = self.state.requests[-1].body
        served = self.image_models
        problem = generation_problem(body, served) or refusal(body, self.unsafe_words, served)
        if problem is not None:
            return self._error(
                400,
                problem.message,
                error_type=problem.type,
                code=problem.code,
                param=problem.param,
            )
        generated = generate(body, self.url, served, self.image_bytes)
        self.image_files.update(generated.files)
        return self._json(generated.body)

    async def _image_file(self, request: web.Request) -> web.StreamResponse:
        found = self.image_files.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound
        data, mime_type = found
        return web.Response(body=data, content_type=mime_type)
