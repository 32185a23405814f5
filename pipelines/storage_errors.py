"""Plain words for the storage failures a user can fix: a full disk, a read-only folder."""

from __future__ import annotations

import errno

_REASONS = {
    errno.ENOSPC: ("No space left on device", "the disk is full"),
    errno.EDQUOT: ("Disk quota exceeded", "the disk quota is used up"),
    errno.EROFS: ("Read-only file system", "the folder is on a read-only file system"),
    errno.EACCES: ("Permission denied", "permission denied"),
}


def storage_problem(exc: BaseException) -> str | None:
    """What went wrong, in words, when ``exc`` is a storage failure (OSError or DuckDB's)."""
    if isinstance(exc, OSError) and exc.errno in _REASONS:
        return _REASONS[exc.errno][1]
    if isinstance(exc, PermissionError):
        return "permission denied"
    text = str(exc)
    for system_text, words in _REASONS.values():
        if system_text in text:
            return words
    return None
