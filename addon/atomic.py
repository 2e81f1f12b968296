"""Crash-safe file writes: a file is either its old or its new content, never a mix.

Each write goes to a temporary file in the same directory (so the final step is a rename
within one file system), is flushed with ``fsync``, then renamed (or hard-linked, to create
a file only if it does not exist yet), and the directory is ``fsync``-ed so the rename itself
survives a power cut. A crash leaves at most a stray ``.<name>.*.tmp`` file behind, which
``remove_stale_temps`` clears.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

PRIVATE_MODE = 0o600


def fsync_dir(directory: Path) -> None:
    """Make renames and unlinks in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = PRIVATE_MODE) -> None:
    """Replace ``path`` with ``data`` atomically and durably; the file gets ``mode``."""
    temp = _write_temp(path, data, mode)
    try:
        os.replace(temp, path)
    except BaseException:
        _unlink_quietly(temp)
        raise
    fsync_dir(path.parent)


def create_exclusive(path: Path, data: bytes, mode: int = PRIVATE_MODE) -> None:
    """Create ``path`` holding ``data``, complete or not at all; ``FileExistsError`` if it exists.

    The hard link publishes the fully written temp file under the final name in one step and,
    unlike a rename, refuses to overwrite a file another process created meanwhile.
    """
    temp = _write_temp(path, data, mode)
    try:
        os.link(temp, path)
    finally:
        _unlink_quietly(temp)
    fsync_dir(path.parent)


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete temp files an interrupted write of ``path`` left behind; returns what went."""
    stale = sorted(path.parent.glob(f".{path.name}.*.tmp"))
    for temp in stale:
        _unlink_quietly(temp)
    if stale:
        fsync_dir(path.parent)
    return stale


def _write_temp(path: Path, data: bytes, mode: int) -> Path:
    # mkstemp opens with O_EXCL and mode 0600, so the data is never readable by others.
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        _unlink_quietly(temp)
        raise
    return temp


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
