"""Schemathesis over every operation of the OpenAPI document, against the real hub.

The hub runs over the four simulated vendors on 127.0.0.1 (no network). Schemathesis reads the
document the hub serves, so an operation added to it is fuzzed without a change here (the
operations run in groups, each against its own hub, so that pytest-xdist can spread them; a new
operation falls in "the rest" unless a group names it). Its
examples, coverage (boundary values, missing and wrong fields, undeclared methods, requests
without the token) and fuzzing phases run valid and invalid cases, bounded and deterministic
(a fixed number of examples per operation, a fixed seed, derandomized generation, one worker,
no example database, a deadline on each request). Every response is checked:

* no 5xx;
* status code, content type, headers and body valid against the document;
* a valid request is not refused as malformed (anything but 400/413/415; 404/409/422/429 say
  the hub's state decided, such as a provider name that is not configured);
* an invalid request is refused with a 4xx.

The figures (operations, cases, 5xx, failures per check) are printed and kept in the test's
report properties.
"""

from __future__ import annotations

import collections
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
import schemathesis
from schemathesis.engine import events, from_schema

from addon.api.openapi import openapi_document
from tests.addon.api.fuzz_hub import served_hub
from tests.addon.api.fuzz_rules import follow_query, follow_rules
from tests.conftest import TOKEN

MAX_EXAMPLES: Final = 3
SEED: Final = 20261204
REQUEST_TIMEOUT_S: Final = 240.0  # a failure guard only, above the hub's own deadline
# The operations in groups, each fuzzed against its own hub, so that pytest-xdist spreads the
# run over its workers. Every operation the document gains falls in "the rest" by itself.
GROUPS: Final = {
    "chat": r"^/api/v1/(chat|batch)$",
    "vision": r"^/api/v1/vision$",
    "openai-chat": r"^/v1/chat/completions$",
    "media": r"^/(api/v1/(embeddings|images|transcriptions|speech)|v1/(embeddings|images/|audio/))",
}
REST: Final = "the rest"
METHODS: Final = ("get", "put", "post", "delete", "patch")
CHECKS_OFF: Final = (
    "use_after_free",  # stateful checks: the hub has no create/delete resource pairs
    "ensure_resource_availability",
    "object_level_authorization",
)  # max_response_time stays off (not set): timing is no contract on a shared machine
# A valid request may meet the hub's state: an unknown provider or key name (404), no provider
# able or configured for it (422), a limit (429), a setting that forbids it (403).
VALID_STATUSES: Final = ["2xx", "401", "403", "404", "409", "422", "429"]


def fuzz_config(base_url: str) -> schemathesis.Config:
    """The run's settings: bounded, seeded, derandomized, sequential."""
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": base_url,
            "headers": {"Authorization": f"Bearer {TOKEN}"},
            "workers": 1,
            "continue-on-failure": True,
            "request-timeout": REQUEST_TIMEOUT_S,
            "suppress-health-check": ["all"],
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                "mode": "all",
                # Text no provider can take is refused on purpose (400): see test_unsendable_text.
                "allow-x00": False,
                "codec": "utf-8",
            },
            "phases": {
                "stateful": {"enabled": False},
                "fuzzing": {"error-feedback": {"enabled": False}},
            },
            "checks": {
                **{name: {"enabled": False} for name in CHECKS_OFF},
                "positive_data_acceptance": {"expected-statuses": VALID_STATUSES},
            },
            "operations": [
                {
                    # Multipart fields travel as text: schemathesis's invalid multipart forms
                    # (wrong JSON types inside form fields) mostly read as valid once sent.
                    "include-path": "/api/v1/vision",
                    "include-method": "POST",
                    "checks": {"negative_data_rejection": {"enabled": False}},
                }
            ],
        }
    )


@dataclass
class Figures:
    """What the run did and found."""

    operations: set[str] = field(default_factory=set)
    cases: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    server_errors: list[str] = field(default_factory=list)
    failures: dict[str, list[str]] = field(default_factory=lambda: collections.defaultdict(list))
    errors: list[str] = field(default_factory=list)

    def record(self, scenario: events.ScenarioFinished) -> None:
        """Count one finished scenario's requests, answers and failed checks."""
        recorder = scenario.recorder
        self.operations.add(recorder.label)
        for case_id, interaction in recorder.interactions.items():
            self.cases += 1
            if interaction.response is None:
                continue
            status = interaction.response.status_code
            self.statuses[status] += 1
            if status >= 500:
                self.server_errors.append(f"{recorder.label} {status} (case {case_id})")
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.failure_info is not None:
                    self.failures[check.name].append(describe(recorder, case_id, check))

    def summary(self) -> dict[str, Any]:
        """The figures as one JSON-able mapping."""
        return {
            "operations": len(self.operations),
            "cases": self.cases,
            "5xx": len(self.server_errors),
            "statuses": dict(sorted(self.statuses.items())),
            "failures": {name: len(found) for name, found in sorted(self.failures.items())},
            "errors": len(self.errors),
        }


def describe(recorder: Any, case_id: str, check: Any) -> str:
    """One failure: the operation, the check's title and how to reproduce it."""
    info = check.failure_info
    response = recorder.find_response(case_id=case_id)
    answer = response.content[:300] if response is not None else b""
    meta = recorder.cases[case_id].value.meta
    what = meta.phase.data.description if meta is not None else None
    return (
        f"{recorder.label}: {info.failure.title} ({what}): {info.failure.message[:400]}\n"
        f"  {info.code_sample[:600]}\n"
        f"  -> {answer!r}"
    )


def rules_hook() -> Callable[[Any, Any], Any]:
    """``map_case``: valid cases follow the cross-field rules the document states in words."""

    def map_case(_context: Any, case: Any) -> Any:
        meta = case.meta
        if meta is not None and meta.generation.mode.is_positive:
            path = case.operation.path
            case.body = follow_rules(case.method, path, case.media_type, case.body)
            case.query = follow_query(case.method, path, case.query)
        return case

    return map_case


def in_group(group: str, path: str) -> bool:
    """Whether ``path`` belongs to ``group`` (the rest: to no named group)."""
    if group == REST:
        return not any(re.search(pattern, path) for pattern in GROUPS.values())
    return re.search(GROUPS[group], path) is not None


def group_document(group: str) -> dict[str, Any]:
    """The served document with only the group's paths (the components all kept)."""
    document = openapi_document()
    paths = {path: item for path, item in document["paths"].items() if in_group(group, path)}
    return {**document, "paths": paths}


def operations(document: dict[str, Any]) -> set[str]:
    """``METHOD /path`` of every operation in ``document``."""
    return {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def run(base_url: str, document: dict[str, Any]) -> Figures:
    """Fuzz every operation of ``document`` against the hub; the figures of the run."""
    schema = schemathesis.openapi.from_dict(document, config=fuzz_config(base_url))
    schema.hook(rules_hook())
    figures = Figures()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            figures.record(event)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            figures.errors.append(repr(event))
    return figures


@pytest.fixture
def hub_url(tmp_path: Path) -> Iterator[str]:
    """The real hub over the fakes, served on loopback from a thread."""
    with served_hub(tmp_path) as url:
        yield url


def test_the_groups_cover_every_operation_once() -> None:
    document = openapi_document()
    for path in document["paths"]:
        assert sum(in_group(group, path) for group in (*GROUPS, REST)) == 1, path
    for group in GROUPS:
        assert operations(group_document(group)), f"{group} matches no operation"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("group", [*GROUPS, REST])
def test_every_operation_answers_as_the_document_says(
    group: str, hub_url: str, record_property: Callable[[str, Any], None]
) -> None:
    document = group_document(group)
    figures = run(hub_url, document)
    summary = figures.summary()
    record_property("openapi_fuzz", summary)
    print(f"openapi fuzz ({group}):", json.dumps(summary))
    assert figures.operations == operations(document)
    assert not figures.errors, figures.errors
    assert not figures.server_errors, figures.server_errors
    found = [line for lines in figures.failures.values() for line in lines]
    assert not found, "\n".join(found)
