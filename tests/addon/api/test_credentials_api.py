"""Credential endpoints: keys go in encrypted, come out masked, and take effect at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AUTH, TOKEN, Fakes, HubClientFactory
from tests.fakes.base import Fault

NEW_KEY = "sk-new-openai-key-abcdef987654"


async def call(
    client: Any, method: str, path: str, status: int = 200, **kwargs: Any
) -> dict[str, Any]:
    response = await client.request(method, path, headers=AUTH, **kwargs)
    body: dict[str, Any] = await response.json()
    assert response.status == status, body
    return body


async def test_put_key_is_stored_encrypted_and_used(
    hub_client: HubClientFactory, fakes: Fakes, tmp_path: Path
) -> None:
    client = await hub_client()
    body = await call(
        client, "PUT", "/api/v1/providers/openai/credentials", json={"api_key": NEW_KEY}
    )
    assert body == {"name": "openai", "api_key": "sk-…7654"}
    fakes.openai.state.api_key = NEW_KEY
    chat = await call(client, "POST", "/api/v1/chat", json={"prompt": "Hi"})
    assert chat["provider"] == "openai"
    assert fakes.openai.requests[-1].headers["Authorization"] == f"Bearer {NEW_KEY}"
    store = (tmp_path / "credentials.enc").read_bytes()
    assert NEW_KEY.encode() not in store
    listed = await call(client, "GET", "/api/v1/providers")
    assert NEW_KEY not in str(listed)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "key"),
    [
        ("PUT", "/api/v1/providers/nope/credentials", {"api_key": "x"}, 404, "not_found"),
        ("PUT", "/api/v1/providers/openai/credentials", {"api_key": "  "}, 400, "invalid_request"),
        ("PUT", "/api/v1/providers/openai/credentials", {}, 400, "invalid_request"),
        ("PUT", "/api/v1/providers/openai/credentials", ["x"], 400, "invalid_request"),
        ("DELETE", "/api/v1/providers/anthropic/credentials", None, 200, None),
        ("DELETE", "/api/v1/providers/ollama/credentials", None, 404, "not_found"),
        ("POST", "/api/v1/providers/nope/test", None, 404, "not_found"),
    ],
)
async def test_credential_errors(
    hub_client: HubClientFactory, method: str, path: str, body: Any, status: int, key: str | None
) -> None:
    client = await hub_client()
    kwargs = {"json": body} if body is not None else {}
    payload = await call(client, method, path, status=status, **kwargs)
    if key is not None:
        assert payload["error"]["key"] == key


async def test_delete_falls_back_to_the_options_key(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    await call(client, "PUT", "/api/v1/providers/openai/credentials", json={"api_key": NEW_KEY})
    body = await call(client, "DELETE", "/api/v1/providers/openai/credentials")
    assert body["api_key"] == "sk-…3456"
    await call(client, "POST", "/api/v1/chat", json={"prompt": "Hi"})
    assert fakes.openai.requests[-1].headers["Authorization"] == "Bearer sk-test-openai-key-123456"


@pytest.mark.parametrize(
    ("setup", "result"),
    [
        ("ok", "valid"),
        ("wrong_key", "invalid"),
        ("down", "unreachable"),
        ("rate_limited", "rate_limited"),
    ],
)
async def test_key_test_outcomes(
    hub_client: HubClientFactory, fakes: Fakes, setup: str, result: str
) -> None:
    client = await hub_client()
    if setup == "wrong_key":
        fakes.openai.state.api_key = "sk-some-other-key-000000"
    elif setup == "down":
        await fakes.openai.stop()
    elif setup == "rate_limited":
        fakes.openai.fail_always(Fault.RATE_LIMIT, retry_after=5)
    body = await call(client, "POST", "/api/v1/providers/openai/test")
    assert body["result"] == result
    assert body["name"] == "openai"
    assert "sk-test-openai-key-123456" not in str(body)


async def test_candidate_key_is_tested_without_being_stored(
    hub_client: HubClientFactory, fakes: Fakes
) -> None:
    client = await hub_client()
    fakes.openai.state.api_key = NEW_KEY
    good = await call(client, "POST", "/api/v1/providers/openai/test", json={"api_key": NEW_KEY})
    assert good["result"] == "valid"
    current = await call(client, "POST", "/api/v1/providers/openai/test")
    assert current["result"] == "invalid"  # the candidate was not stored or applied


async def test_rotating_the_store_key_keeps_keys_usable(
    hub_client: HubClientFactory, tmp_path: Path
) -> None:
    client = await hub_client()
    key_before = (tmp_path / "credentials.key").read_bytes()
    body = await call(client, "POST", "/api/v1/credentials/rotate")
    assert body["rotated"] is True
    assert body["keys"] >= 3
    assert (tmp_path / "credentials.key").read_bytes() != key_before
    chat = await call(client, "POST", "/api/v1/chat", json={"prompt": "Hi"})
    assert chat["provider"] == "openai"


async def test_token_rotation(hub_client: HubClientFactory) -> None:
    client = await hub_client(api_token="")
    body = await call(client, "POST", "/api/v1/token/rotate")
    new_token = body["api_token"]
    assert new_token != TOKEN
    old = await client.get("/api/v1/providers", headers=AUTH)
    assert old.status == 401
    fresh = await client.get("/api/v1/providers", headers={"Authorization": f"Bearer {new_token}"})
    assert fresh.status == 200


async def test_token_from_options_cannot_be_rotated_here(hub_client: HubClientFactory) -> None:
    client = await hub_client()
    body = await call(client, "POST", "/api/v1/token/rotate", status=403)
    assert body["error"]["key"] == "forbidden"
    assert "add-on options" in body["error"]["message"]


async def test_unreadable_store_starts_empty_and_says_so(
    hub_client: HubClientFactory, tmp_path: Path
) -> None:
    (tmp_path / "credentials.key").write_bytes(b"not-a-fernet-key\n")
    (tmp_path / "credentials.enc").write_text('{"version": 1, "items": "gAAAAA-garbage"}')
    client = await hub_client()
    health = await (await client.get("/health")).json()
    assert health["notices"]
    assert "re-enter" in health["notices"][0].lower()
    assert list(tmp_path.glob("credentials.enc.unreadable-*"))
