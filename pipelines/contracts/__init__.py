"""Input contracts: one YAML file per source, read into typed models here.

The great-expectations suite (``pipelines.ingest.validate``) and the DuckDB raw tables
(``pipelines.ingest.warehouse``) are both generated from these contracts, never kept twice.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from pipelines.config import SOURCES

ColumnType = Literal["string", "integer", "number", "timestamp", "date", "month", "boolean"]

DUCKDB_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "month": "DATE",
    "boolean": "BOOLEAN",
}

LINEAGE_COLUMNS: dict[str, str] = {
    "_file_id": "VARCHAR",
    "_source_file": "VARCHAR",
    "_content_hash": "VARCHAR",
    "_row_number": "INTEGER",
    "_loaded_at": "TIMESTAMP",
}


class ColumnSpec(BaseModel):
    name: str = ""
    type: ColumnType
    required: bool = False
    aliases: list[str] = Field(default_factory=list)
    allowed: list[str] | None = None
    values_fr: dict[str, str] = Field(default_factory=dict)
    min: float | None = None
    max: float | None = None
    reference: Literal["missions", "sectors", "sites", "units"] | None = None
    local_time: bool = False
    allow_future: bool = False  # dates and times: a value after the run's date is allowed
    personal: bool = False
    phone: bool = False
    restricted: bool = False

    @property
    def pseudonym_column(self) -> str:
        """The column that replaces a personal column in the warehouse."""
        return f"{self.name.removesuffix('_id')}_key"


class RuleSpec(BaseModel):
    """A cross-field rule: ``column`` compared with ``other`` or required under a condition."""

    name: str
    kind: Literal["not_before", "at_most", "required_when"]
    column: str
    other: str | None = None
    when: dict[str, str] | None = None


class PeriodSpec(BaseModel):
    column: str
    grain: Literal["week", "month", "label"]


class Contract(BaseModel):
    source: str
    description: str
    key: list[str]
    mission_column: str
    period: PeriodSpec
    columns: dict[str, ColumnSpec]
    rules: list[RuleSpec] = Field(default_factory=list)

    def model_post_init(self, __context: object) -> None:
        for name, spec in self.columns.items():
            spec.name = name

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.required]

    @property
    def personal_columns(self) -> list[ColumnSpec]:
        return [c for c in self.columns.values() if c.personal]

    @property
    def restricted_columns(self) -> list[ColumnSpec]:
        return [c for c in self.columns.values() if c.restricted]

    def raw_table_columns(self) -> dict[str, str]:
        """Columns of ``raw.<source>`` in order, with their DuckDB types.

        Personal columns are replaced by their keyed pseudonym, restricted columns are left
        out (they go to ``restricted.<source>_<column>``), local timestamps gain a UTC twin.
        """
        columns: dict[str, str] = {}
        for spec in self.columns.values():
            if spec.restricted:
                continue
            if spec.personal:
                columns[spec.pseudonym_column] = "VARCHAR"
                continue
            columns[spec.name] = DUCKDB_TYPES[spec.type]
            if spec.local_time:
                columns[f"{spec.name}_utc"] = "TIMESTAMP"
        return columns | LINEAGE_COLUMNS


@cache
def load_contract(source: str) -> Contract:
    """The contract of one source, from ``pipelines/contracts/<source>.yaml``."""
    path = Path(__file__).with_name(f"{source}.yaml")
    return Contract.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def load_contracts() -> dict[str, Contract]:
    """Every source's contract, in pipeline order."""
    return {source: load_contract(source) for source in SOURCES}
