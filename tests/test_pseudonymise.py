"""Keyed pseudonyms: stable, keyed, normalised, and the key file is private."""

from __future__ import annotations

import stat

import pandas as pd
import pytest

from pipelines.ingest.pseudonymise import (
    KEY_ENV,
    PseudonymKeyError,
    load_or_create_key,
    pseudonymise,
)


def test_same_person_same_pseudonym_and_key_matters():
    names = pd.Series(["Amina  Diallo", "amina diallo", "Jean Ngaba", None])
    one = pseudonymise(names, b"a" * 32)
    assert one[0] == one[1] != one[2]
    assert one[3] is None
    assert "amina" not in one[0].lower()
    assert pseudonymise(names, b"b" * 32)[0] != one[0]


def test_phone_numbers_are_normalised_before_hashing():
    phones = pd.Series(["+211 912 345 678", "+211-912-345-678", "+211 912 345 679"])
    keys = pseudonymise(phones, b"a" * 32, phone=True)
    assert keys[0] == keys[1] != keys[2]


def test_key_file_created_once_with_owner_only_permissions(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    path = tmp_path / "secrets" / "pseudonym.key"
    first = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == first
    assert len(first) >= 32


def test_key_from_environment_wins_and_must_be_long(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "x" * 40)
    assert load_or_create_key(tmp_path / "unused.key") == b"x" * 40
    assert not (tmp_path / "unused.key").exists()
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(PseudonymKeyError, match="at least 32"):
        load_or_create_key(tmp_path / "unused.key")
