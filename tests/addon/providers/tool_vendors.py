"""The vendors of the tool-calling contract: how to build each provider against its fake.

Each entry says how to start the vendor's fake, how to configure a provider of that type
against it, which model calls tools and which does not, which recorded requests are
generations, and how to read what the wire says about tool choice and parallel calls (so a
test can check that the caller's wish reached the vendor in the vendor's own words).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from addon.providers.ollama_tools import NAMED_INSTRUCTION, REQUIRED_INSTRUCTION
from addon.settings import ProviderSettings, Secret
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.base import FakeServer, RecordedRequest
from tests.fakes.gemini import FakeGemini
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI

WireChoice = tuple[str, str | None]  # (auto | none | required | tool, forced name)


@dataclass(frozen=True)
class ToolVendor:
    """One provider type under the tool contract."""

    id: str
    make_fake: Callable[[], FakeServer]
    settings: Callable[[FakeServer], ProviderSettings]
    model: str
    no_tools_model: str | None  # None: every model of the vendor calls tools
    is_generation: Callable[[RecordedRequest], bool]
    wire_choice: Callable[[Mapping[str, Any]], WireChoice | None]
    wire_parallel: Callable[[Mapping[str, Any]], bool | None]
    parallel_switch: bool = True  # the vendor has a switch for parallel calls
    forces_calls: bool = True  # the vendor can force a call (else the hub can only ask)
    implied_auto: bool = False  # nothing said about the choice reads as "auto" on the wire

    def generations(self, fake: FakeServer) -> list[Mapping[str, Any]]:
        """The bodies of the generation requests the fake received."""
        return [r.body for r in fake.requests if self.is_generation(r)]


# --- OpenAI and compatible --------------------------------------------------------------
OPENAI_KEY = "sk-proj-tools0123456789abcdef"


def _openai_settings(fake: FakeServer) -> ProviderSettings:
    return ProviderSettings(
        name="openai",
        type="openai",
        model="gpt-4.1-mini",
        api_key=Secret(OPENAI_KEY),
        base_url=f"{fake.url}/v1",
    )


def _compatible_settings(fake: FakeServer) -> ProviderSettings:
    return ProviderSettings(
        name="local",
        type="openai_compatible",
        model="qwen2.5-7b-instruct",
        base_url=f"{fake.url}/v1",
    )


def _openai_choice(body: Mapping[str, Any]) -> WireChoice | None:
    choice = body.get("tool_choice")
    if choice is None:
        return None
    if isinstance(choice, dict):
        return ("tool", choice["function"]["name"])
    return (str(choice), None)


def _openai_parallel(body: Mapping[str, Any]) -> bool | None:
    value = body.get("parallel_tool_calls")
    return None if value is None else bool(value)


def _is_openai_generation(request: RecordedRequest) -> bool:
    return request.path == "/v1/chat/completions"


OPENAI = ToolVendor(
    id="openai",
    make_fake=lambda: FakeOpenAI(api_key=OPENAI_KEY),
    settings=_openai_settings,
    model="gpt-4.1-mini",
    no_tools_model="o1-mini",
    is_generation=_is_openai_generation,
    wire_choice=_openai_choice,
    wire_parallel=_openai_parallel,
)
COMPATIBLE = ToolVendor(
    id="openai_compatible",
    make_fake=lambda: FakeOpenAI(models=["qwen2.5-7b-instruct", "deepseek-reasoner"]),
    settings=_compatible_settings,
    model="qwen2.5-7b-instruct",
    no_tools_model="deepseek-reasoner",
    is_generation=_is_openai_generation,
    wire_choice=_openai_choice,
    wire_parallel=_openai_parallel,
)


# --- Anthropic --------------------------------------------------------------------------
ANTHROPIC_KEY = "sk-ant-tools0123456789"
_ANTHROPIC_CHOICES = {"auto": "auto", "none": "none", "any": "required", "tool": "tool"}


def _anthropic_settings(fake: FakeServer) -> ProviderSettings:
    return ProviderSettings(
        name="claude",
        type="anthropic",
        model="claude-haiku-4-5",
        api_key=Secret(ANTHROPIC_KEY),
        base_url=fake.url,
    )


def _anthropic_choice(body: Mapping[str, Any]) -> WireChoice | None:
    choice = body.get("tool_choice")
    if choice is None:
        return None
    return (_ANTHROPIC_CHOICES[choice["type"]], choice.get("name"))


def _anthropic_parallel(body: Mapping[str, Any]) -> bool | None:
    disabled = (body.get("tool_choice") or {}).get("disable_parallel_tool_use")
    return None if disabled is None else not disabled


ANTHROPIC = ToolVendor(
    id="anthropic",
    make_fake=lambda: FakeAnthropic(api_key=ANTHROPIC_KEY),
    settings=_anthropic_settings,
    model="claude-haiku-4-5",
    no_tools_model=None,
    is_generation=lambda request: request.path == "/v1/messages",
    wire_choice=_anthropic_choice,
    wire_parallel=_anthropic_parallel,
)


# --- Gemini -----------------------------------------------------------------------------
GEMINI_KEY = "AIzaTools0123456789"
GEMINI_MODELS = ["gemini-2.5-flash", "gemini-3-flash-preview", "gemma-3-27b-it"]
_GEMINI_MODES = {"AUTO": "auto", "NONE": "none", "ANY": "required"}


def _gemini_settings(model: str) -> Callable[[FakeServer], ProviderSettings]:
    def settings(fake: FakeServer) -> ProviderSettings:
        return ProviderSettings(
            name="gemini",
            type="gemini",
            model=model,
            api_key=Secret(GEMINI_KEY),
            base_url=fake.url,
        )

    return settings


def _gemini_choice(body: Mapping[str, Any]) -> WireChoice | None:
    calling = (body.get("toolConfig") or {}).get("functionCallingConfig")
    if calling is None:
        return None
    names = calling.get("allowedFunctionNames") or []
    if calling.get("mode") == "ANY" and len(names) == 1:
        return ("tool", names[0])
    return (_GEMINI_MODES[calling["mode"]], None)


def _gemini_vendor(vendor_id: str, model: str) -> ToolVendor:
    return ToolVendor(
        id=vendor_id,
        make_fake=lambda: FakeGemini(api_key=GEMINI_KEY, models=GEMINI_MODELS),
        settings=_gemini_settings(model),
        model=model,
        no_tools_model="gemma-3-27b-it",
        is_generation=lambda request: "generatecontent" in request.path.lower(),
        wire_choice=_gemini_choice,
        wire_parallel=lambda _body: None,
        parallel_switch=False,
    )


GEMINI = _gemini_vendor("gemini", "gemini-2.5-flash")
GEMINI_3 = _gemini_vendor("gemini-3", "gemini-3-flash-preview")  # signs its calls


# --- Ollama -----------------------------------------------------------------------------
OLLAMA_MODELS = ["llama3.2:latest", "llava:7b", "tinyllama:latest"]
_NAMED = re.compile(re.escape(NAMED_INSTRUCTION).replace(re.escape("{name}"), r"(\S+)"))


def _ollama_settings(fake: FakeServer) -> ProviderSettings:
    return ProviderSettings(name="ollama", type="ollama", model="llama3.2", base_url=fake.url)


def _ollama_choice(body: Mapping[str, Any]) -> WireChoice:
    """Ollama has no tool choice: what the hub sent instead (tools, an instruction)."""
    if not body.get("tools"):
        return ("none", None)
    system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
    if named := _NAMED.search(system):
        return ("tool", named.group(1))
    return ("required", None) if REQUIRED_INSTRUCTION in system else ("auto", None)


OLLAMA = ToolVendor(
    id="ollama",
    make_fake=lambda: FakeOllama(models=OLLAMA_MODELS),
    settings=_ollama_settings,
    model="llama3.2",
    no_tools_model="llava:7b",
    is_generation=lambda request: request.path == "/api/chat",
    wire_choice=_ollama_choice,
    wire_parallel=lambda _body: None,
    parallel_switch=False,
    forces_calls=False,
    implied_auto=True,
)

VENDORS: tuple[ToolVendor, ...] = (OPENAI, COMPATIBLE, ANTHROPIC, GEMINI, GEMINI_3, OLLAMA)
