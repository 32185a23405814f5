"""One weekly job at a time: an exclusive lock on a file beside the warehouse.

The lock is an ``flock`` on ``.pocmon-run.lock``: the operating system releases it when the
holding process ends, even on ``kill -9``, so a crashed run never leaves a stale lock. The file
itself says who holds it (pid, command, start time) so that a second run can say so plainly.
Locking is re-entrant within a process: the CLI takes it, and the job it starts in the same
process does not wait for itself. A process forked while the lock is held does not hold it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

LOCK_NAME = ".pocmon-run.lock"
_held: dict[Path, int] = {}  # lock path -> depth, for this process
_handles: dict[Path, IO[str]] = {}  # lock path -> its open file, while held


def _let_go_in_child() -> None:
    """In a forked child: point its copies of the held lock files at /dev/null. The lock stays
    the parent's, and a child that outlived it (e.g. after kill -9) would otherwise keep it
    held: flock belongs to the open file, which every copy of the descriptor keeps open."""
    for handle in _handles.values():
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, handle.fileno())
        os.close(devnull)
    _handles.clear()
    _held.clear()


os.register_at_fork(after_in_child=_let_go_in_child)


class RunInProgress(Exception):
    """Another pocmon run holds the warehouse; the message says which and what to do."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.parent / LOCK_NAME


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    try:
        info = json.loads(handle.read() or "{}")
    except json.JSONDecodeError:
        info = {}
    if not info:
        return "another pocmon process"
    command = info.get("command", "pocmon")
    shown = f"`{command}`" if command.startswith("pocmon") else command
    return f"pid {info.get('pid')}, {shown}, started {info.get('started', '?')} UTC"


def _try_lock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def run_lock(warehouse: Path, *, wait_seconds: float = 0,
             on_wait: Callable[[str], None] | None = None,
             holder: str | None = None) -> Iterator[None]:
    """Hold the run lock of ``warehouse``; wait up to ``wait_seconds`` for it, then refuse.
    ``holder``: what holds it, in words, for the refusal of others (default: this pocmon
    command line)."""
    path = lock_path(warehouse).resolve()
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        deadline = time.monotonic() + max(wait_seconds, 0)
        while not _try_lock(handle):
            other = _holder(handle)
            if time.monotonic() >= deadline:
                hint = ("wait for it to finish, or pass --wait SECONDS to queue behind it"
                        if wait_seconds <= 0 else f"gave up after waiting {wait_seconds:g} s")
                raise RunInProgress(
                    f"another pocmon run is using the warehouse {warehouse} ({other}); "
                    f"{hint}. Nothing was changed."
                )
            if on_wait:
                on_wait(f"Waiting for the run in progress ({other})...")
            time.sleep(0.5)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({
            "pid": os.getpid(),
            "command": holder or " ".join(["pocmon", *sys.argv[1:]])[:200],
            "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }))
        handle.flush()
        _held[path], _handles[path] = 1, handle
        try:
            yield
        finally:
            del _held[path], _handles[path]
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
