"""``pocmon demo --patrols N --incidents M``: inbox files at scale, one mission-week at a time.

For benchmarks and load tests: millions of rows for every mission of the reference data over
several years, as CSV files exactly as the contracts expect (one file per mission and ISO week
for patrols, incidents and trainings, per month for strength, per round for surveys). Each
mission-week is drawn (vectorised numpy, ``pipelines.demo.bulk_rows``), written with Arrow's CSV
writer and dropped, so memory stays flat whatever the history. References are valid (the
mission's sites and its units deployed that week); personal columns and narratives are filled so
pseudonymisation and sealing are exercised; a tiny share of rows (``bad_share``) each break one
rule so the quarantine is exercised too. Francophone missions write French headers and codes,
``;``-separated with decimal commas; the others English CSV. No effects are planted: the small
``pocmon demo`` (``pipelines.demo.generator``) is the one with a known truth.

The same arguments give the same files. Rows and ids are drawn per mission-week (ids carry the
ISO week), so ``--start`` with ``--weeks 1`` adds a next week to a history without clashing
with it; the totals are then that week's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from pipelines.config import SOURCES
from pipelines.contracts import Contract, load_contract
from pipelines.demo.bulk_rows import (
    DAY,
    MissionModel,
    WeekBuilder,
    day_number,
    strength_month,
    survey_round,
)
from pipelines.demo.files import french_values
from pipelines.reference import Reference, load_reference

Progress = Callable[[str], None]
BULK_START = dt.date(2021, 1, 4)  # the Monday of ISO week 2021-W01
ROUND_EVERY_WEEKS = 13
DELIMITER = {"fr": ";", "en": ","}
BOOLEAN_WORDS = {"fr": ("oui", "non"), "en": ("yes", "no")}
LATE_SHARE = 0.1


@dataclass
class BulkSummary:
    """What ``generate_bulk`` wrote."""

    files: int = 0
    bytes: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))
    planted_bad_rows: int = 0
    start: dt.date = BULK_START
    weeks: int = 0
    seconds: float = 0.0


def localise(contract: Contract, table: pa.Table, language: str) -> pa.Table:
    """Headers, codes, decimal commas and yes/no words as the mission's export has them."""
    french = french_values(contract) if language == "fr" else {}
    columns, names = [], []
    for name, spec in contract.columns.items():
        column = table.column(name)
        if name in french:
            encoded = pc.dictionary_encode(column).combine_chunks()
            labels = [french[name].get(v, v) for v in encoded.dictionary.to_pylist()]
            column = pc.take(pa.array(labels, pa.string()), encoded.indices)
        elif spec.type == "number":
            column = pc.cast(column, pa.string())
            if language == "fr":
                column = pc.replace_substring(column, ".", ",")
        elif spec.type == "boolean":
            yes, no = BOOLEAN_WORDS[language]
            column = pc.if_else(column, yes, no)
        columns.append(column)
        names.append(spec.aliases[0] if language == "fr" and spec.aliases else name)
    return pa.table(columns, names=names)


def write_csv(path: Path, contract: Contract, table: pa.Table, language: str,
              submitted: dt.datetime) -> int:
    """Write one inbox file (bytes written); its modification time is when it was handed in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = pcsv.WriteOptions(delimiter=DELIMITER[language], quoting_style="needed")
    pcsv.write_csv(localise(contract, table, language), path, options)
    stamp = submitted.timestamp()
    os.utime(path, (stamp, stamp))
    return path.stat().st_size


def _submitted(after: dt.date, rng: np.random.Generator) -> dt.datetime:
    """Handed in the first Monday on or after ``after``, 06:00 to 09:00 UTC (the reporting
    deadline is Monday 12:00 local), LATE_SHARE of files one to three days late."""
    day = after + dt.timedelta(days=(7 - after.weekday()) % 7)
    minutes = int(rng.integers(6 * 60, 9 * 60))
    if rng.random() < LATE_SHARE:
        minutes += int(rng.integers(1, 4)) * DAY
    return dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(minutes=minutes)


def _week_number(monday: dt.date) -> int:
    """Weeks since BULK_START's weekday grid (the same week always gets the same number)."""
    return (monday - dt.date(2000, 1, 3)).days // 7


def weekly_volumes(models: list[MissionModel], mondays: list[dt.date], total: int,
                   seed: int, salt: int) -> np.ndarray:
    """Rows per mission (rows) and week (columns) summing exactly to ``total``: missions by
    activity, weeks with a seasonal swing and noise."""
    rng = np.random.default_rng([seed, salt, _week_number(mondays[0]), len(mondays)])
    weeks = np.array([_week_number(m) for m in mondays])
    phase = np.array([np.random.default_rng([seed, salt, k]).uniform(0, 2 * np.pi)
                      for k in range(len(models))])
    season = np.exp(0.25 * np.sin(2 * np.pi * weeks[None, :] / 52 + phase[:, None]))
    activity = np.array([m.activity for m in models])[:, None]
    p = (activity * season * rng.uniform(0.9, 1.1, season.shape)).ravel()
    return rng.multinomial(total, p / p.sum()).reshape(season.shape)


def _week_label(monday: dt.date) -> str:
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def generate_bulk(inbox: Path, *, patrols: int, incidents: int, weeks: int, seed: int = 7,
                  start: dt.date = BULK_START, bad_share: float = 1e-5,
                  reference: Reference | None = None, truth_path: Path | None = None,
                  progress: Progress | None = None) -> BulkSummary:
    """Write ``weeks`` weeks from Monday ``start`` for every mission of the reference data:
    ``patrols`` patrols and ``incidents`` incidents in all, plus trainings, strength returns
    and survey rounds. Returns counts; ``truth_path`` gets them and samples of the personal
    values written (for privacy scans)."""
    if start.weekday() != 0:
        raise ValueError(f"start must be a Monday, not {start:%A %Y-%m-%d}")
    began = time.monotonic()
    say = progress or (lambda _message: None)
    reference = reference or load_reference()
    contracts = {source: load_contract(source) for source in SOURCES}
    missions = reference.missions.sort_values("mission_id").reset_index(drop=True)
    models = [
        MissionModel.build(np.random.default_rng([seed, k]), mission,
                           reference.sites[reference.sites["mission_id"] == mission["mission_id"]],
                           reference.units[reference.units["mission_id"] == mission["mission_id"]])
        for k, mission in missions.iterrows()
    ]
    mondays = [start + dt.timedelta(days=7 * w) for w in range(weeks)]
    patrol_counts = weekly_volumes(models, mondays, patrols, seed, 1)
    incident_counts = weekly_volumes(models, mondays, incidents, seed, 2)
    summary = BulkSummary(start=start, weeks=weeks)
    samples: dict[str, list[str]] = {"reporter_names": [], "reporter_phones": [],
                                     "narratives": []}
    months_done: set[tuple[str, dt.date]] = set()

    def emit(source: str, mission: MissionModel, period: str, table: pa.Table,
             submitted: dt.datetime) -> None:
        path = inbox / source / f"{mission.mission_id}_{period}_{source}.csv"
        summary.bytes += write_csv(path, contracts[source], table, mission.language, submitted)
        summary.files += 1
        summary.rows[source] += table.num_rows

    for w, monday in enumerate(mondays):
        label, number = _week_label(monday), _week_number(monday)
        for k, model in enumerate(models):
            rng = np.random.default_rng([seed, k, number])
            timing = np.random.default_rng([seed, k, number, 1])
            builder = WeekBuilder(model, rng, day_number(monday), label, bad_share)
            n_patrols, n_incidents = int(patrol_counts[k, w]), int(incident_counts[k, w])
            incident_table, alerts = builder.incidents(n_incidents, max_alerts=n_patrols // 3)
            patrol_table = builder.patrols(n_patrols - len(alerts["site"]), alerts)
            after = monday + dt.timedelta(days=7)
            emit("patrols", model, label, patrol_table, _submitted(after, timing))
            emit("incidents", model, label, incident_table, _submitted(after, timing))
            emit("trainings", model, label, builder.trainings(), _submitted(after, timing))
            if number % ROUND_EVERY_WEEKS == 0:
                iso = monday.isocalendar()
                round_label = f"{iso.year}-R{(iso.week - 1) // ROUND_EVERY_WEEKS + 1}"
                emit("surveys", model, round_label,
                     survey_round(model, rng, day_number(monday), round_label),
                     _submitted(after, timing))
            month = (monday + dt.timedelta(days=3)).replace(day=1)  # the week's month
            if (model.mission_id, month) not in months_done:
                months_done.add((model.mission_id, month))
                month_rng = np.random.default_rng([seed, k, month.year, month.month])
                next_month = (month + dt.timedelta(days=32)).replace(day=1)
                emit("strength", model, f"{month:%Y-%m}",
                     strength_month(model, month_rng, month), _submitted(next_month, month_rng))
            summary.planted_bad_rows += builder.planted
            if len(samples["narratives"]) < 200 and n_incidents:
                samples["narratives"] += incident_table.column("narrative")[:20].to_pylist()
                for name in ("reporter_name", "reporter_phone"):
                    values = incident_table.column(name).drop_null()[:20].to_pylist()
                    samples[f"{name}s"] += values
        if (w + 1) % 10 == 0 or w + 1 == weeks:
            say(f"Bulk demo: {w + 1}/{weeks} weeks, {summary.rows['patrols']:,} patrols, "
                f"{summary.rows['incidents']:,} incidents")
    summary.seconds = time.monotonic() - began
    if truth_path is not None:
        truth_path.parent.mkdir(parents=True, exist_ok=True)
        truth_path.write_text(json.dumps({
            "kind": "bulk", "seed": seed, "start": start.isoformat(), "weeks": weeks,
            "missions": [m.mission_id for m in models], "rows": summary.rows,
            "files": summary.files, "bytes": summary.bytes,
            "planted_bad_rows": summary.planted_bad_rows,
            "personal_values": {k: v for k, v in samples.items() if k != "narratives"},
            "narratives": samples["narratives"],
        }, indent=1, ensure_ascii=False), encoding="utf-8")
    return summary
