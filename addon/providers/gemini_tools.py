"""Gemini's function calling: declarations, the calling config, calls, responses and ids.

Declarations carry the parameters adapted by ``gemini_schema`` (and the restorers that undo the
adaptation on the arguments). ``tool_choice`` becomes ``functionCallingConfig``: AUTO, NONE,
ANY for a required call, ANY with one allowed name for a named tool. Gemini has no switch for
parallel calls: with ``parallel_tool_calls`` off the hub keeps the first call of a turn.

Gemini gives calls no ids (the Developer API leaves ``id`` empty), so each call gets a fresh
unique id. Results go back as ``functionResponse`` parts named after their call. Gemini 3
models sign their calls (``thoughtSignature``) and refuse a replayed call turn without a
signature on its first call: the provider remembers the signatures it was given, by call id,
and sends Google's documented placeholder for calls that came from elsewhere.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from google.genai import types

from addon.errors import ProviderCapabilityError
from addon.models import ChatRequest, Message, ToolCall, ToolChoice, ToolChoiceMode
from addon.providers.gemini_schema import Restorer, gemini_parameters
from addon.providers.tooling import new_call_id

SKIP_SIGNATURE: Final = b"skip_thought_signature_validator"
SIGNATURES_KEPT: Final = 1024
FUNCTION_NAME: Final = re.compile(r"[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}")
_MODES: Final[Mapping[ToolChoiceMode, types.FunctionCallingConfigMode]] = {
    ToolChoiceMode.AUTO: types.FunctionCallingConfigMode.AUTO,
    ToolChoiceMode.NONE: types.FunctionCallingConfigMode.NONE,
    ToolChoiceMode.REQUIRED: types.FunctionCallingConfigMode.ANY,
    ToolChoiceMode.TOOL: types.FunctionCallingConfigMode.ANY,
}


@dataclass(frozen=True, slots=True)
class Declarations:
    """What a request offers Gemini: the tools, how to call them, how to read the arguments."""

    tools: types.ToolListUnion | None
    config: types.ToolConfig | None
    restorers: Mapping[str, Restorer]


def declarations(request: ChatRequest) -> Declarations:
    """The request's tools in Gemini's words (nothing when it offers none)."""
    if not request.tools:
        return Declarations(None, None, {})
    functions: list[types.FunctionDeclaration] = []
    restorers: dict[str, Restorer] = {}
    for index, spec in enumerate(request.tools):
        if not FUNCTION_NAME.fullmatch(spec.name):
            raise ProviderCapabilityError(
                f"Gemini needs function names that start with a letter or '_' ({spec.name!r})"
            )
        parameters, restorers[spec.name] = gemini_parameters(spec, where=f"tools[{index}]")
        functions.append(
            types.FunctionDeclaration(
                name=spec.name,
                description=spec.description or None,
                parameters=types.Schema.model_validate(parameters) if parameters else None,
            )
        )
    tools: types.ToolListUnion = [types.Tool(function_declarations=functions)]
    return Declarations(tools, _config(request.tool_choice), restorers)


def _config(choice: ToolChoice | None) -> types.ToolConfig | None:
    if choice is None:
        return None
    names = [choice.name] if choice.mode is ToolChoiceMode.TOOL and choice.name else None
    calling = types.FunctionCallingConfig(mode=_MODES[choice.mode], allowed_function_names=names)
    return types.ToolConfig(function_calling_config=calling)


class SignatureBook:
    """Thought signatures Gemini gave its calls, by call id (the most recent ones)."""

    def __init__(self, size: int = SIGNATURES_KEPT) -> None:
        self._size = size
        self._book: OrderedDict[str, bytes] = OrderedDict()

    def remember(self, call_id: str, signature: bytes) -> None:
        """Keep ``signature`` for the call ``call_id``."""
        self._book[call_id] = signature
        self._book.move_to_end(call_id)
        while len(self._book) > self._size:
            self._book.popitem(last=False)

    def get(self, call_id: str) -> bytes | None:
        """The signature of ``call_id``, if Gemini gave one and it is still kept."""
        return self._book.get(call_id)


def call_parts(calls: Sequence[ToolCall], book: SignatureBook, *, sign: bool) -> list[types.Part]:
    """An assistant turn's calls as ``functionCall`` parts (signed where the model needs it)."""
    parts = []
    for index, call in enumerate(calls):
        signature = book.get(call.id)
        if signature is None and sign and index == 0:
            signature = SKIP_SIGNATURE  # a call Gemini did not make (another vendor, a restart)
        function_call = types.FunctionCall(id=call.id, name=call.name, args=dict(call.arguments))
        parts.append(types.Part(function_call=function_call, thought_signature=signature))
    return parts


def response_part(message: Message, names: Mapping[str, str]) -> types.Part:
    """A tool result as a ``functionResponse`` part, named after the call it answers."""
    call_id = message.tool_call_id or ""
    response = types.FunctionResponse(
        id=call_id or None,
        name=message.tool_name or names.get(call_id) or "tool",
        response=_tool_result(message.content),
    )
    return types.Part(function_response=response)


def _tool_result(content: str) -> dict[str, Any]:
    """Gemini wants a JSON object as a function's response; wrap anything else."""
    try:
        decoded = json.loads(content)
    except ValueError:
        return {"output": content}
    return decoded if isinstance(decoded, dict) else {"output": decoded}


class CallReader:
    """Reads ``functionCall`` parts into calls: fresh ids, arguments restored, signatures kept.

    ``limit`` caps the calls of one answer (1 when the caller turned parallel calls off).
    """

    def __init__(
        self, restorers: Mapping[str, Restorer], book: SignatureBook, limit: int | None
    ) -> None:
        self._restorers = restorers
        self._book = book
        self._limit = limit
        self.count = 0

    def read(self, parts: Iterable[types.Part]) -> tuple[ToolCall, ...]:
        """The calls in ``parts`` (at most what the limit still allows)."""
        calls = []
        for part in parts:
            call = part.function_call
            if call is None or (self._limit is not None and self.count >= self._limit):
                continue
            name = call.name or ""
            restorer = self._restorers.get(name)
            arguments = dict(call.args or {})
            if restorer is not None:
                arguments = restorer.restore(arguments)
            tool_call = ToolCall(id=call.id or new_call_id(), name=name, arguments=arguments)
            if part.thought_signature:
                self._book.remember(tool_call.id, part.thought_signature)
            calls.append(tool_call)
            self.count += 1
        return tuple(calls)
