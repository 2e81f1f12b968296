"""Structured output checked with ``jsonschema`` (issue 10, item 12).

The caller's schema is checked before any provider is called (400 when it is not a schema);
every answer is checked against it, and one that does not match is that provider's failure: the
next provider is tried, and the attempt's ``message`` says what did not match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from addon.errors import InvalidRequestError, ProviderResponseError
from addon.models import ChatRequest, Message, Role
from addon.providers.base import parse_structured
from addon.structure import check_structure, mismatch
from tests.addon.routing.api_fixtures import HubFactory, hub_factory
from tests.conftest import AUTH, Fakes

COUNT = {
    "type": "object",
    "properties": {
        "a": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["a"],
}


@pytest.fixture
def make_hub(fakes: Fakes, aiohttp_client: Any, tmp_path: Path) -> HubFactory:
    """Build the real hub over the fakes."""
    return hub_factory(fakes, aiohttp_client, tmp_path)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"a": 1}, None),
        ({"a": 1, "tags": ["x"]}, None),
        ({"a": "x"}, "'x' is not of type 'integer' (at a)"),
        ({}, "'a' is a required property"),
        ({"a": 1, "tags": ["x", 2]}, "2 is not of type 'string' (at tags/1)"),
        ([1], "[1] is not of type 'object'"),
    ],
)
def test_mismatch_names_what_and_where(value: Any, problem: str | None) -> None:
    assert mismatch(value, COUNT) == problem


def test_the_draft_named_by_the_schema_is_used() -> None:
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "maximum": 5,
              "exclusiveMaximum": True}  # fmt: skip
    assert mismatch(5, draft4) is not None  # draft 4: a boolean makes the maximum exclusive
    assert mismatch(4, draft4) is None


def test_parse_structured_refuses_a_mismatch_as_the_providers_failure() -> None:
    assert parse_structured('```json\n{"a": 3}\n```', COUNT) == {"a": 3}
    with pytest.raises(ProviderResponseError, match="does not match the requested structure"):
        parse_structured('{"a": "x"}', COUNT)
    assert ProviderResponseError.retryable


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer", "minimum": "zero"},
        {"type": "object", "properties": {"a": {"type": "number-ish"}}},
        {"type": "object", "required": "a"},
    ],
)
def test_a_schema_that_is_not_valid_is_the_callers_fault(schema: dict[str, Any]) -> None:
    chat = ChatRequest(messages=(Message(Role.USER, "Hi"),), json_schema=schema)
    with pytest.raises(InvalidRequestError, match="not a valid JSON schema") as info:
        check_structure(chat)
    assert info.value.details["field"] == "structure"


# --- through the API ------------------------------------------------------------------------
async def test_a_mismatching_answer_fails_over_and_the_attempt_says_why(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(only=("openai", "anthropic"))
    hub.fakes.openai.state.reply.text = '{"a": "x"}'
    hub.fakes.anthropic.state.reply.text = '{"a": 1}'
    answer = await hub.chat(structure=COUNT)
    assert answer.status == 200, answer.body
    assert answer.body["data"] == {"a": 1}
    assert answer.outcomes == [("openai", "provider_bad_response"), ("anthropic", "ok")]
    message = answer.attempts[0]["message"]
    assert "does not match the requested structure" in message
    assert "'x' is not of type 'integer' (at a)" in message
    assert "message" not in answer.attempts[1]


async def test_when_every_answer_mismatches_the_error_lists_why(make_hub: HubFactory) -> None:
    hub = await make_hub(only=("openai", "anthropic"))
    hub.fakes.openai.state.reply.text = '{"a": "x"}'
    hub.fakes.anthropic.state.reply.text = '{"b": 1}'
    answer = await hub.chat(structure=COUNT)
    assert (answer.status, answer.key) == (502, "all_providers_failed")
    messages = {a["provider"]: a["message"] for a in answer.attempts}
    assert "'x' is not of type 'integer'" in messages["openai"]
    assert "'a' is a required property" in messages["anthropic"]


async def test_a_streamed_answer_that_mismatches_ends_with_an_error(make_hub: HubFactory) -> None:
    hub = await make_hub(only=("openai",))
    hub.fakes.openai.state.reply.text = '{"a": "x"}'
    streamed = await hub.stream(structure=COUNT)
    assert streamed.error_key == "provider_bad_response"
    assert streamed.done is None


@pytest.mark.parametrize("door", ["native", "v1"])
async def test_an_invalid_schema_is_refused_before_any_provider_is_called(
    make_hub: HubFactory, door: str
) -> None:
    hub = await make_hub()
    schema = {"type": "object", "properties": {"a": {"type": "number-ish"}}}
    if door == "native":
        answer = await hub.chat(structure=schema)
        assert (answer.status, answer.key) == (400, "invalid_request")
        assert answer.error["field"] == "structure"
    else:
        body = {
            "model": "auto",
            "messages": [{"role": "user", "content": "Hi"}],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": schema},
            },
        }
        response = await hub.client.post("/v1/chat/completions", json=body, headers=AUTH)
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "invalid_request"
    assert sum(hub.calls(vendor) for vendor in hub.fakes.all) == 0
