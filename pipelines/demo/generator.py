"""``pocmon demo``: realistic synthetic inbox files, with known effects and planted faults.

Two missions from the reference data (MINUSCA, francophone, and UNMISS), weekly files from
Monday 30 December 2024 (ISO week 2025-W01). A few rows that each break exactly one contract
rule, and one file that is not a spreadsheet at all, are planted so the quarantine is never
empty. Everything planted is written to a truth file (JSON) that tests and benchmarks read.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.config import MISSION_SOURCES
from pipelines.contracts import load_contract
from pipelines.demo.effects import planted_effects
from pipelines.demo.files import split_into_files, write_file
from pipelines.demo.simulate import START, MissionSimulator
from pipelines.reference import Reference, load_reference

Progress = Callable[[str], None]
# (source, mission, column, rule, how the planted row differs from a good one)
FaultSpec = tuple[str, str, str, str, Callable[[pd.Series], object]]

FAULTS: list[FaultSpec] = [
    ("patrols", "UNMISS", "end_time", "end_after_start",
     lambda row: row["start_time"] - pd.Timedelta(hours=2)),
    ("patrols", "MINUSCA", "site_id", "reference", lambda row: "CAF-S99"),
    ("patrols", "UNMISS", "women", "women_within_persons", lambda row: row["persons"] + 3),
    ("patrols", "MINUSCA", "mode", "allowed_values", lambda row: "hélicoptère"),
    ("patrols", "UNMISS", "unit_id", "belongs_to_mission", lambda row: "CAF-FPU-1"),
    ("incidents", "UNMISS", "fatalities", "fatalities_within_victims",
     lambda row: row["victims"] + 2),
    ("incidents", "MINUSCA", "reported_at", "reported_after_occurred",
     lambda row: row["occurred_at"] - pd.Timedelta(days=1)),
    ("incidents", "UNMISS", "victims", "range", lambda row: -2),
    ("trainings", "UNMISS", "participants", "type", lambda row: "twelve"),
    ("strength", "MINUSCA", "women", "women_within_deployed", lambda row: row["deployed"] + 10),
    ("surveys", "UNMISS", "feels_safe", "range", lambda row: 7),
    ("surveys", "MINUSCA", "site_id", "required", lambda row: None),
]
UNREADABLE = ("patrols", "UNMISS", "scanned patrol log saved as .xlsx",
              b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n")


@dataclass
class DemoSummary:
    """What ``generate_demo`` wrote."""

    files: list[Path]
    rows: dict[str, int]
    planted_faults: list[dict[str, object]]
    unreadable_files: list[str]
    truth_path: Path | None


def _plant_fault(rng: np.random.Generator, files: dict[str, pd.DataFrame],
                 spec: FaultSpec) -> dict[str, object] | None:
    """Insert (or, for keyed-by-period sources, alter) one row that breaks one rule."""
    source, mission, column, rule, change = spec
    names = sorted(n for n in files if n.startswith(f"{source}/{mission}_"))
    if not names:
        return None
    name = names[int(rng.integers(len(names)))]
    frame = files[name]
    template = frame.iloc[int(rng.integers(len(frame)))].copy()
    template[column] = change(template)
    contract = load_contract(source)
    id_column = contract.key[-1]
    if contract.columns[id_column].allowed is None:  # an identifier: add a new row
        template[id_column] = f"{template[id_column]}-X"
        position = int(rng.integers(len(frame) + 1))
        files[name] = pd.concat([frame.iloc[:position], template.to_frame().T,
                                 frame.iloc[position:]], ignore_index=True)
    else:  # the key is the period itself (strength): the return's row is wrong
        position = int(np.flatnonzero(
            (frame[contract.key] == template[contract.key]).all(axis=1))[0])
        files[name] = frame.copy()
        files[name].iloc[position] = template
    value = template[column]
    return {"source": source, "file": name, "row_number": None, "column": column,
            "rule": rule, "value": None if value is None else str(value),
            "key": {k: template[k] for k in contract.key}}


def _locate_faults(files: dict[str, pd.DataFrame], faults: list[dict[str, object]]) -> None:
    """Row numbers once every fault is planted (a later one may shift an earlier one)."""
    for fault in faults:
        frame = files[fault["file"]]
        key = fault.pop("key")
        match = (frame[list(key)] == pd.Series(key)).all(axis=1).to_numpy()
        fault["row_number"] = int(np.flatnonzero(match)[0]) + 2  # the header is row 1


# Files reach the inbox on the Monday after their period, 06:00 to 09:00 UTC (the demo
# missions' deadline is Monday 12:00 local time), except LATE_SHARE of them, one to three days
# late: the reporting timeliness indicator then has something to show.
LATE_SHARE = 0.1
PERIOD_IN_NAME = re.compile(r"_(\d{4})-(W\d{2}|\d{2})_")


def _submitted_at(name: str, frame: pd.DataFrame, rng: np.random.Generator) -> dt.datetime:
    """When a demo file is handed in: after the week or month its name gives, else after the
    latest date in it (a survey round)."""
    match = PERIOD_IN_NAME.search(name)
    if match and match.group(2).startswith("W"):
        day = dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)[1:]), 1)
        day += dt.timedelta(days=7)
    elif match:
        first = dt.date(int(match.group(1)), int(match.group(2)), 1)
        day = (pd.Timestamp(first) + pd.offsets.MonthBegin(1)).date()
    else:
        dates = [pd.to_datetime(frame[c], errors="coerce").max() for c in frame.columns
                 if pd.api.types.is_datetime64_any_dtype(frame[c])]
        latest = max((d for d in dates if pd.notna(d)), default=pd.Timestamp(START))
        day = latest.date() + dt.timedelta(days=1)
    day += dt.timedelta(days=(7 - day.weekday()) % 7)  # a Monday
    minutes = int(rng.integers(6 * 60, 9 * 60))
    if rng.random() < LATE_SHARE:
        minutes += int(rng.integers(1, 4)) * 24 * 60
    return dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(minutes=minutes)


def _set_submission_time(path: Path, when: dt.datetime) -> None:
    """The file's modification time, which ingestion records as received_at."""
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))


def generate_demo(inbox: Path, *, weeks: int = 52, seed: int = 7, effect: float = 1.0,
                  truth_path: Path | None = None, progress: Progress | None = None,
                  reference: Reference | None = None) -> DemoSummary:
    """Write demo inbox files (and the truth file); the same arguments give the same files."""
    say = progress or (lambda _message: None)
    reference = reference or load_reference()
    rng = np.random.default_rng(seed)
    files: dict[str, pd.DataFrame] = {}
    languages: dict[str, str] = {}
    programmes: dict[str, dict[str, str]] = {}
    personal: dict[str, list[str]] = {}
    narratives: list[str] = []
    for _, mission in reference.missions.sort_values("mission_id").iterrows():
        mission_id = mission["mission_id"]
        say(f"Simulating {weeks} weeks of {mission_id}")
        simulator = MissionSimulator(
            rng, mission, reference.sites[reference.sites["mission_id"] == mission_id],
            reference.units[reference.units["mission_id"] == mission_id], weeks, effect)
        data = simulator.run()
        programmes[mission_id] = data.programme_starts
        for kind, values in data.personal_values.items():
            personal.setdefault(kind, []).extend(values)
        narratives.extend(data.narratives)
        for source in MISSION_SOURCES:
            parts = split_into_files(load_contract(source), mission_id, mission["language"],
                                     data.tables[source])
            files |= parts
            languages |= dict.fromkeys(parts, mission["language"])

    faults = [f for spec in FAULTS if (f := _plant_fault(rng, files, spec)) is not None]
    _locate_faults(files, faults)
    written: list[Path] = []
    rows: dict[str, int] = dict.fromkeys(MISSION_SOURCES, 0)
    timing = np.random.default_rng([seed, 1])  # apart from the data's random stream
    for number, (name, frame) in enumerate(sorted(files.items()), start=1):
        source = name.split("/", 1)[0]
        write_file(inbox / name, load_contract(source), frame, languages[name])
        _set_submission_time(inbox / name, _submitted_at(name, frame, timing))
        rows[source] += len(frame)
        written.append(inbox / name)
        if number % 50 == 0 or number == len(files):
            say(f"Writing inbox files: {number}/{len(files)}")

    source, mission, why, content = UNREADABLE
    unreadable = f"{source}/{mission}_{START:%G}-W01_{source}_scan.xlsx"
    (inbox / unreadable).parent.mkdir(parents=True, exist_ok=True)
    (inbox / unreadable).write_bytes(content)
    _set_submission_time(inbox / unreadable, _submitted_at(unreadable, pd.DataFrame(), timing))
    written.append(inbox / unreadable)

    if truth_path is not None:
        truth = {
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "seed": seed, "weeks": weeks, "effect": effect,
            "start": START.isoformat(),
            "end": (START + dt.timedelta(days=7 * weeks - 1)).isoformat(),
            "effects": planted_effects(effect),
            "programme_starts": programmes,
            "rows": rows,
            "files": len(written),
            "planted_faults": faults,
            "unreadable_files": [{"source": source, "file": unreadable, "why": why}],
            "personal_values": personal,
            "narratives": narratives,
        }
        truth_path.parent.mkdir(parents=True, exist_ok=True)
        truth_path.write_text(json.dumps(truth, indent=1, ensure_ascii=False), encoding="utf-8")
    return DemoSummary(written, rows, faults, [unreadable], truth_path)
