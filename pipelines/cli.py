"""The ``pocmon`` command: run the weekly job, check files, see what happened, try the demo."""

from __future__ import annotations

import inspect
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipelines.config import (
    DBT_FULL_REFRESH_ENV,
    DBT_PROJECT_DIR,
    PROJECT_ROOT,
    SOURCES,
    ConfigError,
    get_settings,
)

# tags of a run started by `pocmon run`: the process and machine running it, so that the next
# run can tell one that was killed (its process gone) from one still going
PID_TAG, HOST_TAG = "pocmon/pid", "pocmon/host"

app = typer.Typer(
    help="pocmon: the weekly monitoring-and-evaluation job for UN police (UNPOL).\n\n"
    "Drop the week's files into data/inbox/<source>/ (patrols, incidents, trainings, "
    "strength, surveys), run `pocmon run`, fix what the quarantine report lists, run again.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class PocmonError(Exception):
    """A problem the user can fix; shown as one clear message, exit code 1."""


# ---------------------------------------------------------------------------------------------
# Plumbing shared by the commands.


def _dagster_home() -> Path:
    """Point Dagster at the project's dagster.yaml (relative paths in it are from there)."""
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    home = Path(os.environ["DAGSTER_HOME"]).resolve()
    if not (home / "dagster.yaml").exists():
        raise PocmonError(f"DAGSTER_HOME={home} has no dagster.yaml; unset DAGSTER_HOME to "
                          "use the project's own")
    os.chdir(home)
    return home


def _dbt_sources_changed(manifest: Path) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    watched = [DBT_PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "seeds", "macros", "tests"):
        watched += [p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file()]
    return any(p.stat().st_mtime > built for p in watched if p.exists())


def prepare_dbt() -> None:
    """Parse the dbt project when its manifest is missing or older than its files."""
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not _dbt_sources_changed(manifest):
        return
    with console.status("Parsing the dbt project (dbt parse)..."):
        result = subprocess.run(
            [sys.executable, "-c", "from dbt.cli.main import cli; cli()", "parse",
             "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
             "--quiet"],
            capture_output=True, text=True, cwd=DBT_PROJECT_DIR, check=False,
        )
    if result.returncode != 0:
        raise PocmonError(f"dbt parse failed:\n{result.stdout}{result.stderr}")


@contextmanager
def exclusive_run(wait_seconds: float = 0) -> Iterator[None]:
    """Hold the warehouse's run lock (one pocmon run at a time), or say who holds it."""
    from pipelines.runlock import RunInProgress, run_lock

    status = console.status("")

    def waiting(message: str) -> None:
        status.update(message)
        status.start()

    try:
        with run_lock(get_settings().paths.warehouse, wait_seconds=wait_seconds,
                      on_wait=waiting):
            status.stop()
            yield
    except RunInProgress as exc:
        raise PocmonError(str(exc)) from exc
    finally:
        status.stop()


def run_weekly_job(trigger: str, wait_seconds: float = 0) -> dict:
    """Run the weekly job in this process, recorded in the Dagster instance."""
    with exclusive_run(wait_seconds):
        return _run_weekly_job(trigger)


def _checked_reference():
    """The reference data, or one clear message naming the file, row and column at fault
    (before any file is loaded or any dbt seed rebuilt from it)."""
    from pipelines.reference import ReferenceDataError, load_reference

    try:
        return load_reference()
    except ReferenceDataError as exc:
        raise PocmonError(f"{exc}. Nothing was changed: fix the reference file and run "
                          "again.") from exc


def _run_weekly_job(trigger: str) -> dict:
    get_settings()
    _checked_reference()
    _dagster_home()
    prepare_dbt()
    from dagster import DagsterInstance

    from pipelines.definitions import defs

    job = defs.resolve_job_def("weekly_job")
    instance = DagsterInstance.get()
    for dead in _close_dead_runs(instance):
        console.print(f"[yellow]Run {dead[:8]} had ended without finishing[/] (its process was "
                      "killed): recorded as failed. The warehouse and the outputs stayed at "
                      "their last consistent state; this run completes its work.")
    started = time.monotonic()
    console.print("[bold]Running the weekly job[/] (ingest, dbt build, outputs)...")
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags={"pocmon/trigger": trigger, PID_TAG: str(os.getpid()),
              HOST_TAG: socket.gethostname()},
    )
    return {"run_id": result.run_id, "success": result.success,
            "seconds": time.monotonic() - started, "errors": _step_errors(result)}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _close_dead_runs(instance) -> list[str]:
    """Weekly-job runs of this machine left started by a process that has ended (``kill -9``,
    a power cut): recorded as failed, so that ``pocmon status`` does not show them running
    forever. Called under the run lock, so no other pocmon run is going; a run whose process
    is alive (a Dagster run waiting for the lock) is left alone. Returns their run ids."""
    from dagster import DagsterRunStatus, RunsFilter

    records = instance.get_run_records(filters=RunsFilter(
        job_name="weekly_job", statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING]))
    closed = []
    for record in records:
        run = record.dagster_run
        pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        if pid is None or host != socket.gethostname() or _process_alive(int(pid)):
            continue
        instance.report_run_failed(run, message=(
            f"the process running it (pid {pid}) ended before the run finished (killed?); "
            "the warehouse and the outputs stayed at their last consistent state"))
        closed.append(run.run_id)
    return closed


def _step_errors(result) -> list[str]:
    """The failed steps and the last line of the error each one raised.

    Dagster's wrappers ("Error occurred while executing op ...") are skipped, and the walk
    down the causes stops at the first other error: pocmon's own errors (``PublishError``,
    ``WarehouseWriteError``, ``DashboardError``) say in words what their cause says in system
    terms, and a worker process's traceback (concurrent.futures' ``_RemoteTraceback``) is text
    explaining the error above it. A storage failure left in system terms (DuckDB's "No space
    left on device" during dbt) gets its plain words.
    """
    from pipelines.storage_errors import storage_problem

    errors = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        while (error is not None and error.cause is not None
               and error.cls_name.startswith("Dagster")
               and error.cause.cls_name != "_RemoteTraceback"):
            error = error.cause
        lines = (error.message if error else "failed").strip().splitlines()
        line = lines[-1] if lines else "failed"
        problem = storage_problem(Exception(line))
        if problem and problem not in line:
            line += f" ({problem}: free space or fix the permissions and run again)"
        errors.append(f"{event.step_key}: {line}")
    return errors


def _unreadable_warehouse(exc: Exception) -> str:
    """Why ``pocmon status`` could not read the warehouse, and what to do."""
    import duckdb

    text = escape(str(exc))
    if isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower():
        return f"a run is writing to the warehouse ({text}). Try again when it ends."
    if isinstance(exc, duckdb.CatalogException):
        return (f"the warehouse has no file manifest yet ({text}). `pocmon run` creates it "
                "with the first files it loads.")
    return f"cannot read the warehouse ({text})."


def _warehouse_counts(run_id: str | None = None) -> tuple[list[tuple], list[tuple]]:
    """Per-source file and row counts from the manifest (this run's, or all current files),
    and the files they superseded: (old name, its rows loaded, new name, its rows loaded)."""
    import duckdb

    settings = get_settings()
    if not settings.paths.warehouse.exists():
        return [], []
    con = duckdb.connect(str(settings.paths.warehouse), read_only=True)
    try:
        where = "where run_id = ?" if run_id else "where status <> 'superseded'"
        params = [run_id] if run_id else []
        rows = con.execute(
            "select source, count(*) filter (where status = 'loaded'), "
            "count(*) filter (where status = 'rejected'), "
            "coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0), "
            f"coalesce(sum(rows_quarantined), 0) from ops.manifest {where} "
            "group by source", params,
        ).fetchall()
        superseded = con.execute(
            "select old.file_name, old.rows_loaded, new.file_name, new.rows_loaded "
            "from ops.manifest as old join ops.manifest as new "
            "on old.superseded_by = new.file_id "
            f"where new.file_id in (select file_id from ops.manifest {where}) "
            "order by new.file_name, old.file_name", params,
        ).fetchall()
    finally:
        con.close()
    order = {s: i for i, s in enumerate(SOURCES)}
    return sorted(rows, key=lambda r: order.get(r[0], 99)), superseded


def _superseded_lines(pairs: list[tuple]) -> list[str]:
    """Each supersession of a run, with its rows: a 'late records' file for a loaded week
    replaces the whole week, which the officer should see before publishing."""
    lines = []
    for old_name, old_rows, new_name, new_rows in pairs:
        line = f"{old_name} ({old_rows:,} rows) replaced by {new_name} ({new_rows:,} rows)"
        if old_rows >= 10 and new_rows < old_rows / 2:
            line += (": [yellow]fewer than half the rows[/]; a re-submission replaces the whole "
                     "week, so to add late records put them in the week's full file and send "
                     "it again")
        lines.append(line)
    return lines


def _counts_table(title: str, rows: list[tuple]) -> Table:
    table = Table(title=title, title_justify="left")
    for name in ("source", "files loaded", "files rejected", "rows read", "rows loaded",
                 "rows quarantined"):
        table.add_column(name, justify="left" if name == "source" else "right")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    return table


def report_run(outcome: dict) -> int:
    """Print what the run did and where to look; return the exit code."""
    settings = get_settings()
    rows, superseded = _warehouse_counts(outcome["run_id"])
    if rows:
        console.print(_counts_table("Files processed in this run", rows))
    else:
        console.print("No new files in the inbox: nothing to load.")
    if superseded:
        console.print(f"{len(superseded)} earlier file(s) superseded by corrected "
                      "re-submissions:", highlight=False)
        for line in _superseded_lines(superseded):
            console.print(f"  {line}", highlight=False)
    from pipelines.ingest.load import linked_folders, outside_source_folders

    stray = outside_source_folders(settings.paths.inbox, SOURCES)
    if stray:
        console.print(
            f"[yellow]Not read:[/] {len(stray)} file(s) outside the source folders, such as "
            f"{escape(stray[0])}: put each in {escape(str(settings.paths.inbox))}/<source>/ "
            f"({', '.join(SOURCES)}).", highlight=False)
    linked = linked_folders(settings.paths.inbox, SOURCES)
    if linked:
        console.print(
            f"[yellow]Not entered:[/] {len(linked)} linked folder(s) in the inbox, such as "
            f"{escape(linked[0])}: pocmon never follows a link to a folder (it may lead "
            "anywhere); copy the files themselves into the inbox.", highlight=False)
    report = settings.paths.published / "quarantine" / "quarantine_report.html"
    console.print(f"Warehouse:         {settings.paths.warehouse}")
    console.print(f"Quarantine report: {report}")
    console.print(f"Outputs:           {settings.paths.published}")
    if not outcome["success"]:
        for error in outcome.get("errors", []):
            err.print(f"[bold red]Failed[/] {escape(error)}")
        err.print(
            f"[bold red]The weekly job failed[/] (run {outcome['run_id']}). Files already "
            "loaded and outputs already published are unchanged; fix the cause and run again. "
            "`pocmon status` lists recent runs, `pocmon dev` opens the run in the Dagster UI."
        )
        return 1
    quarantined = sum(r[5] for r in rows)
    rejected = sum(r[2] for r in rows)
    if quarantined or rejected:
        console.print(
            f"[bold yellow]Done with problems to fix:[/] {rejected} file(s) rejected and "
            f"{quarantined} row(s) quarantined. See {report} (or quarantine_report.csv "
            "beside it), correct the source files and drop them into the inbox again."
        )
    else:
        console.print("[bold green]Done:[/] every new row passed its contract.")
    console.print(f"Finished in {outcome['seconds']:.0f} s (run {outcome['run_id']}).")
    return 0


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]Error:[/] {message}")
    return typer.Exit(1)


@app.callback()
def _read_settings() -> None:
    # before any command: a wrong setting in config/pocmon.yaml is one clear message
    try:
        get_settings()
    except ConfigError as exc:
        raise _fail(f"{escape(str(exc))}. Fix the configuration and run the command again."
                    ) from exc


# ---------------------------------------------------------------------------------------------
# Commands.


WaitOption = Annotated[float, typer.Option(
    "--wait", min=0, metavar="SECONDS",
    help="If another pocmon run is using the warehouse, wait up to this long for it to "
    "finish (default: refuse at once and say which run holds it).")]


@app.command()
def run(
    wait: WaitOption = 0,
    full_refresh: Annotated[bool, typer.Option(
        "--full-refresh", help="Build every dbt model from scratch, the incremental ones too "
        "(fct_patrols, fct_incidents and the indicator chain): needed after changing their SQL "
        "or the Python of pipelines/indicators/. Otherwise a run adds the new files' rows, "
        "drops superseded files' rows and rebuilds the fiscal years they touch.")] = False,
) -> None:
    """Run the weekly job on whatever is in the inbox.

    New files are validated against their contracts, good rows loaded into DuckDB, bad rows
    quarantined; then dbt builds and tests the models and the reports are published.
    One run at a time: a second run refuses (or waits, with --wait) while one is going.
    Exit code 0 when the job succeeded (even with quarantined rows), 1 when it failed.
    """
    if full_refresh:
        os.environ[DBT_FULL_REFRESH_ENV] = "1"
    try:
        outcome = run_weekly_job("cli", wait_seconds=wait)
    except PocmonError as exc:
        raise _fail(str(exc)) from exc
    raise typer.Exit(report_run(outcome))


@app.command()
def demo(
    weeks: Annotated[int, typer.Option(min=1, max=520, help="Weeks of data per mission.")] = 52,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")
                    ] = 7,
    effect: Annotated[float, typer.Option(
        min=0.0, help="Scale of the planted effects: 1 as documented, 0 for no effect.")] = 1.0,
    fresh: Annotated[bool, typer.Option(
        "--fresh/--keep", help="Empty the inbox, warehouse and outputs first (default), or "
        "keep them and add the demo files. Either refuses when they hold files no demo "
        "wrote (see --force).")] = True,
    force: Annotated[bool, typer.Option(
        "--force", help="Go ahead when the inbox or warehouse holds files no demo wrote: "
        "--fresh deletes them, --keep supersedes their weeks with demo files (real data: "
        "it is lost).")] = False,
    run_job: Annotated[bool, typer.Option("--run/--no-run", help="Run the weekly job after "
                                          "writing the files.")] = True,
    public: Annotated[bool, typer.Option(
        "--public", help="Instead: write small files in the public layouts (UCDP GED as "
        "GeoJSON, the UN personnel table as CSV) with their typical faults, import them as "
        "`pocmon import-public` would and run the job. Use --keep after a plain demo to have "
        "both.")] = False,
    months: Annotated[int, typer.Option(min=12, max=240, help="With --public: months of "
                                        "public data per mission, from January 2016 (the "
                                        "personnel file also holds the month before, for "
                                        "the lag).")] = 96,
    wait: WaitOption = 0,
    patrols: Annotated[int | None, typer.Option(
        min=1, help="Bulk mode (for load tests): this many patrols in all, over --weeks weeks "
        "from --start, for every mission of the reference data; CSV only, no planted "
        "effects.")] = None,
    incidents: Annotated[int | None, typer.Option(
        min=0, help="Bulk mode: this many incidents in all (default: a fifth of --patrols).")
                         ] = None,
    start: Annotated[datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="Bulk mode: the Monday of the first week (default "
        "2021-01-04, ISO week 2021-W01); with --keep and --weeks 1, adds one week to a "
        "history.")] = None,
) -> None:
    """Write realistic synthetic inbox files for two missions, then run the weekly job.

    MINUSCA (francophone: French headers, .xlsx and ';' CSV) and UNMISS (English CSV), about
    20 sites each. A few bad rows and one unreadable file are planted so the quarantine is
    never empty; the planted effects are documented in pipelines/demo/effects.py. With
    --public, public-format files instead (pipelines/demo/public_files.py documents what they
    plant: a police effect and the faults real downloads have).

    With --patrols (and --incidents) it writes bulk data instead: millions of rows for every
    configured mission, one mission-week at a time (pipelines/demo/bulk.py).
    """
    bulk = None
    if patrols is not None or incidents is not None or start is not None:
        if patrols is None:
            raise _fail("bulk mode needs --patrols (and optionally --incidents, --start)")
        bulk = {"patrols": patrols,
                "incidents": patrols // 5 if incidents is None else incidents,
                "start": start.date() if start else None}
    try:
        with exclusive_run(wait):
            _demo(weeks, seed, effect, fresh, run_job, public, months, bulk, force)
    except PocmonError as exc:
        raise _fail(str(exc)) from exc


def _refuse_over_real_data(keep: bool) -> None:
    """Refuse while the inbox or the warehouse holds files no demo wrote: a fresh start would
    delete them, and --keep would supersede their weeks with demo files of the same missions
    and weeks."""
    import duckdb

    from pipelines.demo.ledger import foreign_files

    paths = get_settings().paths
    try:
        foreign, has_ledger = foreign_files(paths.inbox, paths.warehouse, paths.demo_truth)
    except duckdb.Error as exc:
        raise PocmonError(f"cannot read the file manifest of {paths.warehouse} ({exc}); "
                          "`pocmon demo --force` goes ahead anyway") from exc
    if not foreign:
        return
    what = (f"{len(foreign)} file(s) that no demo wrote" if has_ledger else
            f"{len(foreign)} file(s), and no record of which files a demo wrote")
    harm = ("would give its missions' weeks demo files, which supersede the files of the "
            "same weeks" if keep else "starts from an empty project (it deletes the inbox, "
            "warehouse and outputs)")
    raise PocmonError(
        f"`pocmon demo{' --keep' if keep else ''}` {harm}, and this project holds {what}, "
        f"such as {foreign[0]} (inbox {paths.inbox}, warehouse {paths.warehouse}). Nothing "
        "was changed. Run the demo in a project of its own (POCMON_HOME), or pass --force "
        "if these files may go.")


def _fresh_start() -> None:
    """Empty the inbox, warehouse and outputs, and the demo's ledger."""
    from pipelines.demo.ledger import ledger_path, write_ledger

    paths = get_settings().paths
    for path in (paths.inbox, paths.published):
        shutil.rmtree(path, ignore_errors=True)
    for path in (paths.warehouse, paths.warehouse.with_suffix(".duckdb.wal")):
        path.unlink(missing_ok=True)
    write_ledger(ledger_path(paths.demo_truth), set())


@contextmanager
def _recorded_demo_files() -> Iterator[Callable[[], None]]:
    """Add the inbox files written inside the block to the demo's ledger (pipelines/demo/
    ledger.py): when the block calls the function it yields (before it runs the job, so that
    files arriving during the run are not taken for the demo's), else when it ends."""
    from pipelines.demo.ledger import inbox_files, ledger_path, read_ledger, write_ledger

    paths = get_settings().paths
    before = inbox_files(paths.inbox)
    done: list[bool] = []

    def record() -> None:
        if not done:
            ledger = ledger_path(paths.demo_truth)
            write_ledger(ledger, (read_ledger(ledger) or set())
                         | (inbox_files(paths.inbox) - before))
            done.append(True)

    try:
        yield record
    finally:
        record()


def _bulk_demo(weeks: int, seed: int, bulk: dict) -> None:
    from pipelines.demo.bulk import BULK_START, generate_bulk

    settings = get_settings()
    try:
        with console.status("Writing bulk demo inbox files...") as status:
            summary = generate_bulk(
                settings.paths.inbox, patrols=bulk["patrols"], incidents=bulk["incidents"],
                weeks=weeks, seed=seed, start=bulk["start"] or BULK_START,
                truth_path=settings.paths.demo_truth, progress=status.update)
    except ValueError as exc:
        raise PocmonError(str(exc)) from exc
    console.print(
        f"Wrote {summary.files:,} files ({sum(summary.rows.values()):,} rows, "
        f"{summary.bytes / 1e6:,.0f} MB) to {settings.paths.inbox} in {summary.seconds:.0f} s: "
        f"{summary.rows['patrols']:,} patrols and {summary.rows['incidents']:,} incidents "
        f"from {summary.start:%Y-%m-%d} ({summary.weeks} weeks); "
        f"{summary.planted_bad_rows} planted bad rows."
    )


def _demo(weeks: int, seed: int, effect: float, fresh: bool, run_job: bool, public: bool,
          months: int, bulk: dict | None = None, force: bool = False) -> None:
    if not force:
        _refuse_over_real_data(keep=not fresh)
    if fresh:
        _fresh_start()
    with _recorded_demo_files() as record:
        _write_demo(weeks, seed, effect, run_job, public, months, bulk, record)


def _write_demo(weeks: int, seed: int, effect: float, run_job: bool, public: bool,
                months: int, bulk: dict | None, record: Callable[[], None]) -> None:
    """Write the demo's files, ``record`` them, then run the job (``run_job``)."""
    from pipelines.demo.generator import generate_demo

    settings = get_settings()
    if public:
        _public_demo(months, seed, effect, run_job, record)
        return
    if bulk is not None:
        _bulk_demo(weeks, seed, bulk)
        record()
        if run_job:
            raise typer.Exit(report_run(run_weekly_job("demo")))
        return
    with console.status("Writing demo inbox files...") as status:
        summary = generate_demo(settings.paths.inbox, weeks=weeks, seed=seed, effect=effect,
                                truth_path=settings.paths.demo_truth,
                                progress=lambda message: status.update(message))
    console.print(
        f"Wrote {len(summary.files)} files ({sum(summary.rows.values()):,} rows) to "
        f"{settings.paths.inbox}; planted {len(summary.planted_faults)} bad rows and "
        f"effects recorded in {summary.truth_path}."
    )
    record()
    if run_job:
        raise typer.Exit(report_run(run_weekly_job("demo")))


def _public_demo(months: int, seed: int, effect: float, run_job: bool,
                 record: Callable[[], None] | None = None) -> None:
    """``pocmon demo --public``: write the public-format files, import them, run the job."""
    from pipelines.demo.public_files import write_public_demo
    from pipelines.reference import load_reference

    settings = get_settings()
    folder = settings.paths.demo_truth.parent / "public"
    with console.status("Writing public-format demo files..."):
        demo = write_public_demo(folder, load_reference(), months=months, seed=seed,
                                 effect=effect,
                                 truth_path=folder.parent / "public_demo_truth.json")
    console.print(
        f"Wrote {demo.ged} (UCDP GED layout) and {demo.personnel} (UN personnel layout): "
        f"{months} months, a planted rate ratio of {demo.police_irr:.2f} per 100 police and "
        f"{len(demo.planted_faults)} planted faults, recorded in {demo.truth_path}."
    )
    _import_public([demo.ged], [demo.personnel], run_job, record)


def _import_public(ged: list[Path], strength: list[Path], run_job: bool,
                   staged_hook: Callable[[], None] | None = None) -> None:
    """Stage the files into the inbox, call ``staged_hook`` (the demo records its files),
    then run the job (``run_job``)."""
    from pipelines.ingest.public import ImportProblem, stage

    settings = get_settings()
    staged: list[Path] = []
    try:
        for source, paths in (("ged", ged), ("personnel", strength)):
            for path in paths:
                staged += stage(path, source, settings.paths.inbox)
    except ImportProblem as exc:
        raise _fail(escape(str(exc))) from exc
    for path in staged:
        console.print(f"Inbox: {path}")
    if staged_hook is not None:
        staged_hook()
    if not run_job:
        console.print("Not run (--no-run): `pocmon run` loads them with the rest of the inbox.")
        return
    try:
        outcome = run_weekly_job("import-public")
    except PocmonError as exc:
        raise _fail(str(exc)) from exc
    code = report_run(outcome)
    if outcome["success"]:
        report_public()
    raise typer.Exit(code)


def report_public() -> None:
    """What the public data gave: faults found, the mission-months, the estimates, the pages."""
    import duckdb

    settings = get_settings()
    con = duckdb.connect(str(settings.paths.warehouse), read_only=True)
    try:
        findings = con.execute(
            "select source_name, rule, count(*) from marts.fct_public_data_findings "
            "group by all order by 1, 2").fetchall()
        panel = con.execute(
            "select mission_id, count(*), min(month_label), max(month_label), "
            "count(*) filter (where not strength_reported), "
            "count(*) filter (where ged_covered) from marts.fct_mission_months "
            "group by 1 order by 1").fetchall()
        sentences = con.execute(
            "select mission_id, sentence_en from marts.fct_impact_estimates "
            "where question = 'police_strength' and estimand like 'police_irr_per_%' "
            "and estimand not like '%poisson' and estimand not like '%negbin' "
            "order by mission_id <> 'ALL', mission_id").fetchall()
    finally:
        con.close()
    table = Table(title="Faults found in the public files (reported, not corrected)",
                  title_justify="left")
    for name in ("source", "rule", "findings"):
        table.add_column(name, justify="right" if name == "findings" else "left")
    for source, rule, count in findings:
        table.add_row(source, rule, str(count))
    console.print(table if findings else "No fault found in the public files.")
    months = Table(title="Mission-months (marts.fct_mission_months)", title_justify="left")
    for name in ("mission", "months", "from", "to", "missing months", "with GED"):
        months.add_column(name, justify="left" if name in ("mission", "from", "to") else "right")
    for row in panel:
        months.add_row(*(str(v) for v in row))
    console.print(months)
    for mission_id, sentence in sentences:
        console.print(f"{mission_id}: {sentence}", markup=False, highlight=False)
    pages = sorted((settings.paths.published / "dashboards").glob("civilians_*.html"))
    for page in pages:
        console.print(f"Dashboard: {page}")


@app.command(name="import-public")
def import_public(
    ged: Annotated[list[Path] | None, typer.Option(
        "--ged", help="A UCDP GED download: CSV, GeoJSON, or the .zip as downloaded from "
        "https://ucdp.uu.se/downloads/ (repeat for several files).")] = None,
    strength: Annotated[list[Path] | None, typer.Option(
        "--personnel", "--strength", help="A UN peacekeeping personnel-contributions table "
        "(by mission, contributor, month and personnel type, with female and male personnel; "
        "--strength is the older name of this option): CSV or "
        ".xlsx from https://psdata.un.org/ or https://peacekeeping.un.org/ (repeat for "
        "several files).")] = None,
    run_job: Annotated[bool, typer.Option("--run/--no-run", help="Run the weekly job after "
                                          "copying the files into the inbox.")] = True,
) -> None:
    """Load public data: UCDP GED events and UN personnel contributions, as published.

    The files are copied into the inbox (data/inbox/ged/ and data/inbox/personnel/; a .zip
    is unpacked) and the weekly job runs: the same contracts, quarantine and manifest as
    every other file. Faults of the public files (totals that are not the sum of their
    parts, swapped or zero coordinates, missing months) are reported, never corrected. Then
    it prints the faults found, the mission-months built, the estimate of civilian deaths
    against police strength, and the dashboard pages.

    Exit code 0 when the job succeeded (even with quarantined rows), 1 when it failed.
    """
    if not ged and not strength:
        raise _fail("give at least one file: --ged FILE and/or --strength FILE")
    _import_public(ged or [], strength or [], run_job)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(
        exists=True, dir_okay=False, readable=True,
        help="CSV, .xlsx or .geojson files; the source is taken from the folder name or the "
        "header.")],
    source: Annotated[str | None, typer.Option(
        help=f"Check the files against this contract: one of {', '.join(SOURCES)}.")] = None,
    show: Annotated[int, typer.Option(help="Problems to list per file.")] = 20,
) -> None:
    """Check files against their contracts without loading anything (a dry run).

    Exit code 0 when every file passes, 1 when any row would be quarantined or any file
    rejected. Duplicates of rows already in the warehouse are checked only when loading.
    """
    from pipelines.ingest.dry_run import dry_run
    from pipelines.ingest.load import format_issue

    if source is not None and source not in SOURCES:
        raise _fail(f"unknown source '{source}': use one of {', '.join(SOURCES)}")
    try:
        reference = _checked_reference()
    except PocmonError as exc:
        raise _fail(escape(str(exc))) from exc
    failed = 0
    for path in files:
        result = dry_run(path, reference, source,
                         max_file_mb=get_settings().inbox.max_file_mb_for(source or ""),
                         extensions=get_settings().inbox.extensions)
        if result.rejection:
            failed += 1
            console.print(f"[red]REJECTED[/] {escape(result.rejection)} "
                          f"\\[rule: {result.rejection_rule}]", highlight=False)
            continue
        if result.ok:
            console.print(f"[green]OK[/] {path} ({result.source}): {result.rows_read} rows, "
                          "all pass")
            continue
        failed += 1
        console.print(
            f"[yellow]PROBLEMS[/] {path} ({result.source}): {result.rows_read} rows read, "
            f"{result.rows_read - result.rows_quarantined} would load, "
            f"{result.rows_quarantined} would be quarantined"
        )
        for issue in result.issues[:show]:
            console.print(f"  - {format_issue(path.name, issue)}", markup=False,
                          highlight=False, soft_wrap=True)
        if len(result.issues) > show:
            console.print(f"  ... and {len(result.issues) - show} more (use --show)")
    raise typer.Exit(1 if failed else 0)


@app.command()
def status(
    limit: Annotated[int, typer.Option(help="How many recent runs to list.")] = 10,
) -> None:
    """The last runs, and the files loaded and rows quarantined, with counts."""
    settings = get_settings()
    try:
        _dagster_home()
    except PocmonError as exc:
        raise _fail(str(exc)) from exc
    from dagster import DagsterInstance, RunsFilter

    instance = DagsterInstance.get()
    records = instance.get_run_records(filters=RunsFilter(job_name="weekly_job"), limit=limit)
    runs = Table(title="Recent runs of the weekly job", title_justify="left")
    for name in ("run", "status", "trigger", "started (UTC)", "seconds"):
        runs.add_column(name)
    for record in records:
        start, end = record.start_time, record.end_time
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start)) if start else "-"
        seconds = f"{end - start:.0f}" if start and end else "-"
        runs.add_row(record.dagster_run.run_id[:8], record.dagster_run.status.value,
                     record.dagster_run.tags.get("pocmon/trigger", "-"), started, seconds)
    if records:
        console.print(runs)
    else:
        console.print("No runs yet: try `pocmon demo` or `pocmon run`.")
    import duckdb

    try:
        rows, superseded = _warehouse_counts()
    except duckdb.Error as exc:
        console.print(f"File counts not shown: {_unreadable_warehouse(exc)}")
        rows, superseded = [], []
    if rows:
        console.print(_counts_table("Current files in the warehouse", rows))
        if superseded:
            console.print(f"{len(superseded)} file(s) superseded by corrected re-submissions "
                          "(kept in the manifest's history).")
    console.print(f"Warehouse: {settings.paths.warehouse}")
    console.print(f"Quarantine report: "
                  f"{settings.paths.published / 'quarantine' / 'quarantine_report.html'}")


@app.command()
def export(
    period: Annotated[str, typer.Option(
        "--period", "-p", show_default=False,
        help="Period to export: a UN fiscal year [bold]FY2025-26[/] (with its quarters), a "
        "quarter [bold]2025-Q3[/] (with its months), a month [bold]2025-09[/] (with its weeks) "
        "or an ISO week [bold]2025-W14[/].")],
    level: Annotated[str, typer.Option(
        "--level", "-l", metavar="mission|sector|site",
        help="Org units to list: mission, sector or site.")] = "mission",
    fmt: Annotated[str, typer.Option(
        "--format", "-f", metavar="xlsx|csv", help="xlsx (one workbook per mission) or csv "
        "(a table and a "
        "dictionary per mission).")] = "xlsx",
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", show_default=False,
        help="Folder to write to, created if needed. Default: the exports folder of the "
        "published outputs (data/published/exports).")] = None,
    mission: Annotated[str | None, typer.Option(
        "--mission", "-m", show_default=False,
        help="Export this mission only (e.g. MINUSCA). Default: every mission.")] = None,
    language: Annotated[str | None, typer.Option(
        "--language", show_default=False, metavar="en|fr",
        help="en or fr for every file. Default: each mission's own language.")] = None,
    disaggregated: Annotated[bool, typer.Option(
        "--disaggregated", help="Add the rows broken down by mode, sex, ... (with "
        "disaggregation columns); default: totals only.")] = False,
) -> None:
    """Write the indicator performance tracking table of a period, for each mission.

    One row per indicator, org unit and period (the period asked for and the periods one level
    below it): baseline, target, actual value and status (on track, at risk, off track), with
    a data dictionary. Excel: a sheet per CPAS outcome, a Dictionary sheet and a README sheet,
    in the mission's language. CSV: MISSION_PERIOD_LEVEL_indicators.csv with
    MISSION_PERIOD_LEVEL_dictionary.csv (LEVEL_disaggregated with --disaggregated). Small
    counts that could identify people show as "suppressed", never as numbers; text that a
    spreadsheet would run as a formula is prefixed with an apostrophe.

    [bold]Examples[/]

    pocmon export --period FY2025-26

    pocmon export --period 2025-Q3 --level site --mission MINUSCA

    pocmon export --period 2025-09 --format csv --out /tmp/exports

    pocmon export --period 2025-W14 --level sector --language en --disaggregated

    Exit code 0 when the files are written, 1 on a problem (unknown period, no data, no
    warehouse yet, output folder not writable).
    """
    from pipelines.indicators.export import ExportError
    from pipelines.indicators.export import export as export_tracking

    settings = get_settings()
    folder = out if out is not None else settings.paths.published / "exports"
    try:
        with console.status(f"Exporting {period}..."):
            result = export_tracking(
                settings.paths.warehouse, period, folder, level=level, fmt=fmt,
                mission=mission, language=language, disaggregated=disaggregated,
            )
    except (ExportError, PocmonError) as exc:
        raise _fail(escape(str(exc))) from exc
    folders = {item.path.parent for item in result.files}
    table = Table(title=f"Tracking table {result.period.label}, {result.level} level, written "
                  f"to {escape(str(folders.pop() if len(folders) == 1 else folder))}",
                  title_justify="left")
    table.add_column("file", no_wrap=True)
    table.add_column("language")
    table.add_column("rows", justify="right")
    table.add_column("sheets", justify="right")
    for item in result.files:
        table.add_row(escape(item.path.name), item.language, f"{item.rows:,}",
                      str(len(item.sheets)) if item.sheets else "-")
    console.print(table)
    for note in result.notes:
        console.print(note)
    if result.suppressed:
        console.print(
            f"{result.suppressed:,} of {result.rows:,} value(s) suppressed (small counts, or "
            "hidden so that they cannot be worked out from the totals): shown as "
            "\"suppressed\" in Excel, empty with suppressed=True in CSV."
        )
    else:
        console.print(f"No value suppressed among {result.rows:,}.")


@app.command()
def narratives(
    incident: Annotated[str | None, typer.Option(
        "--incident", "-i", show_default=False, help="Show this incident only.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", show_default=False, dir_okay=False,
        help="Write a CSV (owner-only permissions) instead of showing them.")] = None,
) -> None:
    """Cleared staff only: open the sealed incident narratives with the pseudonymisation key.

    Narratives are free text that can identify victims and sources: they are kept sealed
    (encrypted) in the warehouse and never published. Do not share what this prints.
    """
    import duckdb

    from pipelines.ingest.pseudonymise import PseudonymKeyError, load_key
    from pipelines.ingest.restricted import RestrictedKeyError, open_restricted

    settings = get_settings()
    if not settings.paths.warehouse.exists():
        raise _fail(f"no warehouse yet at {settings.paths.warehouse}: run `pocmon run` first")
    try:
        con = duckdb.connect(str(settings.paths.warehouse), read_only=True)
    except duckdb.Error as exc:
        raise _fail(f"cannot open the warehouse ({exc}); is a run in progress?") from exc
    try:
        rows = open_restricted(con, "incidents", "narrative",
                               load_key(settings.paths.key_file))
    except (RestrictedKeyError, PseudonymKeyError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        con.close()
    if incident is not None and not rows.empty:
        rows = rows[rows["incident_id"] == incident]
    if not rows.empty:  # in incident order, without the storage's own columns
        rows = rows.sort_values("incident_id", kind="stable")[
            [c for c in rows.columns if not c.startswith("_")]]
    if rows.empty:
        raise _fail("no narrative found" + (f" for incident {incident}" if incident else ""))
    if out is not None:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        if stat.S_ISREG(os.fstat(descriptor).st_mode):  # an existing file keeps its mode
            os.fchmod(descriptor, 0o600)                 # otherwise (not /dev/stdout's)
        from pipelines.indicators.export_writer import neutralise

        # a narrative is field text: one beginning with = + - @ must not run as a formula
        # in the spreadsheet that opens this file (prefixed with ', as every pocmon CSV)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            rows.map(neutralise).to_csv(handle, index=False)
        console.print(f"{len(rows):,} narrative(s) written to {escape(str(out))} (keep it "
                      "restricted; delete it when done).")
        return
    for row in rows.itertuples(index=False):
        console.print(f"[bold]{escape(row.incident_id)}[/]: {escape(str(row.narrative))}",
                      highlight=False)


@app.command()
def dev(
    host: Annotated[str, typer.Option(help="Address to bind; localhost unless you mean it.")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000,
) -> None:
    """Open the Dagster UI (dagster dev) on this project: the graph, runs, checks, schedule."""
    get_settings()
    try:
        _dagster_home()
        prepare_dbt()
    except PocmonError as exc:
        raise _fail(str(exc)) from exc
    dagster = Path(sys.executable).with_name("dagster")
    # the code server dagster starts must find dbt and dagster beside this interpreter
    os.environ["PATH"] = f"{dagster.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    # `dagster dev` warns that `dg dev` supersedes it: dg is not part of pocmon's install
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [
        os.environ.get("PYTHONWARNINGS"), "ignore:Function `dev_command` is superseded"]))
    os.execv(str(dagster), [str(dagster), "dev", "-m", "pipelines.definitions",
                            "-h", host, "-p", str(port)])


def _reflowed(doc: str) -> str:
    """A docstring's paragraphs as single lines, for the terminal to wrap: the help would
    otherwise keep the source's line breaks and wrap each line again (ragged at 80 columns)."""
    return "\n\n".join(" ".join(paragraph.split())
                       for paragraph in inspect.cleandoc(doc).split("\n\n"))


for _command in app.registered_commands:
    if _command.help is None and _command.callback is not None and _command.callback.__doc__:
        _command.help = _reflowed(_command.callback.__doc__)


if __name__ == "__main__":
    app()
