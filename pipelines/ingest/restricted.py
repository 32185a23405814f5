"""Restricted free text (incident narratives), sealed before it is stored.

A file's restricted column is kept as one encrypted, authenticated token per file, so that
neither the DuckDB file nor a copy of it holds a narrative in clear. The token is stored in
parts of at most ``PART_BYTES`` (``restricted.<source>_<column>``: ``_file_id``, ``part``,
``rows``, ``token``; ``rows`` is the file's row count on part 0 and 0 on the others): DuckDB
rewrites the row group a new row lands in when it checkpoints, and with one token of up to a
megabyte per file that was the whole table, a few seconds more every week as history grows.
The token is Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a key
derived with HKDF from the pseudonymisation key: one secret to keep, two keys that cannot
stand in for each other. Cleared staff read the text back with ``open_restricted``
(``pocmon restricted``); dbt never reads it.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache

import duckdb
import pandas as pd

_INFO = b"pocmon restricted text v1"
# below DuckDB's 4 KiB string block, so a part is stored inline in its row group
PART_BYTES = 4000


class RestrictedKeyError(Exception):
    """The key cannot open a sealed token (another key, or a damaged token)."""


@lru_cache(maxsize=4)
def _fernet(key: bytes):
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key)
    return Fernet(base64.urlsafe_b64encode(derived))


def _text(column: pd.Series) -> pd.Series:
    """Each value as ``str`` writes it, None where missing (strings and numbers column-wise;
    anything else, such as a date at midnight, value by value)."""
    if column.dtype.kind in "OUSiufb" or isinstance(column.dtype, pd.StringDtype):
        text = column.astype("string")
    else:
        text = column.map(lambda v: None if pd.isna(v) else str(v)).astype("string")
    return text.astype(object).where(text.notna(), None)


def seal(records: pd.DataFrame, key: bytes) -> bytes:
    """One token holding every row of ``records`` (columns kept, values as text)."""
    payload = {
        "columns": list(records.columns),
        "rows": pd.DataFrame({name: _text(column) for name, column in records.items()})
        .to_numpy().tolist(),
    }
    return _fernet(key).encrypt(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def token_parts(token: bytes) -> list[bytes]:
    """A token cut into the parts it is stored in (joined again in ``part`` order)."""
    return [token[i:i + PART_BYTES] for i in range(0, len(token), PART_BYTES)] or [b""]


def store_sealed(con: duckdb.DuckDBPyConnection, table: str,
                 tokens: list[tuple[str, int, bytes]]) -> None:
    """Files' tokens (file id, rows sealed, token) into their restricted table, in parts."""
    parts = pd.DataFrame(
        [(file_id, part, rows if part == 0 else 0, chunk)
         for file_id, rows, token in tokens for part, chunk in enumerate(token_parts(token))],
        columns=["_file_id", "part", "rows", "token"])
    if not parts.empty:
        # DuckDB's replacement scan reads the local frame (bytes objects become blobs)
        con.execute(f"insert into {table} select _file_id, part, rows, token::blob from parts")


def unseal(token: bytes, key: bytes) -> pd.DataFrame:
    """The rows sealed in ``token``."""
    from cryptography.fernet import InvalidToken

    try:
        payload = json.loads(_fernet(key).decrypt(bytes(token)))
    except InvalidToken as exc:
        raise RestrictedKeyError(
            "the restricted text cannot be opened with this key (it was sealed with another "
            "pseudonymisation key, or it is damaged)"
        ) from exc
    return pd.DataFrame(payload["rows"], columns=payload["columns"])


def open_restricted(con: duckdb.DuckDBPyConnection, source: str, column: str, key: bytes
                    ) -> pd.DataFrame:
    """Every current row of a restricted column, in clear, with its file id: cleared staff only."""
    frames = []
    for file_id, parts in con.execute(
        f"select _file_id, list(token order by part) from restricted.{source}_{column} "
        "group by _file_id order by _file_id"
    ).fetchall():
        frame = unseal(b"".join(parts), key)
        frame.insert(0, "_file_id", file_id)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
