"""Shared by the scale benches: a multi-mission project home, bulk data, a fast raw load.

* ``build_home``: a pocmon deployment under ``bench/work/home`` (a copy of config/, the dbt
  project with the four-mission reference data of ``bench/reference_large`` as its seeds, and
  dagster.yaml), used through ``POCMON_HOME``, as a real multi-mission deployment would be
  configured. The repository's own reference data (two missions, which the tests use) is
  never touched.
* ``raw_load``: patrol and incident CSVs straight into ``raw.patrols`` / ``raw.incidents`` with
  DuckDB (``read_csv`` + SQL), lineage columns, ``ops.manifest`` rows and supersession as
  ingestion does them, for measuring dbt on 10M rows without timing ingestion. Personal
  columns get (unkeyed) SHA-256 pseudonyms; narratives are dropped (ingestion seals them into
  ``restricted``, which dbt never reads). Rows breaking the two rules the bulk demo plants are
  quarantined. It is a bench tool, not an ingestion path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / "work"
RESULTS = REPO / "bench" / "results"
REFERENCE_LARGE = REPO / "bench" / "reference_large"
HOME_OVERRIDES = ("POCMON_INBOX", "POCMON_WAREHOUSE", "POCMON_PUBLISHED", "POCMON_KEY_FILE",
                  "POCMON_DEMO_TRUTH", "POCMON_CONFIG", "POCMON_PSEUDONYM_KEY")
PLANTED_RULES = {"patrols": ("women_within_persons", "women", "women <= persons"),
                 "incidents": ("fatalities_within_victims", "fatalities",
                               "fatalities <= victims")}


def build_home(work: Path = WORK, reference: Path = REFERENCE_LARGE) -> Path:
    """The bench's project home: config, dbt project (large reference seeds), dagster.yaml.
    Code files are refreshed on every call; ``data/`` (inbox, warehouse, ...) is kept."""
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "config", home / "config", dirs_exist_ok=True)
    shutil.copy2(REPO / "dagster.yaml", home / "dagster.yaml")
    shutil.copytree(REPO / "dbt_project", home / "dbt_project", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"))
    for seed in reference.glob("*.csv"):
        shutil.copy2(seed, home / "dbt_project" / "seeds" / "reference" / seed.name)
    return home


def home_env(home: Path, threads: int | None = 2) -> dict[str, str]:
    """Environment for pocmon, dbt and Dagster processes working on ``home``."""
    env = {k: v for k, v in os.environ.items() if k not in HOME_OVERRIDES}
    env.update({
        "POCMON_HOME": str(home), "DAGSTER_HOME": str(home),
        "POCMON_WAREHOUSE": str(home / "data" / "warehouse" / "pocmon.duckdb"),
        "GX_ANALYTICS_ENABLED": "false", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
    })
    if threads:
        env["POCMON_DBT_THREADS"] = str(threads)
    return env


def use_home(home: Path, threads: int | None = 2) -> None:
    """Point this process at ``home`` (before anything from pipelines is imported)."""
    for name in HOME_OVERRIDES:
        os.environ.pop(name, None)
    os.environ.update(home_env(home, threads))


def machine() -> dict[str, object]:
    """CPUs, memory and the load average now (others share this machine)."""
    load = os.getloadavg()
    with open("/proc/meminfo", encoding="ascii") as handle:
        memory = {line.split(":")[0]: int(line.split()[1]) for line in handle}
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "memory_gb": round(memory["MemTotal"] / 2**20, 1),
            "available_gb": round(memory["MemAvailable"] / 2**20, 1),
            "load_1_5_15": [round(x, 2) for x in load],
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def table(rows: Iterable[tuple], header: tuple[str, ...]) -> str:
    """A plain Markdown table (what README shows)."""
    rows = [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E501, E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                      *(line(r) for r in rows)])


def write_result(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def _tree(root: int) -> list[int]:
    """``root`` and every process descended from it (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _pss_kb(pid: int) -> int:
    """Proportional set size of one process (shared pages split among their users)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii").splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def timed_run(command: list[str], env: dict[str, str], log: Path, *,
              memory_cap_mb: float | None = None, interval: float = 0.5) -> dict[str, object]:
    """Run a command; wall seconds and the peak memory of its whole process tree (the sum of
    the processes' PSS, sampled every ``interval`` s: the dbt subprocess and the Dagster
    process together). Over ``memory_cap_mb`` the tree is killed (the machine is shared)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    peak, killed = 0, False
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        while process.poll() is None:
            total = sum(_pss_kb(pid) for pid in _tree(process.pid)) / 1024
            peak = max(peak, total)
            if memory_cap_mb and total > memory_cap_mb and not killed:
                os.killpg(process.pid, 9)
                killed = True
            time.sleep(interval)
    return {"seconds": round(time.monotonic() - started, 1),
            "returncode": process.returncode, "peak_mb": round(peak),
            "killed_over_memory_cap": killed}


def python() -> str:
    return sys.executable


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The bulk data and dbt settings every scale bench takes."""
    parser.add_argument("--patrols", type=int, default=10_000_000)
    parser.add_argument("--incidents", type=int, default=2_000_000)
    parser.add_argument("--weeks", type=int, default=260)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2, help="dbt threads")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit for dbt")


# ---------------------------------------------------------------------------------------------
# The raw load (bench only).


def _select_list(source: str, language: str, timezone: str) -> tuple[str, list[str]]:
    """SQL turning the CSV's text columns into ``raw.<source>`` columns (without lineage)."""
    from pipelines.contracts import load_contract

    contract = load_contract(source)
    expressions: list[str] = []
    for name, spec in contract.columns.items():
        header = spec.aliases[0] if language == "fr" and spec.aliases else name
        cell = f'nullif(trim(csv."{header}"), \'\')'
        if spec.restricted:
            continue
        if spec.personal:
            expressions.append(f"'pk_' || left(sha256({cell}), 24) as \"{spec.pseudonym_column}\"")
            continue
        if spec.values_fr and language == "fr":
            inverse: dict[str, str] = {}
            for french, canonical in spec.values_fr.items():
                inverse.setdefault(canonical, french)
            cases = " ".join(f"when '{fr}' then '{en}'" for en, fr in inverse.items())
            cell = f"case {cell} {cases} else {cell} end"
        typed = {
            "string": cell, "integer": f"cast({cell} as bigint)",
            "number": f"cast(replace({cell}, ',', '.') as double)",
            "timestamp": f"strptime({cell}, '%Y-%m-%d %H:%M')",
            "date": f"cast({cell} as date)", "month": f"cast({cell} || '-01' as date)",
            "boolean": f"{cell} in ('oui', 'yes')",
        }[spec.type]
        expressions.append(f'{typed} as "{name}"')
        if spec.local_time:
            expressions.append(f"timezone('UTC', timezone('{timezone}', {typed})) "
                               f'as "{name}_utc"')
    return ",\n    ".join(expressions), list(contract.raw_table_columns())


def raw_load(con, inbox: Path, source: str, reference, files: list[Path] | None = None,
             run_id: str = "bench-raw-load") -> dict[str, int]:
    """Load patrol or incident CSVs (default: every file of the source in the inbox that the
    manifest does not know) into ``raw.<source>``; a file whose name is already loaded is
    superseded (its rows deleted, its manifest row marked) as ingestion does."""
    import pandas as pd

    from pipelines.ingest.load import content_hash
    from pipelines.ingest.warehouse import ensure_schema

    ensure_schema(con)
    rule, column, keep = PLANTED_RULES[source]
    known = {h for (h,) in con.execute("select content_hash from ops.manifest").fetchall()}
    files = sorted(files if files is not None else (inbox / source).glob("*.csv"))
    entries = []
    for path in files:
        digest = content_hash(path)
        if digest in known:
            continue
        mission, period = path.stem.split("_")[:2]
        stat = path.stat()
        entries.append({
            "filename": str(path), "file_id": f"{source}-{digest[:16]}",
            "file_name": path.relative_to(inbox).as_posix(), "content_hash": digest,
            "slot": f"{source}|{mission}|{period}", "mission": mission,
            "received_at": dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).replace(tzinfo=None),
            "file_bytes": stat.st_size, "file_mtime_ns": stat.st_mtime_ns,
        })
    if not entries:
        return {"files": 0, "rows": 0}
    meta = pd.DataFrame(entries)
    missions = reference.missions.set_index("mission_id")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("begin transaction")
    con.register("incoming_files", meta)
    con.execute("""
        create or replace temp table superseding as
        select m.file_id as old_id, f.file_id as new_id
        from ops.manifest m join incoming_files f on m.file_name = f.file_name
        where m.status = 'loaded' and m.source = ?""", [source])
    con.execute(f"delete from raw.{source} where _file_id in (select old_id from superseding)")
    con.execute("delete from ops.quarantine where file_id in (select old_id from superseding)")
    con.execute("""update ops.manifest set status = 'superseded', superseded_by = s.new_id
                   from superseding s where ops.manifest.file_id = s.old_id""")
    loaded = 0
    for mission, group in meta.groupby("mission"):
        language, zone = missions.at[mission, "language"], missions.at[mission, "timezone"]
        select, columns = _select_list(source, language, zone)
        paths = ", ".join(f"'{p}'" for p in group["filename"])
        con.execute(f"""
            create or replace temp table staged as
            select *, coalesce({keep}, true) as _good from (
            select {select},
                f.file_id as _file_id, f.file_name as _source_file,
                f.content_hash as _content_hash,
                cast(1 + row_number() over (partition by csv.filename
                                            order by csv.{_header_of_key(source, language)})
                     as integer) as _row_number,
                timestamp '{now:%Y-%m-%d %H:%M:%S}' as _loaded_at
            from read_csv([{paths}], delim = '{';' if language == 'fr' else ','}',
                          header = true, all_varchar = true, filename = true) as csv
            join incoming_files f on f.filename = csv.filename)""")
        names = ", ".join(f'"{c}"' for c in columns)
        con.execute(f"insert into raw.{source} ({names}) select {names} from staged "
                    "where _good")
        con.execute(f"""
            insert into ops.quarantine
            select _file_id, '{source}', _source_file, _content_hash, _row_number, '{column}',
                   '{rule}', cast({column} as varchar),
                   _source_file || ', row ' || _row_number || ', column ''{column}'': planted '
                   || 'bad row [rule: {rule}]', _loaded_at
            from staged where not _good""")
        con.execute(f"""
            insert into ops.manifest
            select f.file_id, '{source}', f.file_name, f.content_hash, f.slot, 'loaded',
                   count(s._file_id), count(s._file_id) filter (where s._good),
                   count(s._file_id) filter (where not s._good), f.received_at,
                   timestamp '{now:%Y-%m-%d %H:%M:%S}', null, 'raw load (bench)', '{run_id}',
                   f.file_bytes, f.file_mtime_ns
            from incoming_files f left join staged s on s._file_id = f.file_id
            where f.mission = '{mission}'
            group by all""")
        loaded += con.execute("select count(*) from staged").fetchall()[0][0]
    con.unregister("incoming_files")
    con.execute("commit")
    return {"files": len(meta), "rows": loaded}


def _header_of_key(source: str, language: str) -> str:
    """The CSV header of the source's id column (French alias in a francophone file)."""
    from pipelines.contracts import load_contract

    spec = load_contract(source).columns[load_contract(source).key[0]]
    return f'"{spec.aliases[0] if language == "fr" and spec.aliases else spec.name}"'


def ingest_small_sources(con, inbox: Path, reference, key_file: Path) -> dict[str, int]:
    """Trainings, strength and surveys through the real ingestion (they are small)."""
    from pipelines.ingest.load import ingest_source
    from pipelines.ingest.pseudonymise import load_or_create_key

    key = load_or_create_key(key_file)
    rows = {}
    for source in ("trainings", "strength", "surveys"):
        report = ingest_source(con, source, inbox, reference, key, extensions=[".csv"])
        rows[source] = report.total("rows_loaded")
    return rows


def prepare_warehouse(patrols: int, incidents: int, weeks: int, seed: int = 7,
                      fresh: bool = True) -> dict[str, object]:
    """Bulk inbox files and a warehouse loaded from them (raw load for patrols and
    incidents) in the bench home; ``use_home`` must have been called. Timings returned."""
    from pipelines.config import get_settings
    from pipelines.demo.bulk import BULK_START, generate_bulk
    from pipelines.ingest.warehouse import connect
    from pipelines.reference import load_reference

    settings = get_settings()
    reference = load_reference()
    if fresh:
        shutil.rmtree(settings.paths.inbox, ignore_errors=True)
        for path in (settings.paths.warehouse,
                     settings.paths.warehouse.with_suffix(".duckdb.wal")):
            path.unlink(missing_ok=True)
    summary = generate_bulk(settings.paths.inbox, patrols=patrols, incidents=incidents,
                            weeks=weeks, seed=seed, start=BULK_START, reference=reference,
                            truth_path=settings.paths.demo_truth)
    out: dict[str, object] = {"generate_seconds": round(summary.seconds, 1),
                              "files": summary.files, "mb": round(summary.bytes / 1e6),
                              "rows": summary.rows}
    started = time.monotonic()
    with connect(settings.paths.warehouse) as con:
        for source in ("patrols", "incidents"):
            raw_load(con, settings.paths.inbox, source, reference)
        out["raw_load_seconds"] = round(time.monotonic() - started, 1)
        started = time.monotonic()
        ingest_small_sources(con, settings.paths.inbox, reference, settings.paths.key_file)
        out["ingest_small_sources_seconds"] = round(time.monotonic() - started, 1)
    return out
