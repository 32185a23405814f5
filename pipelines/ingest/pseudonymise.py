"""Keyed pseudonyms (HMAC-SHA256) for personal data, applied before anything is stored.

The key comes from ``POCMON_PSEUDONYM_KEY`` or, failing that, from a local key file created on
first run with owner-only permissions (git-ignored). The key itself is never stored or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

KEY_ENV = "POCMON_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 32


class PseudonymKeyError(Exception):
    """The pseudonymisation key is unusable."""


def load_key(key_file: Path) -> bytes:
    """The secret key, from the environment or the key file; never creates one (for reading
    what an earlier run sealed: a new key could not open it)."""
    if not os.environ.get(KEY_ENV) and not key_file.exists():
        raise PseudonymKeyError(
            f"no pseudonymisation key: {KEY_ENV} is not set and there is no key file at "
            f"{key_file} (the key the data were sealed with is needed; restore it there)")
    return load_or_create_key(key_file)


def load_or_create_key(key_file: Path) -> bytes:
    """The secret key: from the environment, else the key file (created if missing)."""
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        if len(from_env) < MIN_KEY_LENGTH:
            raise PseudonymKeyError(f"{KEY_ENV} must be at least {MIN_KEY_LENGTH} characters long")
        return from_env.encode()
    if key_file.exists():
        key = key_file.read_text(encoding="ascii").strip()
        if len(key) < MIN_KEY_LENGTH:
            raise PseudonymKeyError(
                f"the key file {key_file} is too short; delete it to make a new one"
            )
        return key.encode()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key.encode()


def _normalise(value: str, phone: bool) -> str:
    if phone:
        digits = re.sub(r"\D", "", value)
        return ("+" if value.strip().startswith("+") else "") + digits
    return " ".join(value.casefold().split())


def pseudonymise(values: pd.Series, key: bytes, *, phone: bool = False) -> pd.Series:
    """Replace each value by a stable keyed pseudonym; missing values stay missing.

    Each distinct value is hashed once (a file names the same informant on many rows)."""
    out = np.full(len(values), None, dtype=object)
    present = values.notna().to_numpy()
    if present.any():
        codes, uniques = pd.factorize(values[present].astype(str))
        names = np.array([
            "pk_" + hmac.digest(key, _normalise(u, phone).encode(), hashlib.sha256).hex()[:24]
            for u in uniques], dtype=object)
        out[present] = names[codes]
    return pd.Series(out, index=values.index, dtype=object)
