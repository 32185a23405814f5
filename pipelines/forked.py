"""Worker processes forked from a run (ingestion's readers, the dashboards' builders).

A forked worker shares the run's open files, its run lock among them (pipelines/runlock.py
lets go of it in the child), and a worker of a run killed with -9 would otherwise live on:
waiting for work that never comes, it kept the lock, and every later run refused. So each
worker asks Linux to kill it when the process that forked it ends (``PR_SET_PDEATHSIG``), and
ends at once if that process is already gone. Fork is used where it exists (Linux, macOS): a
worker starts in milliseconds with the run's modules already imported, where a fresh
interpreter takes a second or two to import pandas, plotly and great-expectations.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import re
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# a DuckDB memory size, e.g. "2GB", "1.5 GiB", "500MB"
MEMORY_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b)\s*", re.IGNORECASE)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def share(config: dict[str, str], workers: int) -> dict[str, str]:
    """A worker's DuckDB ``config`` of a job's: its memory limit and CPUs split between
    ``workers`` (the job's connections share one limit; a limit DuckDB would read in another
    form is kept as it is)."""
    shared = dict(config)
    shared["threads"] = str(max(1, int(config.get("threads") or usable_cpus()) // workers))
    size = MEMORY_SIZE.fullmatch(str(config.get("memory_limit", "")))
    if size:
        number, unit = float(size.group(1)), size.group(2).lower()
        total = number * (1024 if "i" in unit else 1000) ** ("kmgt".index(unit[0]) + 1)
        shared["memory_limit"] = f"{max(1, int(total / workers / 10**6))}MB"
    return shared


def forked_pool(workers: int, initializer: Callable[..., None] | None = None,
                initargs: tuple = ()) -> ProcessPoolExecutor:
    """A pool of ``workers`` forked processes that end with this one (create it in the thread
    that waits for it: Linux kills the workers when the thread that forked them ends)."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start, initargs=(os.getpid(), initializer, initargs))


def _start(parent: int, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the run ended before the request above took effect
        os._exit(1)
    if initializer is not None:
        initializer(*initargs)
