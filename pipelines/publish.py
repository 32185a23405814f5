"""Publish a folder of outputs atomically: write beside it, then swap it into place.

Readers of ``data/published/<name>`` see either the old complete folder or the new complete
one, never a mix and never nothing. On Linux the swap is one ``renameat2(RENAME_EXCHANGE)``
system call; elsewhere (or on a file system without it) two renames, and a folder left
half-swapped by a killed process is put back by the next publish (``recover``).
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.storage_errors import storage_problem

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class PublishError(Exception):
    """The outputs could not be written; the previous ones are unchanged."""


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step; False where the system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(a))


def _leftovers(target: Path, kind: str) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.{kind}-*"),
                  key=lambda p: p.stat().st_mtime)


def recover(target: Path) -> None:
    """Undo what a killed publish left: restore a retired folder, drop unfinished ones."""
    retired = _leftovers(target, "old")
    if not target.exists() and retired:
        os.replace(retired.pop(), target)
    for leftover in retired + _leftovers(target, "tmp"):
        shutil.rmtree(leftover, ignore_errors=True)


def _describe(target: Path, exc: OSError) -> str:
    reason = storage_problem(exc) or exc.strerror or str(exc)
    return (f"cannot publish {target}: {reason} ({exc.filename or target}). The previous "
            "outputs there are unchanged; free space or fix the permissions and run again.")


@contextmanager
def publish_folder(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it replaces ``target`` in one swap.

    If writing fails or the process dies, ``target`` is untouched. A full disk or a read-only
    folder raises ``PublishError`` with a message saying so.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        recover(target)
        staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
    except OSError as exc:
        raise PublishError(_describe(target, exc)) from exc
    try:
        try:
            yield staging
            _swap_in(staging, target)
        except OSError as exc:
            raise PublishError(_describe(target, exc)) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, target: Path) -> None:
    from pipelines.faults import checkpoint

    checkpoint(f"publish:{target.name}")
    if target.exists() and _exchange(staging, target):
        return  # staging now holds the old folder, removed by the caller
    retired = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    if target.exists():
        os.replace(target, retired)
    checkpoint(f"publish:{target.name}:between-renames")
    os.replace(staging, target)
    shutil.rmtree(retired, ignore_errors=True)
