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
        ({"providers": [{"name": "x", "type": "mystery"}]}, "providers.0.type"),
        ({"providers": [{"name": "Bad Name", "type": "openai"}]}, "providers.0.name"),
        ({"providers": [{"name": "x", "type": "openai", "timeout": 0}]}, "providers.0.timeout"),
        ({"providers": [{"name": "x", "type": "openai_compatible"}]}, "needs a base_url"),
        (
            {"providers": [{"name": "x", "type": "openai_compatible", "base_url": "http://h"}]},
            "needs a model",
        ),
        (
            {"providers": [{"name": "x", "type": "ollama"}, {"name": "x", "type": "ollama"}]},
            "unique (x)",
        ),
        ({"log_level": "loud"}, "log_level"),
        ({"request_timeout": "soon"}, "request_timeout"),
    ],
)
def test_bad_options_name_what_to_fix(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_options(options)
    assert message in str(excinfo.value)


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
