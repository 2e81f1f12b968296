"""What a schema cannot say: the cross-field rules the OpenAPI document states in words.

A body valid by the schema may still break a rule across fields (a tool result must answer a
call of the assistant message before it, a named ``tool_choice`` must name an offered tool,
tool names are unique, a JSON schema must be a valid one, image bytes must be an image). The
document says so in its descriptions and the hub answers 400/415 for them, which is right. For
the fuzzing's *valid* cases to mean "valid", each generated body is brought in line with these
rules (independently of the hub's code: the JSON schemas are checked with ``jsonschema``) before
it is sent; invalid cases are sent as generated.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from jsonschema import SchemaError, validators
from PIL import Image

from tests.fakes.audio import voice_pcm, wav_file

RESULT: Final = "ok"
MAX_IMAGES: Final = 10
# The fakes' embedding models give 768 to 3072 dimensions; the document says "where the model
# can" (a model that cannot answers 400 provider_bad_request). Valid cases ask for short vectors
# so that a case with 2048 texts answers in kilobytes, not tens of megabytes.
SHORT_VECTORS: Final = 8
# Valid image cases draw at most two pictures of at most a megapixel: the edge's checks are the
# same, and drawing ten 4096x4096 pictures would take the run's whole time budget.
MAX_PICTURES: Final = 2
MAX_PIXELS: Final = 1024 * 1024
SMALL_SIZE: Final = "1024x1024"


def _png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (40, 120, 200)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


PNG_BASE64: Final = _png()
PNG_DATA_URL: Final = f"data:image/png;base64,{PNG_BASE64}"
WAV: Final = wav_file(voice_pcm(RESULT))  # an even number of 16-bit samples: mono or stereo


def valid_schema(schema: Any) -> bool:
    """True when ``schema`` is a JSON schema its own meta-schema accepts."""
    if not isinstance(schema, dict):
        return False
    try:
        validators.validator_for(schema).check_schema(schema)
    except (SchemaError, TypeError, ValueError, LookupError):
        return False
    return True


# --- tools --------------------------------------------------------------------------------
def unique_tools(tools: list[dict[str, Any]], definition: Callable[[dict[str, Any]], Any]) -> None:
    """Unique names and valid parameter schemas (``definition`` finds the named part)."""
    for index, tool in enumerate(tools):
        part = definition(tool)
        part["name"] = f"{part['name'][:56]}_{index}"
        if part.get("parameters") and not valid_schema(part["parameters"]):
            part["parameters"] = {"type": "object"}


def native_tool_choice(body: dict[str, Any]) -> None:
    """A named choice names an offered tool; ``required`` comes with tools."""
    names = [tool["name"] for tool in body.get("tools") or ()]
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        body["tool_choice"] = {"name": names[0]} if names else "auto"
    elif choice == "required" and not names:
        body["tool_choice"] = "auto"


def openai_tool_choice(body: dict[str, Any]) -> None:
    """The same rule in OpenAI's shape."""
    names = [tool["function"]["name"] for tool in body.get("tools") or ()]
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        body["tool_choice"] = (
            {"type": "function", "function": {"name": names[0]}} if names else "auto"
        )
    elif choice == "required" and not names:
        body["tool_choice"] = "auto"


# --- conversations ------------------------------------------------------------------------
def answered(
    messages: list[dict[str, Any]], result: Callable[[str], dict[str, Any]]
) -> list[dict[str, Any]]:
    """The conversation with every call answered right after its turn, and no stray results.

    Call ids are made unique; generated tool messages (which answer nothing) are dropped.
    """
    linked: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if message.get("role") == "tool":
            continue
        linked.append(message)
        for number, call in enumerate(message.get("tool_calls") or ()):
            call["id"] = f"call_{index}_{number}"
            linked.append(result(call["id"]))
    return linked


def native(body: dict[str, Any]) -> dict[str, Any]:
    """A native chat or vision body (JSON) that follows the rules."""
    if isinstance(body.get("messages"), list):
        messages = answered(
            body["messages"],
            lambda call_id: {"role": "tool", "content": RESULT, "tool_call_id": call_id},
        )
        body["messages"] = messages or [{"role": "user", "content": "hi"}]
    if body.get("tools"):
        unique_tools(body["tools"], lambda tool: tool)
    native_tool_choice(body)
    if body.get("structure") is not None:
        body["structure"] = {"type": "object"}
    for image in body.get("images") or ():
        image["data"] = PNG_BASE64
    return body


def openai(body: dict[str, Any]) -> dict[str, Any]:
    """A chat-completions body that follows the rules."""
    messages = answered(
        body["messages"],
        lambda call_id: {"role": "tool", "content": RESULT, "tool_call_id": call_id},
    )
    images = 0
    for message in messages:
        for call in message.get("tool_calls") or ():
            call["function"]["arguments"] = "{}"
        for position, part in enumerate(message.get("content") or ()):
            if isinstance(part, dict) and part.get("type") == "image_url":
                images += 1
                part["image_url"]["url"] = PNG_DATA_URL
                if images > MAX_IMAGES:
                    message["content"][position] = {"type": "text", "text": RESULT}
    body["messages"] = messages or [{"role": "user", "content": "hi"}]
    if body.get("tools"):
        unique_tools(body["tools"], lambda tool: tool["function"])
    openai_tool_choice(body)
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        response_format["json_schema"]["schema"] = {"type": "object"}
    return body


def embeddings(body: dict[str, Any]) -> dict[str, Any]:
    """Embeddings (either door) ask for short vectors, which every embedding model gives."""
    body["dimensions"] = SHORT_VECTORS
    return body


def _pixels(size: Any) -> int:
    if not isinstance(size, str) or "x" not in size:
        return 0
    width, _, height = size.partition("x")
    return int(width) * int(height)


def images(body: dict[str, Any], count: str) -> dict[str, Any]:
    """Few and small pictures (``count`` names the field: ``count`` or OpenAI's ``n``)."""
    number = body.get(count)
    if isinstance(number, int | float) and number > MAX_PICTURES:
        body[count] = MAX_PICTURES
    if _pixels(body.get("size")) > MAX_PIXELS:
        body["size"] = SMALL_SIZE
    return body


def audio_json(body: dict[str, Any]) -> dict[str, Any]:
    """The audio is audio (the document: other bytes are 415)."""
    body["audio"] = base64.b64encode(WAV).decode("ascii")
    return body


def audio_form(body: dict[str, Any]) -> dict[str, Any]:
    """The same for a multipart form's ``file`` part."""
    body["file"] = WAV
    return body


def batch(body: dict[str, Any]) -> dict[str, Any]:
    """Each request of a batch follows the rules."""
    body["requests"] = [native(item) for item in body["requests"]]
    return body


def multipart(body: dict[str, Any]) -> dict[str, Any]:
    """A multipart vision form (fields before serialisation) that follows the rules."""
    fields = native({key: value for key, value in body.items() if key != "image"})
    return {**fields, "image": body["image"]}


RULES: Final[Mapping[tuple[str, str, str], Callable[[dict[str, Any]], dict[str, Any]]]] = {
    ("POST", "/api/v1/chat", "application/json"): native,
    ("POST", "/api/v1/vision", "application/json"): native,
    ("POST", "/api/v1/vision", "multipart/form-data"): multipart,
    ("POST", "/api/v1/batch", "application/json"): batch,
    ("POST", "/v1/chat/completions", "application/json"): openai,
    ("POST", "/api/v1/embeddings", "application/json"): embeddings,
    ("POST", "/v1/embeddings", "application/json"): embeddings,
    ("POST", "/api/v1/images", "application/json"): lambda body: images(body, "count"),
    ("POST", "/v1/images/generations", "application/json"): lambda body: images(body, "n"),
    ("POST", "/api/v1/transcriptions", "application/json"): audio_json,
    ("POST", "/api/v1/transcriptions", "multipart/form-data"): audio_form,
    ("POST", "/v1/audio/transcriptions", "multipart/form-data"): audio_form,
}


def _instant(raw: str, default: datetime) -> datetime:
    if not raw:
        return default
    if raw.replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(raw), UTC)
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def usage_range(query: dict[str, Any]) -> dict[str, Any]:
    """``until`` comes after ``since`` (defaults: the start of this UTC month, now)."""
    now = datetime.now(UTC)
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    since = _instant(query.get("since") or "", month)
    until = _instant(query.get("until") or "", now)
    if since >= until:
        return {key: value for key, value in query.items() if key not in ("since", "until")}
    return query


def follow_query(method: str, path: str, query: Any) -> Any:
    """The query of a valid case brought in line with the operation's cross-field rules."""
    if (method, path) == ("GET", "/api/v1/usage") and isinstance(query, dict):
        return usage_range(query)
    return query


def follow_rules(method: str, path: str, media_type: str | None, body: Any) -> Any:
    """``body`` brought in line with the operation's cross-field rules (others unchanged)."""
    rule = RULES.get((method, path, media_type or ""))
    if rule is None or not isinstance(body, dict):
        return body
    return rule(body)
