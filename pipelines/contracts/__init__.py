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
    # other published spellings of allowed values (e.g. "Formed Police Units")
    value_aliases: dict[str, str] = Field(default_factory=dict)
    min: float | None = None
    max: float | None = None
    reference: Literal["missions", "sectors", "sites", "units"] | None = None
    local_time: bool = False
    allow_future: bool = False  # dates and times: a value after the run's date is allowed
    personal: bool = False
    phone: bool = False
    restricted: bool = False
    # an exact coordinate: loaded (site assignment needs it) but never published, and shown
    # only to the whole degree in the quarantine
    location: bool = False

    @property
    def pseudonym_column(self) -> str:
        """The column that replaces a personal column in the warehouse."""
        return f"{self.name.removesuffix('_id')}_key"


RuleKind = Literal["not_before", "at_most", "required_when", "sum_equals", "group_total",
                   "not_zero_point", "swapped_coordinates", "in_country"]


class RuleSpec(BaseModel):
    """A rule across columns or rows, checked after each column's own rules.

    ``not_before``/``at_most``: ``column`` against ``other``; ``required_when``: ``column``
    needed under ``when``; ``sum_equals``: ``column`` equals the sum of ``parts``;
    ``group_total``: in rows whose ``total_when`` column holds one of its values (e.g. a
    contributor "all"), each of ``columns`` equals the sum over the other rows with the same
    ``group_by`` values in the file; ``not_zero_point``: ``column`` (latitude) and ``other``
    (longitude) are not both 0; ``swapped_coordinates``/``in_country``: the point lies in the
    bounding box of the mission country named by ``country`` (seed country_bounds), and is not
    a point that lies there only once latitude and longitude are exchanged.
    """

    name: str
    kind: RuleKind
    column: str
    other: str | None = None
    when: dict[str, str] | None = None
    parts: list[str] | None = None
    columns: list[str] | None = None
    group_by: list[str] | None = None
    total_when: dict[str, list[str]] | None = None
    country: str | None = None

    @property
    def checked_columns(self) -> list[str]:
        """The columns an issue of this rule is reported on (one issue per column)."""
        return list(self.columns or [self.column])

    def involves(self, column: str) -> list[str]:
        """Columns whose own failure makes this rule moot for a row."""
        named = [column, self.other, self.country, *(self.parts or []), *(self.group_by or [])]
        return [c for c in dict.fromkeys(named) if c]


class PeriodSpec(BaseModel):
    """What period a file covers: the ISO week or month most of its rows fall in, a label,
    or (``span``) the first to the last month of its rows, for published datasets whose
    files cover years; a later file whose span covers an earlier one's supersedes it."""

    column: str
    grain: Literal["week", "month", "label", "span"]


class Contract(BaseModel):
    source: str
    description: str
    key: list[str]
    mission_column: str
    # the mission column holds published names (a country, a DPO acronym) that the seed
    # public_names maps to missions, for this dataset; rows it does not map load, but stay out
    # of the marts (the manifest says how many)
    mission_lookup: str | None = None
    period: PeriodSpec
    columns: dict[str, ColumnSpec]
    rules: list[RuleSpec] = Field(default_factory=list)
    # published columns known and deliberately not loaded (not listed as unexpected)
    unused_columns: list[str] = Field(default_factory=list)

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
