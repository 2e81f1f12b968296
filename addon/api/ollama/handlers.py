"""The Ollama door's routes: chat (JSON and NDJSON), tags, show, version, ps, pull, root.

Answers follow Ollama's API: a chat answer is ``{model, created_at, message, done, done_reason,
total_duration, load_duration, prompt_eval_count, prompt_eval_duration, eval_count,
eval_duration}`` (durations in nanoseconds); a stream is one such object per line with pieces
of ``message.content`` (and ``message.tool_calls`` once a call is complete) and ``done: false``,
then the closing object with ``done: true``. ``model`` echoes the name the client asked for
(the ``X-Hub-Attempts`` header says who answered a JSON request).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from aiohttp import web

from addon import __version__
from addon.api.body import read_json
from addon.api.context import hub
from addon.api.envelope import (
    REQUEST_ID_HEADER,
    allow_header,
    request_id,
    retry_after_header,
)
from addon.api.ollama.names import auto_name, matching, resolve, tag_name
from addon.api.ollama.request import OllamaChat, to_ollama_chat, validate_chat
from addon.api.openai_compat import ATTEMPTS_HEADER, attempts_header
from addon.api.streaming import started
from addon.errors import HubError, InvalidRequestError
from addon.hub_status import OfferedModel
from addon.models import HubResponse, StreamDelta, ToolCall

# The level of Ollama's API this door speaks (clients gate features such as tools on it).
OLLAMA_VERSION: Final = "0.12.6"
NS_PER_MS: Final = 1_000_000
NDJSON: Final = "application/x-ndjson"


def now_iso() -> str:
    """A timestamp as Ollama writes it (UTC, RFC 3339 with fractional seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ollama_error(err: HubError) -> web.Response:
    """``{"error": "<key>: <message>"}`` with the error's HTTP status (and Allow, Retry-After)."""
    return web.json_response(
        {"error": f"{err.key}: {err.message}"},
        status=err.status,
        headers={**retry_after_header(err), **allow_header(err)},
    )


# --- simple routes --------------------------------------------------------------------------
async def root(_request: web.Request) -> web.StreamResponse:
    """What an Ollama server answers on ``/`` (clients probe it)."""
    return web.Response(text="Ollama is running")


async def version(_request: web.Request) -> web.StreamResponse:
    """``{"version": ...}``: the Ollama API level, with the hub's own version beside it."""
    return web.json_response({"version": OLLAMA_VERSION, "hub_version": __version__})


async def ps(_request: web.Request) -> web.StreamResponse:
    """Models loaded in memory: none here, the hub holds no model itself."""
    return web.json_response({"models": []})


async def tags(request: web.Request) -> web.StreamResponse:
    """``auto`` and ``<provider>/<model>`` for each enabled provider's configured models."""
    context = hub(request)
    modified = datetime.fromtimestamp(context.started_at, UTC).isoformat()
    offered = context.manager.offered_models()
    rows = [_tag(auto_name(), "hub", ["hub"], modified)]
    rows.extend(
        _tag(tag_name(m.provider, m.model), m.provider_type, [m.provider_type], modified)
        for m in offered
    )
    return web.json_response({"models": rows})


def _tag(name: str, family: str, families: list[str], modified: str) -> dict[str, Any]:
    return {
        "name": name,
        "model": name,
        "modified_at": modified,
        "size": 0,
        "digest": hashlib.sha256(name.encode()).hexdigest(),
        "details": _details(family, families),
    }


def _details(family: str, families: list[str]) -> dict[str, Any]:
    return {
        "parent_model": "",
        "format": "",
        "family": family,
        "families": families,
        "parameter_size": "",
        "quantization_level": "",
    }


async def show(request: web.Request) -> web.StreamResponse:
    """A model's details and capabilities (``completion``, ``tools``, ``vision``)."""
    body = await read_json(request)
    name = body.get("model") or body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name:
        raise InvalidRequestError("Invalid request: model: required")
    manager = hub(request).manager
    found = matching(name, manager.offered_models(), [s.name for s in manager.configured()])
    family = found[0].provider_type if len({m.provider for m in found}) == 1 else "hub"
    return web.json_response(
        {
            "modelfile": "",
            "parameters": "",
            "template": "",
            "details": _details(family, sorted({m.provider_type for m in found})),
            "model_info": {"general.architecture": family},
            "capabilities": capabilities(found),
            "modified_at": datetime.fromtimestamp(hub(request).started_at, UTC).isoformat(),
        }
    )


def capabilities(models: Sequence[OfferedModel]) -> list[str]:
    """What a name can do: every model can complete; tools and vision when any of them can."""
    found = ["completion"]
    if any(m.tools for m in models):
        found.append("tools")
    if any(m.vision for m in models):
        found.append("vision")
    return found


async def pull(request: web.Request) -> web.StreamResponse:
    """Nothing to download: success for a name the hub can serve (so clients go on)."""
    body = await read_json(request)
    name = body.get("model") or body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name:
        raise InvalidRequestError("Invalid request: model: required")
    providers = [s.name for s in hub(request).manager.configured()]
    target = resolve(name, providers)
    if target.provider is None and target.model:
        matching(name, hub(request).manager.offered_models(), providers)
    if isinstance(body, dict) and body.get("stream") is False:
        return web.json_response({"status": "success"})
    return web.Response(text=json.dumps({"status": "success"}) + "\n", content_type=NDJSON)


# --- chat -----------------------------------------------------------------------------------
async def chat(request: web.Request) -> web.StreamResponse:
    """Answer a chat request as one JSON object, or as NDJSON (the default)."""
    data = validate_chat(await read_json(request))
    manager = hub(request).manager
    providers = [s.name for s in manager.configured()]
    wanted = to_ollama_chat(data, request_id(request), providers)
    if wanted.hub_request is None:
        return web.json_response(_loaded(wanted.model))
    if wanted.stream:
        return await _stream(request, wanted)
    response = await manager.run(wanted.hub_request)
    return web.json_response(
        final_chunk(
            wanted, response, content=_content(wanted, response), calls=response.tool_calls
        ),
        headers={ATTEMPTS_HEADER: attempts_header(response)},
    )


def _loaded(model: str) -> dict[str, Any]:
    """Ollama's answer to a chat without messages: the model is (here: always) ready."""
    return {
        "model": model,
        "created_at": now_iso(),
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "load",
    }


def _content(wanted: OllamaChat, response: HubResponse) -> str:
    if wanted.wants_json and response.data is not None:
        # The hub has parsed (and unfenced) the JSON: hand clients the clean document.
        return json.dumps(response.data, ensure_ascii=False)
    return response.text


def wire_tool_calls(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    """Ollama's ``message.tool_calls`` (arguments as an object, the hub's id alongside)."""
    return [
        {
            "id": call.id,
            "function": {"index": index, "name": call.name, "arguments": dict(call.arguments)},
        }
        for index, call in enumerate(calls)
    ]


def message(content: str, calls: Sequence[ToolCall] = ()) -> dict[str, Any]:
    """An assistant message as Ollama sends it."""
    body: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        body["tool_calls"] = wire_tool_calls(calls)
    return body


def final_chunk(
    wanted: OllamaChat, response: HubResponse, *, content: str = "", calls: Sequence[ToolCall] = ()
) -> dict[str, Any]:
    """The closing object: ``done``, the reason, token counts and durations."""
    total = int(response.latency_ms * NS_PER_MS)
    return {
        "model": wanted.model,
        "created_at": now_iso(),
        "message": message(content, calls),
        "done": True,
        "done_reason": "length" if response.finish_reason == "length" else "stop",
        "total_duration": total,
        "load_duration": 0,
        "prompt_eval_count": response.usage.input_tokens,
        "prompt_eval_duration": 0,
        "eval_count": response.usage.output_tokens,
        "eval_duration": total,
    }


async def _stream(request: web.Request, wanted: OllamaChat) -> web.StreamResponse:
    """NDJSON: errors before the first piece are a JSON error, after it an ``error`` line.

    A structured answer (``format``) comes as one piece once complete: the hub has then checked
    and unfenced the JSON, and clients parse the pieces joined anyway.
    """
    assert wanted.hub_request is not None
    _, events = await started(hub(request).manager.stream(wanted.hub_request))
    response = web.StreamResponse(
        headers={"Content-Type": NDJSON, REQUEST_ID_HEADER: wanted.hub_request.request_id}
    )
    await response.prepare(request)
    try:
        async for item in events:
            for chunk in _chunks(wanted, item):
                await response.write(_line(chunk))
    except HubError as err:
        await response.write(_line({"error": f"{err.key}: {err.message}"}))
    await response.write_eof()
    return response


def _chunks(wanted: OllamaChat, item: StreamDelta | HubResponse) -> list[dict[str, Any]]:
    if isinstance(item, HubResponse):
        if wanted.wants_json:
            return [_piece(wanted, _content(wanted, item)), final_chunk(wanted, item)]
        return [final_chunk(wanted, item)]
    if wanted.wants_json and not item.tool_calls:
        return []
    return [_piece(wanted, "" if wanted.wants_json else item.text, item.tool_calls)]


def _piece(wanted: OllamaChat, content: str, calls: Sequence[ToolCall] = ()) -> dict[str, Any]:
    return {
        "model": wanted.model,
        "created_at": now_iso(),
        "message": message(content, calls),
        "done": False,
    }


def _line(payload: Mapping[str, Any]) -> bytes:
    return (json.dumps(payload, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
