"""The add-on packaging agrees with the code it ships.

``config.yaml``'s schema is what the Supervisor validates and ``addon/settings.py`` is what the
hub validates: every key, required-ness, bound and choice must agree, or users can save options
the hub then refuses (or the other way round). The translations, start script, Dockerfile,
build file, AppArmor profile and package data are checked against the same manifest, and the
shared add-on checker runs when it is available.
"""

from __future__ import annotations

import re
import shlex
import shutil
import stat
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import voluptuous as vol
import yaml

from addon.settings import (
    LOG_LEVELS,
    OPTIONS_SCHEMA,
    PROVIDER_SCHEMA,
    PROVIDER_TYPES,
    parse_options,
)

ROOT = Path(__file__).resolve().parents[2]
CHECKER_CANDIDATES = (
    ROOT.parent / "shared" / "tools" / "check_addon.py",
    Path("/work/shared/tools/check_addon.py"),
)
RE_TYPE = re.compile(r"^(?P<kind>[a-z]+)(?:\((?P<args>.*)\))?(?P<optional>\?)?$")
NAME_PROBES = ("ollama", "nas-ollama_2", "a", "x" * 32, "x" * 33, "Ollama", "-lead", "a b", "")


def _load_yaml(name: str) -> Any:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


CONFIG: dict[str, Any] = _load_yaml("config.yaml")
SCHEMA: dict[str, Any] = CONFIG["schema"]
PROVIDER_FIELDS: dict[str, str] = SCHEMA["providers"][0]
TOP_LEVEL_SCALARS = {key: typ for key, typ in SCHEMA.items() if isinstance(typ, str)}
DOOR_FIELDS: dict[str, Any] = SCHEMA["ollama_api"]
DOOR_SCALARS = {key: typ for key, typ in DOOR_FIELDS.items() if isinstance(typ, str)}
INGRESS_PORT: int = CONFIG.get("ingress_port", 8099)


# --------------------------------------------------------------------------------------------
# A Supervisor-side validator for one schema string (supervisor/addons/options.py semantics)
# --------------------------------------------------------------------------------------------
def _split(typ: str) -> tuple[str, str | None, bool]:
    match = RE_TYPE.match(typ)
    assert match, f"unparsable schema type {typ!r}"
    return match["kind"], match["args"], bool(match["optional"])


def _range(args: str | None, kind: type) -> dict[str, Any]:
    low, _, high = (args or ",").partition(",")
    bounds: dict[str, Any] = {}
    if low:
        bounds["min"] = kind(low)
    if high:
        bounds["max"] = kind(high)
    return bounds


def supervisor_validator(typ: str) -> Callable[[Any], Any]:
    """How the Supervisor validates a value of schema type ``typ``."""
    kind, args, _ = _split(typ)
    validators: dict[str, Callable[[], Callable[[Any], Any]]] = {
        "bool": vol.Boolean,
        "str": lambda: vol.All(vol.Coerce(str), vol.Length(**_range(args, int))),
        "password": lambda: vol.All(vol.Coerce(str), vol.Length(**_range(args, int))),
        "url": vol.Url,
        "int": lambda: vol.All(vol.Coerce(int), vol.Range(**_range(args, int))),
        "float": lambda: vol.All(vol.Coerce(float), vol.Range(**_range(args, float))),
        "list": lambda: vol.In((args or "").split("|")),
        "match": lambda: vol.Match(args or ""),
        "port": lambda: vol.All(vol.Coerce(int), vol.Range(min=1, max=65535)),
    }
    assert kind in validators, f"schema type {typ!r} not covered by this test"
    return validators[kind]()


def _accepts(validator: Callable[[Any], Any], value: Any) -> bool:
    try:
        validator(value)
    except vol.Invalid:
        return False
    return True


def probes(typ: str) -> list[Any]:
    """Values on and just beyond the edges of ``typ``."""
    kind, args, _ = _split(typ)
    if kind in ("int", "float"):
        number = int if kind == "int" else float
        step = 1 if kind == "int" else 0.5
        bounds = _range(args, number)
        values: list[Any] = ["abc"]
        if "min" in bounds:
            values += [bounds["min"], bounds["min"] - step]
        if "max" in bounds:
            values += [bounds["max"], bounds["max"] + step]
        else:
            values.append(10**9)
        return values
    if kind == "list":
        return [*(args or "").split("|"), "not-a-choice"]
    if kind == "match":
        return list(NAME_PROBES)
    if kind == "bool":
        return [True, False, "maybe"]
    if kind == "url":
        return ["http://192.168.1.20:11434", "https://openrouter.ai/api/v1"]
    return ["some text", ""]


def _settings_accepts_provider_field(field: str, value: Any) -> bool:
    provider = {"name": "probe", "type": "ollama", field: value}
    return _accepts(PROVIDER_SCHEMA, provider)


def _settings_accepts_option(key: str, value: Any) -> bool:
    return _accepts(OPTIONS_SCHEMA, {key: value})


def _markers(schema: vol.Schema) -> dict[str, vol.Marker]:
    return {str(marker): marker for marker in schema.schema}


PROVIDER_PROBES = [
    pytest.param(field, typ, value, id=f"{field}={value!r}"[:60])
    for field, typ in PROVIDER_FIELDS.items()
    for value in probes(typ)
]
DOOR_PROBES = [
    pytest.param(field, typ, value, id=f"ollama_api.{field}={value!r}")
    for field, typ in DOOR_SCALARS.items()
    for value in probes(typ)
]
OPTION_PROBES = [
    pytest.param(key, typ, value, id=f"{key}={value!r}")
    for key, typ in TOP_LEVEL_SCALARS.items()
    for value in probes(typ)
]


# --------------------------------------------------------------------------------------------
# config.yaml schema <-> settings.py
# --------------------------------------------------------------------------------------------
def test_manifest_identity() -> None:
    assert CONFIG["slug"] == "ai_provider_hub"
    assert CONFIG["name"] == "AI Provider Hub"
    assert CONFIG["version"] == "0.1.0"
    assert CONFIG["discovery"] == [CONFIG["slug"]]
    assert CONFIG["init"] is False
    assert CONFIG["ingress"] is True
    assert sorted(CONFIG["arch"]) == ["aarch64", "amd64"]


def test_version_matches_the_package() -> None:
    import addon

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert CONFIG["version"] == addon.__version__ == project["project"]["version"]


def test_same_option_keys() -> None:
    assert set(SCHEMA) == set(_markers(OPTIONS_SCHEMA))
    assert set(PROVIDER_FIELDS) == set(_markers(PROVIDER_SCHEMA))


@pytest.mark.parametrize("field", sorted(PROVIDER_FIELDS))
def test_provider_field_required_in_both_or_neither(field: str) -> None:
    _, _, optional = _split(PROVIDER_FIELDS[field])
    required = isinstance(_markers(PROVIDER_SCHEMA)[field], vol.Required)
    assert optional is not required
    provider = {"name": "probe", "type": "ollama"}
    provider.pop(field, None)
    assert _accepts(PROVIDER_SCHEMA, provider) is optional


@pytest.mark.parametrize("key", sorted(SCHEMA))
def test_top_level_option_absence(key: str) -> None:
    inner = SCHEMA[key][0] if isinstance(SCHEMA[key], list) else SCHEMA[key]
    optional = isinstance(inner, str) and _split(inner)[2]
    # settings.py fills every top-level default (it also runs from the environment); a key the
    # Supervisor requires must then come with a default in config.yaml, or the add-on would not
    # start until the user set it.
    assert not isinstance(_markers(OPTIONS_SCHEMA)[key], vol.Required)
    if not optional:
        assert key in CONFIG["options"]


@pytest.mark.parametrize("key", sorted(TOP_LEVEL_SCALARS))
def test_scalar_defaults_match(key: str) -> None:
    if key in CONFIG["options"]:
        assert OPTIONS_SCHEMA({})[key] == CONFIG["options"][key]


@pytest.mark.parametrize(("field", "typ", "value"), PROVIDER_PROBES)
def test_provider_field_accepts_what_the_supervisor_accepts(
    field: str, typ: str, value: Any
) -> None:
    supervisor = _accepts(supervisor_validator(typ), value)
    settings = _settings_accepts_provider_field(field, value)
    if _split(typ)[0] == "url":
        # The Supervisor checks URLs; settings.py also takes Ollama's "host:port" form because
        # the same code reads OLLAMA_HOST from the environment.
        assert settings or not supervisor
    else:
        assert settings == supervisor


@pytest.mark.parametrize(("field", "typ", "value"), DOOR_PROBES)
def test_door_field_accepts_what_the_supervisor_accepts(field: str, typ: str, value: Any) -> None:
    settings = _accepts(OPTIONS_SCHEMA, {"ollama_api": {field: value}})
    assert settings == _accepts(supervisor_validator(typ), value)


@pytest.mark.parametrize(
    ("networks", "kept", "problems"),
    [
        (
            ["192.168.1.0/24", "10.0.0.7", "fd00::/8"],
            ["192.168.1.0/24", "10.0.0.7/32", "fd00::/8"],
            0,
        ),
        ([], [], 0),
        (["192.168.1.0/33", "192.168.1.20"], ["192.168.1.20/32"], 1),
        (["kitchen"], [], 1),
    ],
)
def test_allowed_networks_that_are_no_network_are_left_out(
    networks: list[str], kept: list[str], problems: int
) -> None:
    # The Supervisor takes any string here; a typo must cost that entry, never the hub's start.
    settings = parse_options({"ollama_api": {"allowed_networks": networks}})
    assert [str(n) for n in settings.ollama_api.allowed_networks] == kept
    assert len([p for p in settings.problems if "allowed_networks" in p]) == problems


@pytest.mark.parametrize(("key", "typ", "value"), OPTION_PROBES)
def test_option_accepts_what_the_supervisor_accepts(key: str, typ: str, value: Any) -> None:
    assert _settings_accepts_option(key, value) == _accepts(supervisor_validator(typ), value)


@pytest.mark.parametrize(
    ("typ", "choices"),
    [
        (PROVIDER_FIELDS["type"], PROVIDER_TYPES),
        (SCHEMA["log_level"], LOG_LEVELS),
    ],
)
def test_list_choices_are_exactly_the_code_constants(typ: str, choices: tuple[str, ...]) -> None:
    kind, args, _ = _split(typ)
    assert kind == "list"
    assert tuple((args or "").split("|")) == choices


def test_name_pattern_is_the_same_regex() -> None:
    kind, args, _ = _split(PROVIDER_FIELDS["name"])
    assert kind == "match"
    accepted_by_config = [name for name in NAME_PROBES if re.match(args or "", name)]
    accepted_by_settings = [
        name for name in NAME_PROBES if _settings_accepts_provider_field("name", name)
    ]
    assert accepted_by_config == accepted_by_settings
    assert "x" * 32 in accepted_by_config
    assert "x" * 33 not in accepted_by_config


def test_default_options_pass_both_validators() -> None:
    options = CONFIG["options"]
    for key, value in options.items():
        if key in TOP_LEVEL_SCALARS:
            supervisor_validator(TOP_LEVEL_SCALARS[key])(value)
    for provider in options["providers"]:
        for field, value in provider.items():
            supervisor_validator(PROVIDER_FIELDS[field])(value)

    settings = parse_options(options)

    assert [(p.name, p.type, p.base_url) for p in settings.providers] == [
        ("ollama", "ollama", "http://localhost:11434")
    ]
    assert settings.providers[0].enabled
    assert not settings.api_token


def test_optional_options_have_no_default() -> None:
    # A default on a "?" option turns it into a required one in the Supervisor's form.
    optional = [key for key, typ in TOP_LEVEL_SCALARS.items() if _split(typ)[2]]
    assert optional
    assert not set(optional) & set(CONFIG["options"])


def test_credential_key_file_is_left_out_of_backups() -> None:
    patterns = CONFIG["backup_exclude"]
    assert any(PurePosixPath("credentials.key").match(pattern) for pattern in patterns)
    assert not any(PurePosixPath("options.json").match(pattern) for pattern in patterns)


def test_api_ports_are_unpublished_by_default() -> None:
    door_port = CONFIG["options"]["ollama_api"]["port"]
    assert CONFIG["ports"] == {f"{INGRESS_PORT}/tcp": None, f"{door_port}/tcp": None}
    assert set(CONFIG["ports_description"]) == set(CONFIG["ports"])


def test_ollama_door_is_off_and_serves_home_assistant_by_default() -> None:
    defaults = OPTIONS_SCHEMA({})["ollama_api"]
    configured = OPTIONS_SCHEMA({"ollama_api": CONFIG["options"]["ollama_api"]})["ollama_api"]
    assert defaults == configured
    assert defaults["enabled"] is False
    assert defaults["port"] == 11434
    assert defaults["allowed_networks"] == [
        "172.30.32.0/23",
        "127.0.0.0/8",
        "::1/128",
    ]


# --------------------------------------------------------------------------------------------
# translations/en.yaml and DOCS.md
# --------------------------------------------------------------------------------------------
def _described(entry: Mapping[str, Any] | None) -> bool:
    return bool(entry and str(entry.get("name", "")).strip() and entry.get("description"))


def test_every_option_is_translated() -> None:
    translations = _load_yaml("translations/en.yaml")
    configuration = translations["configuration"]
    assert set(configuration) == set(SCHEMA)
    for key in SCHEMA:
        assert _described(configuration[key]), key
    fields = configuration["providers"]["fields"]
    assert set(fields) == set(PROVIDER_FIELDS)
    for field in PROVIDER_FIELDS:
        assert _described(fields[field]), field
    door = configuration["ollama_api"]["fields"]
    assert set(door) == set(DOOR_FIELDS)
    for field in DOOR_FIELDS:
        assert _described(door[field]), field
    assert set(translations["network"]) == set(CONFIG["ports"])


def test_docs_explain_every_option() -> None:
    docs = (ROOT / "DOCS.md").read_text(encoding="utf-8")
    for key in [*SCHEMA, *PROVIDER_FIELDS, *DOOR_FIELDS]:
        assert f"`{key}`" in docs, key
    assert "google-genai" in docs
    assert "google-generativeai" in docs


# --------------------------------------------------------------------------------------------
# run.sh, Dockerfile, build.yaml, apparmor.txt, images
# --------------------------------------------------------------------------------------------
def _exec_line() -> list[str]:
    lines = (ROOT / "run.sh").read_text(encoding="utf-8").splitlines()
    commands = [line for line in lines if line.strip().startswith("exec ")]
    assert len(commands) == 1
    return shlex.split(commands[0])


def _flag(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def test_run_script_starts_the_gateway() -> None:
    script = ROOT / "run.sh"
    data = script.read_bytes()
    assert data.startswith(b"#!/usr/bin/with-contenv bashio\n")
    assert b"\r\n" not in data
    assert script.stat().st_mode & stat.S_IXUSR
    words = _exec_line()
    assert words[:4] == ["exec", "python3", "-m", "addon"]
    assert _flag(words, "--options") == "/data/options.json"
    assert _flag(words, "--data-dir") == "/data"
    assert _flag(words, "--host") == "0.0.0.0"
    assert int(_flag(words, "--port")) == INGRESS_PORT


def test_run_script_is_executable_in_git() -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    result = subprocess.run(
        [git, "ls-files", "--stage", "run.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not result.stdout:
        pytest.skip("run.sh is not tracked by git here")
    assert result.stdout.split()[0] == "100755"


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_dockerfile_builds_from_the_python_base_image() -> None:
    text = _dockerfile()
    default = re.search(r"^ARG BUILD_FROM=(\S+)$", text, re.MULTILINE)
    assert default
    assert default[1].startswith("ghcr.io/home-assistant/base-python:3.13-")
    froms = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert froms == ["${BUILD_FROM}"]
    assert re.search(r"pip install --no-cache-dir -r \S*requirements\.txt", text)
    assert re.search(r"^COPY addon ", text, re.MULTILINE)
    assert re.search(r"^COPY run\.sh /run\.sh$", text, re.MULTILINE)
    assert re.search(r'^CMD \["/run\.sh"\]$', text, re.MULTILINE)


def test_dockerfile_health_check_probes_health_on_the_api_port() -> None:
    text = _dockerfile()
    check = re.search(r"^HEALTHCHECK\b.*?CMD (.+)$", text, re.MULTILINE | re.DOTALL)
    assert check
    assert f"http://127.0.0.1:{INGRESS_PORT}/health" in check[1]
    # A degraded /health (cloud provider down) must not mark the container unhealthy.
    assert "--fail" not in check[1]
    assert " -f " not in check[1]


def test_build_file_covers_every_arch() -> None:
    build = _load_yaml("build.yaml")
    assert set(build["build_from"]) == set(CONFIG["arch"])
    for arch, image in build["build_from"].items():
        assert image.startswith(f"ghcr.io/home-assistant/{arch}-base-python:3.13-")
    tags = {image.rpartition(":")[2] for image in build["build_from"].values()}
    default = re.search(r"^ARG BUILD_FROM=\S+:(\S+)$", _dockerfile(), re.MULTILINE)
    assert default
    assert tags == {default[1]}


def test_apparmor_profile_is_named_after_the_slug_and_confines_python() -> None:
    text = (ROOT / "apparmor.txt").read_text(encoding="utf-8")
    assert re.findall(r"^profile (\S+)", text, re.MULTILINE) == [CONFIG["slug"]]
    assert re.search(r"^\s+/usr/local/bin/python3\* cx -> python,$", text, re.MULTILINE)
    child = text[text.index("profile python") :]
    assert "/data/** rwk," in child
    assert "deny /data/options.json wl," in child
    assert "network inet stream," in child
    assert re.search(r"\bix\b|\bux\b|\bUx\b", child) is None


@pytest.mark.parametrize(("name", "size"), [("icon.png", (128, 128)), ("logo.png", (250, 100))])
def test_store_images(name: str, size: tuple[int, int]) -> None:
    from PIL import Image

    with Image.open(ROOT / name) as image:
        assert image.format == "PNG"
        assert image.size == size


# --------------------------------------------------------------------------------------------
# The package the Dockerfile installs is complete
# --------------------------------------------------------------------------------------------
def _shipped_files() -> list[PurePosixPath]:
    package = ROOT / "addon"
    return [
        PurePosixPath(path.relative_to(package).as_posix())
        for path in sorted(package.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]


def test_every_python_folder_is_a_package() -> None:
    files = set(_shipped_files())
    folders = {path.parent for path in files if path.suffix == ".py"}
    missing = sorted(str(folder) for folder in folders if folder / "__init__.py" not in files)
    assert missing == []


def test_every_data_file_is_package_data() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["addon"]
    data = [path for path in _shipped_files() if path.suffix != ".py"]
    uncovered = [str(p) for p in data if not any(p.full_match(pat) for pat in patterns)]
    assert uncovered == []


# --------------------------------------------------------------------------------------------
# The shared add-on checker (Supervisor + add-on linter rules)
# --------------------------------------------------------------------------------------------
def _python_for_checker() -> str:
    """An interpreter with PyYAML, preferring one that also has jsonschema (linter rules)."""
    candidates = [sys.executable, *filter(None, [shutil.which("python3")])]
    usable = []
    for python in candidates:
        probe = subprocess.run(
            [python, "-c", "import yaml, jsonschema"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return python
        usable.append(python)
    return usable[0]


def test_shared_add_on_checker_passes() -> None:
    checker = next((path for path in CHECKER_CANDIDATES if path.is_file()), None)
    if checker is None:
        pytest.skip("shared/tools/check_addon.py is not available next to the repository")
    result = subprocess.run(
        [_python_for_checker(), str(checker), ".", "--repo-root", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^0 errors, 0 linter issues", result.stdout, re.MULTILINE), result.stdout
