"""The add-on's answers as validated dataclasses (mashumaro, which Home Assistant ships).

``Model.parse`` checks an answer on arrival: a missing required field or a value of the wrong
shape is a ``HubResponseError`` there, not a ``KeyError`` in an entity later. Fields the add-on
adds later are ignored until they are modelled here, so a newer add-on never breaks an older
integration; optional fields have defaults, so an older add-on does not either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

from mashumaro import DataClassDictMixin
from mashumaro.exceptions import InvalidFieldValue, MissingField

from .api_errors import HubResponseError


class Model(DataClassDictMixin):
    """A validated answer (or part of one) of the add-on."""

    @classmethod
    def parse(cls, body: Any, what: str) -> Self:
        """``body`` as this model; ``HubResponseError`` naming ``what`` when it does not fit."""
        if not isinstance(body, dict):
            raise HubResponseError(f"{what}: not a JSON object")
        try:
            return cls.from_dict(body)
        except (MissingField, ValueError, TypeError) as err:
            raise HubResponseError(f"{what}: {_reason(err)}") from err


def _reason(err: BaseException) -> str:
    """Which field failed, as a path (mashumaro raises one error per level, chained)."""
    names: list[str] = []
    current: BaseException | None = err
    while isinstance(current, MissingField | InvalidFieldValue):
        names.append(current.field_name)
        if isinstance(current, MissingField):
            return f"{'.'.join(names)} is missing"
        current = current.__context__
    return f"{'.'.join(names) or 'the answer'} is not of the documented shape"


@dataclass(frozen=True, slots=True)
class ProviderHealth(Model):
    """One provider in ``GET /health``."""

    name: str
    state: str
    type: str = ""
    model: str = ""
    error_key: str | None = None


@dataclass(frozen=True, slots=True)
class Health(Model):
    """``GET /health``."""

    status: str
    version: str | None = None
    providers: list[ProviderHealth] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ProviderInfo(Model):
    """One provider in ``GET /api/v1/providers`` (the key only masked)."""

    name: str
    state: str
    type: str = ""
    model: str = ""
    vision_model: str | None = None
    priority: int | None = None
    enabled: bool = True
    vision: bool = False
    api_key: str | None = None
    latency_ms: float | None = None
    error_key: str | None = None
    message: str | None = None
    # The model it serves each capability beyond chat with (``speech``, ``transcription``...).
    media_models: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProviderList(Model):
    """``GET /api/v1/providers``."""

    providers: list[ProviderInfo]


@dataclass(frozen=True, slots=True)
class ModelInfo(Model):
    """One model in ``GET /api/v1/models``."""

    provider: str
    id: str
    display_name: str | None = None
    vision: bool = False


@dataclass(frozen=True, slots=True)
class ModelsReport(Model):
    """``GET /api/v1/models``: every provider's models, and the providers that failed to list."""

    models: list[ModelInfo]
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UsageTotals(Model):
    """Aggregated usage over a period (``None``: the add-on did not report the figure)."""

    requests: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    success_rate: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    p50_latency_ms: float | None = None
    p95_latency_ms: float | None = None
    avg_latency_ms: float | None = None


@dataclass(frozen=True, slots=True)
class BudgetWindow(Model):
    """One budget period (daily or monthly); no ``limit_usd``: no budget."""

    limit_usd: float | None = None
    spent_usd: float = 0.0
    reserved_usd: float = 0.0
    left_usd: float | None = None


@dataclass(frozen=True, slots=True)
class Budget(Model):
    """The hub's budget windows, and each provider's own (provider -> window name -> window)."""

    daily: BudgetWindow = field(default_factory=BudgetWindow)
    monthly: BudgetWindow = field(default_factory=BudgetWindow)
    providers: dict[str, dict[str, BudgetWindow]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UsageReport(Model):
    """``GET /api/v1/usage``: the window's totals and breakdowns, today, this month, budgets."""

    since: str | None = None
    until: str | None = None
    totals: UsageTotals = field(default_factory=UsageTotals)
    by_provider: dict[str, UsageTotals] = field(default_factory=dict)
    by_model: dict[str, UsageTotals] = field(default_factory=dict)
    by_tag: dict[str, UsageTotals] = field(default_factory=dict)
    by_day: dict[str, UsageTotals] = field(default_factory=dict)
    today: UsageTotals = field(default_factory=UsageTotals)
    month: UsageTotals = field(default_factory=UsageTotals)
    budget: Budget = field(default_factory=Budget)


@dataclass(frozen=True, slots=True)
class KeyTest(Model):
    """``POST /api/v1/providers/{name}/test``: ``valid``, ``invalid``, ``unreachable``..."""

    result: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class Attempt(Model):
    """One provider attempt of a generation request."""

    provider: str
    outcome: str
    model: str | None = None
    latency_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class TokenUsage(Model):
    """Tokens of one answer."""

    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ToolCall(Model):
    """A tool the model asks for (``tool_call`` stream event; ``tool_calls`` of an answer)."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TextDelta(Model):
    """A piece of streamed text (``delta`` stream event)."""

    text: str = ""


@dataclass(frozen=True, slots=True)
class GenerationResult(Model):
    """The answer of ``POST /api/v1/chat`` and ``/vision`` (and a stream's ``done`` event)."""

    request_id: str
    provider: str
    model: str
    text: str = ""
    data: Any = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float | None = None
    latency_ms: float = 0.0
    cached: bool = False
    finish_reason: str = "stop"
    tool_calls: list[ToolCall] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)


type StreamEvent = TextDelta | ToolCall | GenerationResult
