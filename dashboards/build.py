"""Build every dashboard of every mission, and the index page linking them.

``build_dashboards(con, out_dir)`` writes, for each mission of ``marts.dim_missions``, in the
mission's language (``dim_missions.language``):

* ``leadership_<MISSION>.html``: outcomes against targets, trends, the deterrence estimate,
  response times, perception surveys, the site map and the sector drill-down;
* ``planning_<MISSION>.html``: this week against last, patrols against victims by site, data
  quality (completeness, timeliness, quarantined rows);
* ``budget_<MISSION>.html``: outputs planned against delivered and the outcome indicators, per
  fiscal year;
* ``civilians_<MISSION>.html``, for a mission with public data (``marts.fct_mission_months``):
  UN police strength against civilian deaths by month, the mission-month estimate and its
  caveats, the faults found in the public files;

and ``index.html`` (English and French) linking them. Every page is one self-contained file
that opens offline and requests nothing from any host (see dashboards/page.py). The connection
is only read; give it a read-only one. ``build_dashboards_from(database, out_dir, workers=n)``
writes the same pages from the warehouse file, building up to n missions side by side.
"""

from __future__ import annotations

import datetime as dt
from itertools import repeat
from pathlib import Path

import duckdb

from dashboards import budget, civilians, data, leadership, planning
from dashboards.context import DASHBOARDS, Context, file_name, make_context
from dashboards.page import generated_at
from dashboards.theme import CSS, attr, esc, fmt_date, words
from pipelines.forked import can_fork, forked_pool, share

BUILDERS = {"leadership": leadership.render, "planning": planning.render,
            "budget": budget.render}


def build_dashboards(con: duckdb.DuckDBPyConnection, out_dir: Path, *,
                     generated: dt.datetime | None = None) -> list[Path]:
    """Write the dashboards of every mission and index.html into ``out_dir``; return the paths
    written (index last). ``generated``: the time the pages give (now by default)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return _built_here(_contexts(con, generated or generated_at()), out_dir)


def build_dashboards_from(database: Path, out_dir: Path, *, workers: int = 1,
                          generated: dt.datetime | None = None,
                          config: dict[str, str] | None = None) -> list[Path]:
    """``build_dashboards`` reading the file ``database`` (read-only, with DuckDB ``config``):
    the same pages. With ``workers`` > 1, the missions' pages are built side by side in that
    many processes (pipelines/forked.py), forked while this one has the file closed; each
    opens its own read-only connection with a share of the memory limit and CPUs. Where fork
    is not available, one after the other here."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    when = generated or generated_at()
    with _read_only(database, config) as con:
        contexts = _contexts(con, when)
        workers = min(workers, len(contexts))
        if workers <= 1 or not can_fork():
            return _built_here(contexts, out_dir)
    with forked_pool(workers) as pool:
        built = list(pool.map(_mission_pages_from, repeat(database),
                              [ctx.mission for ctx in contexts], repeat(when), repeat(out_dir),
                              repeat(share(config or {}, workers))))
    return _with_index(contexts, built, out_dir)  # the index reads no table


def _contexts(con: duckdb.DuckDBPyConnection, when: dt.datetime) -> list[Context]:
    return [make_context(con, mission, when) for mission in data.missions(con)]


def _built_here(contexts: list[Context], out_dir: Path) -> list[Path]:
    """Every mission's pages built in this process, one after the other, and the index."""
    return _with_index(contexts, [_mission_pages(ctx, out_dir) for ctx in contexts], out_dir)


class DashboardError(Exception):
    """A mission's dashboards could not be built (the message names the mission)."""


def _read_only(database: Path, config: dict[str, str] | None) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(database), read_only=True, config=config or {})


def _mission_pages(ctx: Context, out_dir: Path) -> tuple[list[Path], list[str]]:
    """Write one mission's dashboards; return their paths and the extra pages it has (the
    public-data page, for the index)."""
    written = []
    for dashboard in DASHBOARDS:
        path = out_dir / file_name(dashboard, ctx.mission_id)
        _write(path, BUILDERS[dashboard](ctx))
        written.append(path)
    if not data.has_mission_months(ctx.con, ctx.mission_id):
        return written, []
    path = out_dir / file_name(civilians.DASHBOARD, ctx.mission_id)
    _write(path, civilians.render(ctx))
    return [*written, path], [civilians.DASHBOARD]


def _mission_pages_from(database: Path, mission: data.Mission, when: dt.datetime,
                        out_dir: Path, config: dict[str, str] | None
                        ) -> tuple[list[Path], list[str]]:
    """``_mission_pages`` in a worker process, with a connection of its own. A file system
    error is passed on as it is (the publish step says what it means); any other names the
    mission."""
    try:
        with _read_only(database, config) as con:
            return _mission_pages(make_context(con, mission, when), out_dir)
    except OSError:
        raise
    except Exception as exc:
        raise DashboardError(f"the dashboards of {mission.mission_id}: "
                             f"{type(exc).__name__}: {exc}") from exc


def _with_index(contexts: list[Context], built: list[tuple[list[Path], list[str]]],
                out_dir: Path) -> list[Path]:
    """Write index.html; return every page written, the index last."""
    extra = {ctx.mission_id: pages for ctx, (_, pages) in zip(contexts, built, strict=True)
             if pages}
    index = out_dir / "index.html"
    _write(index, render_index(contexts, extra))
    return [*(path for paths, _ in built for path in paths), index]


def _write(path: Path, text: str) -> None:
    """Write through a temporary name, so a reader never opens a half-written page."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def render_index(contexts: list[Context], extra: dict[str, list[str]] | None = None) -> str:
    """The bilingual index: each mission with its dashboards (and ``extra`` pages, e.g. the
    public-data page), labelled in its language."""
    items = []
    for ctx in contexts:
        w = words(ctx.lang)
        pages = [*DASHBOARDS, *(extra or {}).get(ctx.mission_id, [])]
        links = " · ".join(
            f'<a href="{attr(file_name(d, ctx.mission_id))}" hreflang="{attr(ctx.lang)}">'
            f"{esc(w(d))}</a>" for d in pages)
        when = (w("data_to", week=ctx.as_of.week, start=fmt_date(ctx.as_of.week_start, ctx.lang),
                  end=fmt_date(ctx.as_of.week_end, ctx.lang))
                if ctx.as_of else w("no_data_yet"))
        items.append(f'<li lang="{attr(ctx.lang)}"><b>{esc(ctx.mission_id)}</b> — '
                     f"{esc(ctx.mission.name)}<br>{links}<br>"
                     f'<span class="muted">{esc(when)}</span></li>')
    stamp = contexts[0].generated if contexts else generated_at()
    generated = stamp.strftime("%Y-%m-%d %H:%M UTC")
    body = "".join(items) or "<li>No mission in the warehouse yet / Aucune mission.</li>"
    return "\n".join([
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        "<title>pocmon dashboards / tableaux de bord</title>", f"<style>{CSS}</style>",
        "</head><body><header>",
        "<h1>pocmon dashboards <span class=\"muted\">/ tableaux de bord</span></h1>",
        "<p class=\"muted\">Protection of civilians: UN police monitoring and evaluation. "
        "Each mission's dashboards are in its working language. / Protection des civils : "
        "suivi et évaluation de la police des Nations Unies. Les tableaux de bord de chaque "
        "mission sont dans sa langue de travail.</p></header><main>",
        f'<ul class="missions">{body}</ul>', "</main>",
        f'<footer class="muted">Generated / produit le {esc(generated)}.</footer>',
        "</body></html>",
    ])
