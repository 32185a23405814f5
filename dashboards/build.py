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
is only read; give it a read-only one.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from dashboards import budget, civilians, data, leadership, planning
from dashboards.context import DASHBOARDS, Context, file_name, make_context
from dashboards.page import generated_at
from dashboards.theme import CSS, attr, esc, fmt_date, words

BUILDERS = {"leadership": leadership.render, "planning": planning.render,
            "budget": budget.render}


def build_dashboards(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """Write the dashboards of every mission and index.html into ``out_dir``; return the paths
    written (index last)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    when = generated_at()
    written: list[Path] = []
    contexts = [make_context(con, mission, when) for mission in data.missions(con)]
    extra: dict[str, list[str]] = {}
    for ctx in contexts:
        for dashboard in DASHBOARDS:
            path = out_dir / file_name(dashboard, ctx.mission_id)
            _write(path, BUILDERS[dashboard](ctx))
            written.append(path)
        if data.has_mission_months(con, ctx.mission_id):
            path = out_dir / file_name(civilians.DASHBOARD, ctx.mission_id)
            _write(path, civilians.render(ctx))
            written.append(path)
            extra[ctx.mission_id] = [civilians.DASHBOARD]
    index = out_dir / "index.html"
    _write(index, render_index(contexts, extra))
    written.append(index)
    return written


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
