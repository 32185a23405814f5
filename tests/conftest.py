"""Shared fixtures. The whole session runs against throwaway paths, never the repo's data/."""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


# The longest modules first (each several minutes of real runs): pytest-xdist hands modules
# to workers in collection order (--dist loadfile), so starting these first keeps a worker from
# taking one of them last while the other has finished.
LONGEST_FIRST = ("test_faults.py", "test_incremental_marts.py", "test_weekly_job.py",
                 "test_dbt_models.py", "test_dashboards.py", "test_indicator_values.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def pytest_configure(config: pytest.Config) -> None:
    """Point every pocmon path and the Dagster instance at a session temp folder."""
    base = Path(tempfile.mkdtemp(prefix="pocmon-tests-"))
    config.add_cleanup(lambda: shutil.rmtree(base, ignore_errors=True))
    home = base / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    os.environ.update({
        "POCMON_INBOX": str(base / "inbox"),
        "POCMON_WAREHOUSE": str(base / "warehouse" / "pocmon.duckdb"),
        "POCMON_PUBLISHED": str(base / "published"),
        "POCMON_KEY_FILE": str(base / "secrets" / "pseudonym.key"),
        "POCMON_DEMO_TRUTH": str(base / "demo" / "demo_truth.json"),
        "DAGSTER_HOME": str(home),
        "GX_ANALYTICS_ENABLED": "false",
    })
    os.environ.pop("POCMON_PSEUDONYM_KEY", None)


@pytest.fixture(scope="session")
def reference():
    from pipelines.reference import load_reference

    return load_reference(REPO / "dbt_project" / "seeds" / "reference")


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator:
    """A real, empty DuckDB warehouse file with the ingestion schema."""
    from pipelines.ingest.warehouse import connect

    with connect(tmp_path / "warehouse.duckdb") as con:
        yield con


def write_csv(path: Path, rows: list[dict], delimiter: str = ",") -> Path:
    """Write dict rows as a CSV file (header from the first row's keys)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path
