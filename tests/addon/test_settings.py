"""Options parsing: defaults, environment fallback, and clear errors for bad options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from addon.errors import ConfigError
from addon.settings import Secret, load_settings, parse_options, settings_from_env


def test_defaults_fill_every_provider_field() -> None:
    settings = parse_options({"providers": [{"name": "cloud", "type": "openai", "api_key": "k"}]})
    (provider,) = settings.providers
    assert provider.model == "gpt-4.1-mini"
    assert provider.priority == 100
    assert provider.enabled is True
    assert provider.timeout == 60
    assert settings.request_timeout == 120
    assert settings.log_level == "info"


def test_no_options_file_and_no_env_gives_local_ollama(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "missing.json", env={})
    assert [(p.name, p.type, p.base_url) for p in settings.providers] == [
        ("ollama", "ollama", "http://localhost:11434")
    ]
    assert settings.source == "environment"


def test_environment_keys_add_cloud_providers_before_ollama() -> None:
    settings = settings_from_env(
        {"OPENAI_API_KEY": "sk-one", "GEMINI_API_KEY": "g-two", "OLLAMA_HOST": "http://nas:11434"}
    )
    assert [p.name for p in settings.providers] == ["openai", "gemini", "ollama"]
    assert settings.providers[-1].base_url == "http://nas:11434"
    assert settings.providers[0].api_key.reveal() == "sk-one"


def test_options_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "options.json"
    path.write_text(json.dumps({"providers": [{"name": "a", "type": "anthropic"}]}))
    settings = load_settings(path, env={"OPENAI_API_KEY": "ignored"})
    assert [p.type for p in settings.providers] == ["anthropic"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"providers": [{"name": "x", "type": "ollama"}, {"name": "x", "type": "ollama"}]},
            "unique (x)",
        ),
        ({"log_level": "loud"}, "log_level"),
        ({"request_timeout": "soon"}, "request_timeout"),
        ({"providers": "openai"}, "providers"),
        ({"routes": [{"match": "private", "providers": ["nobody"]}]}, "unknown providers (nobody)"),
    ],
)
def test_bad_hub_options_name_what_to_fix(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_options(options)
    assert message in str(excinfo.value)


GOOD = {"name": "good", "type": "ollama", "base_url": "http://nas:11434"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "x", "type": "mystery"}, "providers.1.type"),
        ({"name": "Bad Name", "type": "openai"}, "providers.1.name"),
        ({"name": "x", "type": "openai", "timeout": 0}, "providers.1.timeout"),
        ({"name": "x", "type": "openai", "priority": "high"}, "providers.1.priority"),
        ({"name": "x", "type": "openai_compatible"}, "needs a base_url"),
        ({"name": "x", "type": "openai_compatible", "base_url": "http://h"}, "needs a model"),
        ({"name": "x", "type": "ollama", "base_url": "http://[::1"}, "providers.1.base_url"),
        ({"name": "x", "type": "ollama", "base_url": "http://h:99999"}, "out of range"),
        ({"name": "x", "type": "openai", "base_url": "api.openai.com"}, "http(s) URL"),
        ({"name": "x", "type": "anthropic", "base_url": "http://a b"}, "without spaces"),
        ("openai", "providers.1: expected a dictionary"),
    ],
)
def test_a_bad_provider_entry_is_left_out_and_named(entry: Any, message: str) -> None:
    settings = parse_options({"providers": [GOOD, entry], "log_level": "debug"})
    assert [p.name for p in settings.providers] == ["good"]
    assert settings.log_level == "debug"  # the rest of the options still apply
    (problem,) = settings.problems
    assert message in problem
    assert "left out" in problem


def test_a_route_naming_a_left_out_provider_keeps_its_promise() -> None:
    settings = parse_options(
        {
            "providers": [GOOD, {"name": "private", "type": "ollama", "timeout": -1}],
            "routes": [{"match": "secret", "providers": ["private"]}],
        }
    )
    assert [p.name for p in settings.providers] == ["good"]
    assert settings.routes[0].providers == ("private",)  # never widened to the others


@pytest.mark.parametrize(
    "key",
    ["k\u2026ey", "sk-abc\r\nX-Injected: 1", "sk-\x00x", "sk-a b", "\xe9t\xe9"],
)
def test_a_key_no_header_can_carry_is_ignored_not_fatal(key: str) -> None:
    settings = parse_options(
        {"providers": [GOOD, {"name": "cloud", "type": "openai", "api_key": key}]}
    )
    cloud = settings.provider("cloud")
    assert cloud is not None
    assert not cloud.api_key  # the provider stays, without a key: it shows provider_auth
    (problem,) = settings.problems
    assert "cloud" in problem
    assert "api_key" in problem
    assert key.strip() not in problem


def test_a_key_no_header_can_carry_in_the_environment_is_ignored() -> None:
    settings = settings_from_env({"OPENAI_API_KEY": "sk-\u2026", "GEMINI_API_KEY": "g-ok"})
    assert [p.name for p in settings.providers] == ["openai", "gemini", "ollama"]
    assert not settings.providers[0].api_key
    assert settings.providers[1].api_key.reveal() == "g-ok"
    assert len(settings.problems) == 1


def test_a_bad_ollama_host_leaves_only_ollama_out() -> None:
    settings = settings_from_env({"OPENAI_API_KEY": "sk-one", "OLLAMA_HOST": "http://[::1"})
    assert [p.name for p in settings.providers] == ["openai"]
    assert "ollama" in settings.problems[0]


@pytest.mark.parametrize(
    ("raw", "clean"), [("  sk-pasted\n", "sk-pasted"), ("sk-plain", "sk-plain")]
)
def test_surrounding_whitespace_of_a_key_is_dropped(raw: str, clean: str) -> None:
    settings = parse_options({"providers": [{"name": "c", "type": "openai", "api_key": raw}]})
    assert settings.providers[0].api_key.reveal() == clean
    assert settings.problems == ()


def test_ollama_host_without_scheme_is_accepted() -> None:
    settings = settings_from_env({"OLLAMA_HOST": "nas.local:11434"})
    assert settings.providers[0].base_url == "nas.local:11434"
    assert settings.problems == ()


@pytest.mark.parametrize("path_text", ["not json", "[1, 2]"])
def test_unreadable_options_file_is_a_config_error(tmp_path: Path, path_text: str) -> None:
    path = tmp_path / "options.json"
    path.write_text(path_text)
    with pytest.raises(ConfigError):
        load_settings(path, env={})


def test_secret_never_shows_itself() -> None:
    secret = Secret("sk-live-abcdefghijklmnop")
    assert "abcdefgh" not in repr(secret)
    assert "abcdefgh" not in str(secret)
    assert secret.masked() == "sk-…mnop"
    assert Secret("short").masked() == "…"
    settings = parse_options(
        {"providers": [{"name": "c", "type": "openai", "api_key": "sk-live-abcdefghijklmnop"}]}
    )
    assert "abcdefgh" not in repr(settings)


def test_media_models_are_options_with_a_default_per_type() -> None:
    settings = parse_options(
        {
            "providers": [
                {"name": "cloud", "type": "openai", "api_key": "k", "speech_model": " tts-1 "},
                {"name": "local", "type": "openai_compatible", "base_url": "http://nas:8000/v1",
                 "model": "llama3", "transcription_model": "whisper-large-v3"},
                {"name": "claude", "type": "anthropic", "api_key": "k"},
            ]
        }
    )  # fmt: skip
    cloud, local, claude = settings.providers
    assert cloud.speech_model == "tts-1"  # trimmed, as the other names
    assert cloud.embedding_model == ""  # empty: the type's default applies
    assert [cloud.media_model(c) for c in ("embeddings", "speech", "images")] == [
        "text-embedding-3-small",
        "tts-1",
        "gpt-image-1.5",
    ]
    assert local.media_model("transcription") == "whisper-large-v3"
    assert local.media_model("embeddings") == ""  # a compatible server has no default
    assert claude.media_model("embeddings") == ""  # Anthropic offers none
    assert cloud.media_model("chat") == ""  # not a media option
