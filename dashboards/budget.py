"""The budget dashboard: outputs planned against delivered, and what they achieved, per fiscal
year (1 July to 30 June).

For mission budget and finance officers and the Fifth Committee's advisers, per mission in its
language. Mission totals of the published indicator table, fiscal-year rows only; the latest
fiscal year first. The same numbers are in the tracking tables the weekly job exports.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards import data
from dashboards.charts import ci_text, value_text
from dashboards.context import Context, about, footer, new_page
from dashboards.page import Page
from dashboards.theme import (
    GREY,
    LIGHT_GREY,
    STATUS_COLOURS,
    STATUS_SYMBOLS,
    esc,
    fmt_date,
    fmt_value,
    is_missing,
    number,
    period_name,
    row_badge,
    row_status,
    style,
)

TEXT = {
    "en": {
        "fy": "Fiscal year {fy} ({start} to {end})",
        "fy_partial": "Partial year: data to {end}. Counts are year to date; targets are for "
                      "the period as set in the indicator targets.",
        "fy_finding": "{fy}: {on_out} of {n_out} outputs with a target on track; {on_oc} of "
                      "{n_oc} outcomes on track",
        "fy_unrated": "; not rated yet: {n} more with a target (a count over a year in "
                      "progress is not compared with the whole year's target)",
        "outputs": "Outputs: planned against delivered",
        "outcomes": "Outcomes: what the outputs achieved",
        "planned": "Planned (target)", "delivered": "Delivered", "share": "% of target",
        "share_axis": "Delivered as % of target (100 = as planned)",
        "progress_axis": "Progress from baseline (0) to target (100)",
        "lower": "lower is better", "no_target": "no target set",
        "none": "No published fiscal-year values yet.",
        "outputs_note": "Outputs without a target are listed in the table only. For an "
                        "indicator where lower is better, above 100 means above the ceiling.",
        "outcomes_note": "Progress = (actual − baseline) / (target − baseline): 0 is the "
                         "baseline, 100 the target, below 0 worse than the baseline; ◀ and ▶ "
                         "mark values beyond the chart's range (−100 to 200). Outcomes "
                         "without a baseline and a target are in the table only.",
        "exports": "The weekly job also publishes the latest fiscal year's tracking tables "
                   "(Excel and CSV, with a data dictionary) in the indicators folder beside "
                   "this one; `pocmon export --period FY2025-26` writes any other.",
    },
    "fr": {
        "fy": "Exercice budgétaire {fy} (du {start} au {end})",
        "fy_partial": "Exercice partiel : données jusqu'au {end}. Les nombres sont cumulés "
                      "depuis le début de l'exercice ; les cibles sont celles fixées pour la "
                      "période.",
        "fy_finding": "{fy} : {on_out} produits sur {n_out} dotés d'une cible en bonne voie ; "
                      "{on_oc} résultats sur {n_oc} en bonne voie",
        "fy_unrated": " ; pas encore évalués : {n} autres dotés d'une cible (un total sur un "
                      "exercice en cours n'est pas comparé à la cible de l'exercice entier)",
        "outputs": "Produits : prévus et réalisés",
        "outcomes": "Résultats : ce que les produits ont permis",
        "planned": "Prévu (cible)", "delivered": "Réalisé", "share": "% de la cible",
        "share_axis": "Réalisé en % de la cible (100 = comme prévu)",
        "progress_axis": "Progrès de la référence (0) à la cible (100)",
        "lower": "plus bas = mieux", "no_target": "pas de cible",
        "none": "Pas encore de valeurs publiées par exercice budgétaire.",
        "outputs_note": "Les produits sans cible ne figurent que dans le tableau. Pour un "
                        "indicateur où plus bas vaut mieux, au-dessus de 100 signifie "
                        "au-dessus du plafond.",
        "outcomes_note": "Progrès = (valeur − référence) / (cible − référence) : 0 est la "
                         "référence, 100 la cible, en dessous de 0 moins bien que la "
                         "référence ; ◀ et ▶ signalent les valeurs hors de l'échelle du "
                         "graphique (−100 à 200). Les résultats sans référence ni cible ne "
                         "figurent que dans le tableau.",
        "exports": "Le traitement hebdomadaire publie aussi les tableaux de suivi du dernier "
                   "exercice (Excel et CSV, avec un dictionnaire des données) dans le dossier "
                   "indicators voisin ; `pocmon export --period FY2025-26` produit les autres.",
    },
}
PROGRESS_CLIP = (-100.0, 200.0)


def build_budget(ctx: Context) -> Page:
    page = new_page(ctx, "budget")
    w = ctx.w(TEXT)
    if ctx.as_of is None:
        page.empty(w("no_data_yet"))
        return page
    rows = data.values(ctx.con, ctx.mission_id, levels=["mission"],
                       period_types=["fiscal_year"])
    rows = rows[(rows["period_start"] <= pd.Timestamp(ctx.as_of.week_end))
                & (rows["value"].notna() | rows["suppressed"])]
    years = sorted(set(rows["period_label"]), reverse=True)
    if not years:
        page.empty(w("none"))
    for fy in years:
        _fiscal_year(page, ctx, rows[rows["period_label"] == fy], fy)
    about(page, ctx, [w("outputs_note"), w("outcomes_note"), w("exports")])
    return page


def render(ctx: Context) -> str:
    return build_budget(ctx).render(footer(ctx))


def _fiscal_year(page: Page, ctx: Context, rows: pd.DataFrame, fy: str) -> None:
    w = ctx.w(TEXT)
    first = rows.iloc[0]
    fy_name = period_name("fiscal_year", fy, ctx.lang)
    page.h2(w("fy", fy=fy_name, start=fmt_date(first["period_start"], ctx.lang),
              end=fmt_date(first["period_end"], ctx.lang)), f"fy-{fy}")
    by_code = {r["indicator_code"]: r for _, r in rows.iterrows()}
    outputs = [c for c in ctx.codes(kind="output") if c in by_code]
    outcomes = [c for c in ctx.codes(kind="outcome") if c in by_code]

    def rated(codes: list[str]) -> list[pd.Series]:
        return [by_code[c] for c in codes if by_code[c]["status"] is not None
                and not by_code[c]["suppressed"]]

    out_rated, oc_rated = rated(outputs), rated(outcomes)
    with_target = [by_code[c] for c in outputs if _share(by_code[c]) is not None]
    # with a target but no status: a sum over a year in progress (is_partial_period)
    unrated = [by_code[c] for c in outputs + outcomes if by_code[c]["status"] is None
               and not by_code[c]["suppressed"] and pd.notna(by_code[c]["target"])]
    page.finding(w("fy_finding", fy=fy_name, n_out=len(out_rated), n_oc=len(oc_rated),
                   on_out=sum(r["status"] == "on_track" for r in out_rated),
                   on_oc=sum(r["status"] == "on_track" for r in oc_rated))
                 + (w("fy_unrated", n=len(unrated)) if unrated else ""))
    if rows["is_partial_period"].fillna(False).astype(bool).any() and ctx.as_of:
        page.note(w("fy_partial", end=fmt_date(min(ctx.as_of.week_end,
                                                   first["period_end"].date()), ctx.lang)))
    page.html(f"<h3>{esc(w('outputs'))}</h3>")
    if with_target:
        page.figure(_delivery_chart(ctx, with_target))
    page.table(
        [w("indicator"), w("unit"), w("planned"), w("delivered"), w("share"), w("status")],
        [_output_row(ctx, by_code[c]) for c in outputs], numeric={2, 3, 4})
    page.html(f"<h3>{esc(w('outcomes'))}</h3>")
    progress = [r for r in oc_rated if not is_missing(r["baseline"])
                and not is_missing(r["target"]) and r["target"] != r["baseline"]]
    if progress:
        page.figure(_progress_chart(ctx, progress))
    page.table([w("indicator"), w("baseline"), w("target"), w("actual"), w("ci"), w("status")],
               [_outcome_row(ctx, by_code[c]) for c in outcomes], numeric={1, 2, 3})


def _unit_word(ctx: Context, code: str) -> str:
    unit = ctx.unit(code)
    words_ = {"en": {"percent": "%", "count": "number", "hours": "hours", "minutes": "minutes",
                     "days": "days", "points": "points", "per_10k": "per 10,000"},
              "fr": {"percent": "%", "count": "nombre", "hours": "heures",
                     "minutes": "minutes", "days": "jours", "points": "points",
                     "per_10k": "pour 10 000"}}
    return words_[ctx.lang].get(unit, unit)


def _share(row: pd.Series) -> float | None:
    if row["suppressed"] or is_missing(row["value"]) or is_missing(row["target"]) \
            or row["target"] == 0:
        return None
    return float(row["value"]) / float(row["target"]) * 100


def _output_row(ctx: Context, row: pd.Series) -> list[str]:
    w = ctx.w(TEXT)
    code = row["indicator_code"]
    unit = ctx.unit(code)
    share = _share(row)
    target = "" if row["suppressed"] else fmt_value(row["target"], unit, ctx.lang,
                                                    with_unit=False)
    return [esc(ctx.name(code)), esc(_unit_word(ctx, code)), esc(target or w("no_target")),
            esc(value_text(ctx, code, row)),
            esc(f"{number(share, 0, ctx.lang)}" if share is not None else ""),
            row_badge(row, ctx.lang)]


def _outcome_row(ctx: Context, row: pd.Series) -> list[str]:
    code = row["indicator_code"]
    unit = ctx.unit(code)
    hide = bool(row["suppressed"])
    return [esc(ctx.name(code)),
            esc("" if hide else fmt_value(row["baseline"], unit, ctx.lang)),
            esc("" if hide else fmt_value(row["target"], unit, ctx.lang)),
            esc(value_text(ctx, code, row)), esc("" if hide else ci_text(ctx, code, row)),
            row_badge(row, ctx.lang)]


def _status_marks(rows: list[pd.Series]) -> tuple[list[str], list[str]]:
    statuses = [r["status"] if r["status"] in STATUS_COLOURS else None for r in rows]
    return [STATUS_COLOURS[s] for s in statuses], [STATUS_SYMBOLS[s] for s in statuses]


def _delivery_chart(ctx: Context, rows: list[pd.Series]) -> go.Figure:
    w = ctx.w(TEXT)
    rows = [r for r in rows if _share(r) is not None]
    names = []
    for r in rows:
        name = ctx.name(r["indicator_code"])
        if ctx.direction(r["indicator_code"]) == "down":
            name += f" ({w('lower')})"
        names.append(esc(name))
    colours, _ = _status_marks(rows)
    text = [esc(f"{value_text(ctx, r['indicator_code'], r)} / "
                f"{fmt_value(r['target'], ctx.unit(r['indicator_code']), ctx.lang)} · "
                f"{row_status(r, ctx.lang)}") for r in rows]
    fig = go.Figure(go.Bar(
        x=[_share(r) for r in rows], y=names, orientation="h", text=text,
        textposition="outside", cliponaxis=False, showlegend=False,
        marker={"color": [c if c != GREY else LIGHT_GREY for c in colours],
                "line": {"color": "#333", "width": 1}},
        hovertemplate="%{y}<br>%{text}<extra></extra>"))
    fig.add_vline(x=100, line_dash="dash", line_color=GREY)
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text=esc(w("share_axis")), rangemode="tozero")
    style(fig, ctx.lang, height=120 + 36 * len(rows))
    fig.update_layout(margin={"r": 220})
    return fig


def _progress_chart(ctx: Context, rows: list[pd.Series]) -> go.Figure:
    w = ctx.w(TEXT)
    low, high = PROGRESS_CLIP
    xs, text, hover = [], [], []
    for r in rows:
        progress = (float(r["value"]) - float(r["baseline"])) / \
            (float(r["target"]) - float(r["baseline"])) * 100
        xs.append(min(max(progress, low), high))
        unit = ctx.unit(r["indicator_code"])
        beyond = "▶ " if progress > high else ("◀ " if progress < low else "")
        short = fmt_value(r["value"], unit, ctx.lang, with_unit=False)
        text.append(esc(f"{beyond}{short} · {row_status(r, ctx.lang)}"))
        hover.append(esc(f"{value_text(ctx, r['indicator_code'], r)} "
                         f"({w('baseline').lower()} {fmt_value(r['baseline'], unit, ctx.lang)}"
                         f", {w('target').lower()} {fmt_value(r['target'], unit, ctx.lang)}; "
                         f"{number(progress, 0, ctx.lang)}) · {row_status(r, ctx.lang)}"))
    colours, symbols = _status_marks(rows)
    names = [esc(ctx.name(r["indicator_code"])) for r in rows]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=xs, y=names, orientation="h", marker_color=LIGHT_GREY,
                         hoverinfo="skip", showlegend=False, width=0.15))
    fig.add_trace(go.Scatter(
        x=xs, y=names, mode="markers+text", text=text, textposition="middle right",
        cliponaxis=False, showlegend=False, hovertext=hover,
        hovertemplate="%{y}<br>%{hovertext}<extra></extra>",
        marker={"size": 14, "color": colours, "symbol": symbols,
                "line": {"width": 2, "color": colours}}))
    fig.add_vline(x=0, line_color=GREY)
    fig.add_vline(x=100, line_dash="dash", line_color=GREY)
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text=esc(w("progress_axis")), range=[low - 10, high + 10])
    style(fig, ctx.lang, height=120 + 40 * len(rows))
    fig.update_layout(margin={"r": 200})
    return fig
