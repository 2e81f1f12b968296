"""The quick-start demo (``scripts/demo.py``) run for real: it ends cleanly with ``--no-wait``
without claiming a running hub, and leaves no temporary directory behind on any way out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUARD_S = 300  # failure guard for a loaded machine; the demo itself takes seconds


def demo(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "scripts.demo", *args],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def leftovers(tmp_path: Path) -> list[Path]:
    return list(tmp_path.glob("ai-provider-hub-demo-*"))


def test_no_wait_ends_cleanly_and_removes_its_directory(tmp_path: Path) -> None:
    process = demo(tmp_path, "--no-wait")
    output, _ = process.communicate(timeout=GUARD_S)
    assert process.returncode == 0, output[-2000:]
    assert "Walk-through done." in output
    assert "is running at" not in output
    assert "Try:" not in output
    assert leftovers(tmp_path) == []


def test_sigterm_while_serving_removes_its_directory(tmp_path: Path) -> None:
    process = demo(tmp_path)
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("Press Ctrl-C to stop."):
            break
    assert leftovers(tmp_path), "".join(seen)[-2000:]  # the directory exists while serving
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=GUARD_S)
    assert "Stopped the hub" in output
    assert leftovers(tmp_path) == []
