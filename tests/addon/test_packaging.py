"""Packaging: ``pip install .`` declares the runtime dependencies from the one pinned list, and
the quick-start scripts keep one install marker scheme and clean up after themselves."""

from __future__ import annotations

import subprocess
from email.parser import Parser
from pathlib import Path

import pytest
from setuptools import build_meta

ROOT = Path(__file__).resolve().parents[2]


def pinned(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def test_built_metadata_requires_exactly_the_pinned_runtime_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    info = build_meta.prepare_metadata_for_build_wheel(str(tmp_path))
    metadata = Parser().parsestr((tmp_path / info / "METADATA").read_text())
    requires = sorted(metadata.get_all("Requires-Dist") or [])
    expected = sorted(pinned(ROOT / "requirements.txt"))
    assert [r.replace(" ", "") for r in requires] == [e.replace(" ", "") for e in expected]
    assert "aiohttp==" in " ".join(requires)


def test_every_dev_requirement_is_pinned() -> None:
    unpinned = [r for r in pinned(ROOT / "requirements-dev.txt") if "==" not in r]
    assert unpinned == []


def fake_venv(root: Path) -> Path:
    """A venv whose python only records the pip installs asked of it."""
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\necho "$@" >> {root / "installs.log"}\n')
    python.chmod(0o755)
    return root / "installs.log"


def ensure(root: Path, requirements: str) -> None:
    # _env.sh moves to the repository root; the fake project lives in ``root``.
    env_sh = ROOT / "scripts" / "_env.sh"
    script = f'source "{env_sh}" && cd "{root}" && ensure_venv .venv {requirements}'
    subprocess.run(["bash", "-c", script], cwd=root, check=True, timeout=60)


@pytest.mark.parametrize(
    ("sequence", "installs"),
    [
        (["requirements-dev.txt", "requirements.txt", "requirements-dev.txt"], 1),
        (["requirements.txt", "requirements-dev.txt", "requirements.txt"], 2),
        (["requirements.txt", "requirements.txt"], 1),
    ],
)
def test_demo_and_test_share_install_markers(
    tmp_path: Path, sequence: list[str], installs: int
) -> None:
    log = fake_venv(tmp_path)
    (tmp_path / "requirements.txt").write_text("aiohttp==1\n")
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\npytest==1\n")
    for requirements in sequence:
        ensure(tmp_path, requirements)
    assert len(log.read_text().splitlines()) == installs
    (tmp_path / "requirements.txt").write_text("aiohttp==2\n")  # a new pin: install again
    ensure(tmp_path, "requirements.txt")
    assert len(log.read_text().splitlines()) == installs + 1


def test_gitignore_covers_the_readme_files() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "my-options.json", "hub-data/ledger.sqlite3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ignored.stdout.split() == ["my-options.json", "hub-data/ledger.sqlite3"]
