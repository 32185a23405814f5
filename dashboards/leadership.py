"""The leadership dashboard: are civilians safer where and when police are present?

For the police commissioner, the head of mission and POC advisers, per mission in its
language: outcome headlines against their targets, monthly trends, the deterrence estimate with
its confidence interval, response times, perception survey results with their confidence
intervals, a map of the sites and a drill-down by sector. Every figure comes from the published
indicator table or the impact estimates (see dashboards/data.py).
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards import data
from dashboards.charts import (
    ci_text,
    percent_axis,
    scale,
    status_legend,
    trend_traces,
    value_text,
    wrap,
)
from dashboards.context import Context, about, footer, new_page
from dashboards.page import Page
from dashboards.theme import (
    COLORWAY,
    GREY,
    NEUTRAL,
    OKABE_ITO,
    SEQUENTIAL,
    UNIT_WORDS,
    esc,
    fmt_value,
    is_missing,
    number,
    paper_y,
    period_name,
    row_badge,
    row_status,
    style,
)

TEXT = {
    "en": {
        "headlines": "Outcomes against their targets",
        "headline_finding": "{period}: {on} of {n} outcome indicators with a target on track, "
                            "{risk} at risk, {off} off track",
        "headline_none": "{period}: no outcome indicator has a target and a published value",
        "headline_note": "Latest quarter with a published value, for the whole mission. A "
                         "partial period is marked; its value covers the weeks reported so far.",
        "trends": "Trends by month",
        "trend_finding": "Since {first}: {good} of {n} outcome indicators moved the right way "
                         "and {bad} the wrong way",
        "trend_note": "Mission totals by month (a week belongs to the month of its Thursday). "
                      "The dashed grey line is the target.",
        "deterrence": "Do patrols deter violence?",
        "not_estimated": "Not estimated yet: the impact estimates (marts.fct_impact_estimates) "
                         "are not in this warehouse. They appear here once the weekly job has "
                         "computed them.",
        "not_estimated_mission": "Not estimated yet for this mission.",
        "this_mission": "This mission", "all_missions": "All missions pooled",
        "rate_ratio_axis": "Rate ratio (1 = no difference; log scale)",
        "deterrence_note": "Each line is an estimate with its 95% confidence interval; below 1 "
                           "means fewer incidents. How each was estimated, and what could bias "
                           "it, is written under the chart.",
        "estimand_presence_rate_ratio": "Days within 3 days after a planned patrol",
        "estimand_programme_rate_ratio": "After regular foot patrols began",
        "clear": "interval excludes no difference", "unclear": "interval includes no "
                                                                "difference",
        "response": "How fast do police reach civilians under threat?",
        "response_finding": "{name}, {period}: {value}, {status}{target}",
        "response_none": "No published response times yet",
        "response_note": "Alerts with a recorded arrival time. The median is suppressed when "
                         "fewer alerts than the small-cell threshold were answered.",
        "perception": "What do people say? (perception surveys)",
        "perception_finding": "{name}, {period}: {value} ({ci}), {status}{target}",
        "perception_none": "No published survey results yet",
        "perception_note": "Weighted survey estimates for the mission with their 95% "
                           "confidence intervals (vertical bars); months without a survey "
                           "round have no point.",
        "map": "Where the sites are",
        "map_finding_safe": "Fewest people feel safe at {sites} ({period})",
        "map_finding": "{n} sites in {k} sectors",
        "map_measure": "Show:", "map_zoom": "Zoom to:",
        "map_feels_safe": "People who feel safe", "map_victims": "Civilian victims",
        "map_patrols": "Patrols", "map_none": "suppressed or no data",
        "site_table": "The sites in figures", "site_type": "Type",
        "map_note": "The menu on the left zooms to a sector, the one on the right chooses what "
                    "the colour shows. Grey open circles: value suppressed or not published "
                    "for that site.",
        "sectors": "Drill-down by sector",
        "sector_finding_off": "{period}: most outcomes off track in {sector} ({k} of {n})",
        "sector_finding_none": "{period}: no sector has an outcome off track",
        "sector_note": "Latest quarter, by sector. Choose a sector with the buttons; the grey "
                       "dashed line is the whole mission.",
        "target_word": "target",
        "limits": "Limits and method", "method": "Method:",
        "method_in_english": "Method:",
        "sector_finding_spread": "{name}, {period}: worst in {worst} ({worst_value}), best in "
                                 "{best} ({best_value})",
    },
    "fr": {
        "headlines": "Résultats par rapport aux cibles",
        "headline_finding": "{period} : {on} indicateurs de résultat sur {n} dotés d'une cible "
                            "en bonne voie, {risk} à risque, {off} hors trajectoire",
        "headline_none": "{period} : aucun indicateur de résultat n'a de cible et de valeur "
                         "publiée",
        "headline_note": "Dernier trimestre avec une valeur publiée, pour toute la mission. Une "
                         "période partielle est signalée ; sa valeur couvre les semaines déjà "
                         "rapportées.",
        "trends": "Évolution mensuelle",
        "trend_finding": "Depuis {first} : {good} indicateurs de résultat sur {n} ont évolué "
                         "dans le bon sens et {bad} dans le mauvais",
        "trend_note": "Totaux de la mission par mois (une semaine appartient au mois de son "
                      "jeudi). La ligne grise en tirets est la cible.",
        "deterrence": "Les patrouilles dissuadent-elles la violence ?",
        "not_estimated": "Pas encore estimé : les estimations d'impact "
                         "(marts.fct_impact_estimates) ne figurent pas dans cet entrepôt. "
                         "Elles apparaîtront ici une fois calculées par le traitement "
                         "hebdomadaire.",
        "not_estimated_mission": "Pas encore estimé pour cette mission.",
        "this_mission": "Cette mission", "all_missions": "Toutes les missions",
        "rate_ratio_axis": "Rapport des taux (1 = aucune différence ; échelle log)",
        "deterrence_note": "Chaque ligne est une estimation avec son intervalle de confiance à "
                           "95 % ; en dessous de 1 : moins d'incidents. La méthode et ses "
                           "biais possibles sont décrits sous le graphique.",
        "estimand_presence_rate_ratio": "Jours suivant une patrouille planifiée (3 jours)",
        "estimand_programme_rate_ratio": "Après le début des patrouilles pédestres régulières",
        "clear": "l'intervalle exclut l'absence de différence",
        "unclear": "l'intervalle inclut l'absence de différence",
        "response": "En combien de temps la police atteint-elle les civils menacés ?",
        "response_finding": "{name}, {period} : {value}, {status}{target}",
        "response_none": "Pas encore de délais d'intervention publiés",
        "response_note": "Alertes avec une heure d'arrivée enregistrée. La médiane est masquée "
                         "quand trop peu d'alertes ont reçu une réponse.",
        "perception": "Que disent les habitants ? (enquêtes de perception)",
        "perception_finding": "{name}, {period} : {value} ({ci}), {status}{target}",
        "perception_none": "Pas encore de résultats d'enquête publiés",
        "perception_note": "Estimations pondérées de la mission avec leur intervalle de "
                           "confiance à 95 % (barres verticales) ; les mois sans vague "
                           "d'enquête n'ont pas de point.",
        "map": "Où sont les sites",
        "map_finding_safe": "Sites où le moins de personnes se sentent en sécurité : {sites} "
                            "({period})",
        "map_finding": "{n} sites dans {k} secteurs",
        "map_measure": "Afficher :", "map_zoom": "Zoomer sur :",
        "map_feels_safe": "Personnes qui se sentent en sécurité",
        "map_victims": "Victimes civiles", "map_patrols": "Patrouilles",
        "map_none": "masqué ou sans données",
        "site_table": "Les sites en chiffres", "site_type": "Type",
        "map_note": "Le menu de gauche zoome sur un secteur, celui de droite choisit ce que "
                    "montre la couleur. Cercles gris vides : valeur masquée ou non publiée pour "
                    "ce site.",
        "sectors": "Détail par secteur",
        "sector_finding_off": "{period} : le plus de résultats hors trajectoire dans le secteur "
                              "{sector} ({k} sur {n})",
        "sector_finding_none": "{period} : aucun secteur n'a de résultat hors trajectoire",
        "sector_note": "Dernier trimestre, par secteur. Choisissez un secteur avec les boutons ; "
                       "la ligne grise en tirets est la mission entière.",
        "target_word": "cible",
        "limits": "Limites et méthode", "method": "Méthode :",
        "method_in_english": "Méthode (description en anglais) :",
        "sector_finding_spread": "{name}, {period} : le moins bon en {worst} ({worst_value}), "
                                 "le meilleur en {best} ({best_value})",
    },
}

RESPONSE_CODES = ("RSP_WITHIN_TARGET", "RSP_MEDIAN_MINUTES")
PERCEPTION_FAMILY = "PER"
# Outcome indicators followed by sector, in order of preference.
SECTOR_PANELS = 4


def build_leadership(ctx: Context) -> Page:
    page = new_page(ctx, "leadership")
    w = ctx.w(TEXT)
    if ctx.as_of is None:
        page.empty(w("no_data_yet"))
        return page
    monthly = data.values(ctx.con, ctx.mission_id, levels=["mission"], period_types=["month"])
    quarterly = data.values(ctx.con, ctx.mission_id, levels=["mission"],
                            period_types=["quarter"])
    monthly = monthly[monthly["period_label"] <= ctx.as_of.month]
    quarterly = quarterly[quarterly["period_label"] <= ctx.as_of.quarter]
    outcomes = [c for c in ctx.codes(kind="outcome") if c in set(quarterly["indicator_code"])]

    _headlines(page, ctx, quarterly, outcomes)
    _trends(page, ctx, monthly, outcomes)
    estimates = data.impact_estimates(ctx.con, ctx.mission_id)
    _deterrence(page, ctx, estimates)
    _response(page, ctx, monthly, quarterly, estimates)
    _perception(page, ctx, monthly, quarterly, estimates)
    _map(page, ctx)
    _sectors(page, ctx, outcomes)
    about(page, ctx, [w("percent_note")])
    return page


def render(ctx: Context) -> str:
    return build_leadership(ctx).render(footer(ctx))


# ---------------------------------------------------------------------------------------------


def latest(rows: pd.DataFrame, code: str) -> pd.Series | None:
    """The latest row of an indicator with a value or suppressed (None if there is none)."""
    sub = rows[(rows["indicator_code"] == code) & (rows["value"].notna() | rows["suppressed"])]
    if sub.empty:
        return None
    return sub.sort_values("period_start").iloc[-1]


def _period(ctx: Context, row: pd.Series) -> str:
    text = period_name(row["period_type"], row["period_label"], ctx.lang)
    if bool(row.get("is_partial_period", False)):
        text += f" ({ctx.w()('partial')})"
    return text


def _card(ctx: Context, code: str, row: pd.Series) -> str:
    w = ctx.w()
    unit = ctx.unit(code)
    big = value_text(ctx, code, row)
    small = ""
    if not row["suppressed"] and not is_missing(row["value"]):
        big = fmt_value(row["value"], unit, ctx.lang, with_unit=False)
        small = UNIT_WORDS[ctx.lang].get(unit, "")
    details = [esc(_period(ctx, row))]
    if not row["suppressed"]:
        if not is_missing(row["target"]):
            details.append(esc(f"{w('target')} {fmt_value(row['target'], unit, ctx.lang)}"))
        if not is_missing(row["baseline"]):
            details.append(esc(f"{w('baseline')} {fmt_value(row['baseline'], unit, ctx.lang)}"))
        ci = ci_text(ctx, code, row)
        if ci:
            details.append(esc(ci))
    return (f'<div class="card"><div class="name">{esc(ctx.name(code))}</div>'
            f'<div class="big">{esc(big)} <small>{esc(small)}</small></div>'
            f'<div>{row_badge(row, ctx.lang)}</div>'
            f'<div class="muted">{" · ".join(details)}</div></div>')


def _headlines(page: Page, ctx: Context, quarterly: pd.DataFrame, outcomes: list[str]) -> None:
    w = ctx.w(TEXT)
    page.h2(w("headlines"), "headlines")
    rows = {code: latest(quarterly, code) for code in outcomes}
    rows = {code: row for code, row in rows.items() if row is not None}
    with_target = [r for r in rows.values() if not r["suppressed"] and r["status"] is not None]
    counts = {s: sum(r["status"] == s for r in with_target) for s in
              ("on_track", "at_risk", "off_track")}
    period = period_name("quarter", ctx.as_of.quarter, ctx.lang)
    if with_target:
        page.finding(w("headline_finding", period=period, n=len(with_target),
                       on=counts["on_track"], risk=counts["at_risk"], off=counts["off_track"]))
    else:
        page.finding(w("headline_none", period=period))
    # indicators with a target first, then the others, each in catalogue order
    ordered = sorted(rows, key=lambda c: (rows[c]["status"] is None, outcomes.index(c)))
    page.html('<div class="card-grid">' + "".join(_card(ctx, c, rows[c]) for c in ordered)
              + "</div>")
    page.note(w("headline_note"))


def _direction_moves(ctx: Context, rows: pd.DataFrame) -> int:
    """+1 when the last published month is better than the first, -1 worse, 0 same/unknown."""
    shown = rows[rows["value"].notna() & ~rows["suppressed"]].sort_values("period_start")
    if len(shown) < 2:
        return 0
    first, last = shown["value"].iloc[0], shown["value"].iloc[-1]
    if math.isclose(first, last):
        return 0
    better = last > first if ctx.direction(rows["indicator_code"].iloc[0]) == "up" else \
        last < first
    return 1 if better else -1


def _trends(page: Page, ctx: Context, monthly: pd.DataFrame, outcomes: list[str]) -> None:
    w = ctx.w(TEXT)
    page.h2(w("trends"), "trends")
    codes = [c for c in outcomes if not c.startswith(("RSP_", f"{PERCEPTION_FAMILY}_"))
             and monthly[(monthly["indicator_code"] == c)
                         & (monthly["value"].notna() | monthly["suppressed"])].shape[0] > 0]
    if not codes:
        page.empty(w("no_data"))
        return
    moves = [_direction_moves(ctx, monthly[monthly["indicator_code"] == c]) for c in codes]
    first = monthly[monthly["indicator_code"].isin(codes)]["period_label"].min()
    page.finding(w("trend_finding", first=period_name("month", first, ctx.lang), n=len(codes),
                   good=moves.count(1), bad=moves.count(-1)))
    cols = 3 if len(codes) > 4 else 2
    nrows = math.ceil(len(codes) / cols)
    fig = make_subplots(rows=nrows, cols=cols,
                        subplot_titles=[wrap(ctx.name(c), 40 if cols == 3 else 60)
                                        for c in codes],
                        vertical_spacing=min(0.3, 80 / (270 * nrows)),
                        horizontal_spacing=0.07)
    for i, code in enumerate(codes):
        r, c = i // cols + 1, i % cols + 1
        rows = monthly[monthly["indicator_code"] == code]
        for trace in trend_traces(ctx, code, rows, colour=NEUTRAL, legend=(i == 0),
                                  name=w("mission")):
            fig.add_trace(trace, row=r, col=c)
        percent_axis(fig, ctx, ctx.unit(code), row=r, col=c)
    for trace in status_legend(ctx):
        fig.add_trace(trace, row=1, col=1)
    fig.update_annotations(font_size=12)
    months = monthly["period_label"].nunique()
    fig.update_xaxes(tickangle=0, dtick=max(1, math.ceil(months / (4 if cols == 3 else 6))))
    style(fig, ctx.lang, height=270 * nrows + 90, top=90)
    page.figure(fig)
    page.note(w("trend_note"))


# --- impact estimates --------------------------------------------------------------------


def _sentence(ctx: Context, row: pd.Series, column: str) -> str:
    text = row.get(f"{column}_{ctx.lang}")
    return text if isinstance(text, str) else ""


def _headline_clause(sentence: str) -> str:
    """'Clear evidence: x had 35% fewer incidents (rate ratio ...).' -> the words before '('."""
    return sentence.split(" (", 1)[0].rstrip(" .")


def _estimate_items(ctx: Context, rows: pd.DataFrame, *, caveat_shown: bool = False) -> str:
    """Each estimate's sentence; its caveat (shown, or folded) and method (folded)."""
    w = ctx.w(TEXT)
    items = []
    for _, row in rows.iterrows():
        scope = w("all_missions") if row["mission_id"] == "ALL" else w("this_mission")
        caveat = _sentence(ctx, row, "caveat")
        method = row.get("method") if isinstance(row.get("method"), str) else ""
        folded = ([] if caveat_shown or not caveat else [esc(caveat)]) + (
            [esc(w("method_in_english") if ctx.lang != "en" else w("method")) + " "
             + esc(method)] if method else [])
        items.append(
            f'<div class="estimate"><b>{esc(scope)}.</b> {esc(_sentence(ctx, row, "sentence"))}'
            + (f'<br><span class="muted">{esc(caveat)}</span>' if caveat_shown and caveat
               else "")
            + (f'<details><summary>{esc(w("limits"))}</summary><p class="muted">'
               + "</p><p class=\"muted\">".join(folded) + "</p></details>" if folded else "")
            + "</div>")
    return "".join(items)


def _deterrence(page: Page, ctx: Context, estimates: pd.DataFrame | None) -> None:
    w = ctx.w(TEXT)
    page.h2(w("deterrence"), "deterrence")
    if estimates is None:
        page.empty(w("not_estimated"))
        return
    rows = estimates[estimates["question"] == "deterrence"]
    mine = rows[rows["mission_id"] == ctx.mission_id]
    if mine.empty:
        page.empty(w("not_estimated_mission"))
        if rows.empty:
            return
    head = mine if not mine.empty else rows
    first = head.iloc[0]
    if not mine.empty:
        page.finding(_headline_clause(_sentence(ctx, first, "sentence")))
    rows = rows[rows["estimate"].notna()]
    if not rows.empty:
        page.figure(_forest(ctx, rows))
    page.note(w("deterrence_note"))
    page.html(_estimate_items(ctx, pd.concat([mine, rows[rows["mission_id"] == "ALL"]]),
                              caveat_shown=True))


def _forest(ctx: Context, rows: pd.DataFrame) -> go.Figure:
    w = ctx.w(TEXT)
    labels, xs, lows, highs, colours, symbols, hover = [], [], [], [], [], [], []
    for _, row in rows.iloc[::-1].iterrows():
        key = f"estimand_{row['estimand']}"
        estimand = w(key) if key in TEXT[ctx.lang] else str(row["estimand"])
        scope = w("all_missions") if row["mission_id"] == "ALL" else w("this_mission")
        labels.append(esc(f"{estimand} — {scope}"))
        xs.append(row["estimate"])
        lows.append(row["estimate"] - row["ci_low"] if not is_missing(row["ci_low"]) else None)
        highs.append(row["ci_high"] - row["estimate"]
                     if not is_missing(row["ci_high"]) else None)
        clear = bool(row["detectable"]) if not is_missing(row["detectable"]) else False
        colours.append(OKABE_ITO["blue"] if clear else GREY)
        symbols.append("diamond" if clear else "diamond-open")
        ci = (f"{number(row['ci_low'], 2, ctx.lang)} – {number(row['ci_high'], 2, ctx.lang)}"
              if not is_missing(row["ci_low"]) else "")
        hover.append("<br>".join([
            f"<b>{labels[-1]}</b>", esc(f"{number(row['estimate'], 2, ctx.lang)} "
                                        f"({w('ci')} {ci})"),
            esc(w("clear") if clear else w("unclear"))]))
    fig = go.Figure(go.Scatter(
        x=xs, y=labels, mode="markers+text", hovertext=hover, showlegend=False,
        hovertemplate="%{hovertext}<extra></extra>",
        text=[esc(number(x, 2, ctx.lang)) for x in xs], textposition="top center",
        error_x={"type": "data", "symmetric": False, "array": highs, "arrayminus": lows,
                 "thickness": 2, "width": 6, "color": INK_GREY},
        marker={"size": 13, "color": colours, "symbol": symbols,
                "line": {"width": 2, "color": colours}},
    ))
    null = rows["null_value"].dropna()
    fig.add_vline(x=float(null.iloc[0]) if not null.empty else 1.0, line_dash="dash",
                  line_color=GREY)
    fig.update_xaxes(type="log", title_text=esc(w("rate_ratio_axis")))
    style(fig, ctx.lang, height=120 + 60 * len(labels))
    return fig


INK_GREY = "#444444"


def _response(page: Page, ctx: Context, monthly: pd.DataFrame, quarterly: pd.DataFrame,
              estimates: pd.DataFrame | None) -> None:
    w = ctx.w(TEXT)
    page.h2(w("response"), "response")
    codes = [c for c in RESPONSE_CODES if c in ctx.catalogue.index]
    rows = {c: latest(quarterly, c) for c in codes}
    head = next((c for c in codes if rows[c] is not None), None)
    if head is None:
        page.empty(w("response_none"))
    else:
        row = rows[head]
        page.finding(_status_finding(ctx, "response_finding", head, row))
        fig = make_subplots(rows=1, cols=len(codes), horizontal_spacing=0.1,
                            subplot_titles=[wrap(ctx.name(c), 60) for c in codes])
        for i, code in enumerate(codes, start=1):
            sub = monthly[monthly["indicator_code"] == code]
            for trace in trend_traces(ctx, code, sub, colour=NEUTRAL, legend=(i == 1),
                                      name=w("mission")):
                fig.add_trace(trace, row=1, col=i)
            percent_axis(fig, ctx, ctx.unit(code), row=1, col=i)
        fig.update_xaxes(tickangle=0, dtick=max(1, math.ceil(
            monthly["period_label"].nunique() / 6)))
        style(fig, ctx.lang, height=390, top=80)
        page.figure(fig)
        page.note(w("response_note"))
    if estimates is not None:
        mine = estimates[(estimates["question"] == "response")
                         & (estimates["mission_id"] == ctx.mission_id)]
        page.html(_estimate_items(ctx, mine))


def _status_finding(ctx: Context, key: str, code: str, row: pd.Series) -> str:
    w = ctx.w(TEXT)
    target = ""
    if not row["suppressed"] and not is_missing(row["target"]):
        target = f" ({w('target_word')} {fmt_value(row['target'], ctx.unit(code), ctx.lang)})"
    return w(key, name=ctx.name(code), period=_period(ctx, row),
             value=value_text(ctx, code, row), ci=ci_text(ctx, code, row),
             status=row_status(row, ctx.lang),
             target=target)


def _perception(page: Page, ctx: Context, monthly: pd.DataFrame, quarterly: pd.DataFrame,
                estimates: pd.DataFrame | None) -> None:
    w = ctx.w(TEXT)
    page.h2(w("perception"), "perception")
    codes = [c for c in ctx.codes(families=(PERCEPTION_FAMILY,))
             if ctx.unit(c) == "percent"]
    shown = monthly[monthly["indicator_code"].isin(codes) & monthly["value"].notna()]
    if shown.empty:
        page.empty(w("perception_none"))
    else:
        head = next(c for c in codes if c in set(shown["indicator_code"]))
        row = latest(quarterly, head)
        if row is not None:
            page.finding(_status_finding(ctx, "perception_finding", head, row))
        fig = go.Figure()
        for i, code in enumerate(c for c in codes if c in set(shown["indicator_code"])):
            sub = monthly[(monthly["indicator_code"] == code) & monthly["value"].notna()]
            for trace in trend_traces(ctx, code, sub, colour=COLORWAY[i % len(COLORWAY)],
                                      ci=True, show_target=False):
                trace.update(mode="markers+lines", line_dash=["solid", "dot", "dash",
                                                              "dashdot"][i % 4])
                fig.add_trace(trace)
        percent_axis(fig, ctx, "percent")
        fig.update_yaxes(range=[0, 100])
        style(fig, ctx.lang, height=380)
        page.figure(fig)
        page.note(w("perception_note"))
    if estimates is not None:
        mine = estimates[(estimates["question"] == "perception")
                         & (estimates["mission_id"] == ctx.mission_id)]
        page.html(_estimate_items(ctx, mine))


# --- map ------------------------------------------------------------------------------------

MAP_HEIGHT, MAP_TOP = 580, 50
MAP_MEASURES = (  # (words key, indicator)
    ("map_feels_safe", "PER_FEELS_SAFE"),
    ("map_victims", "DET_VICTIMS"),
    ("map_patrols", "PAT_COUNT"),
)


def _site_values(ctx: Context, code: str) -> tuple[pd.DataFrame, str | None]:
    """Site-level values of the latest quarter (up to the data's) with any published value."""
    rows = data.values(ctx.con, ctx.mission_id, codes=[code], levels=["site"],
                       period_types=["quarter"])
    rows = rows[rows["period_label"] <= ctx.as_of.quarter]
    has = rows[rows["value"].notna()]
    if has.empty:
        return rows.iloc[0:0], None
    label = has["period_label"].max()
    return rows[rows["period_label"] == label], label


def _map(page: Page, ctx: Context) -> None:
    w = ctx.w(TEXT)
    page.h2(w("map"), "map")
    all_sites = data.sites(ctx.con, ctx.mission_id)
    sites = all_sites[all_sites["latitude"].notna() & all_sites["longitude"].notna()]
    if all_sites.empty:
        page.empty(w("no_data"))
        return
    measures = []
    for key, code in MAP_MEASURES:
        if code not in ctx.catalogue.index:
            continue
        rows, label = _site_values(ctx, code)
        if label is not None:
            measures.append((key, code, rows.set_index("org_unit_id"), label))
    safe = next((m for m in measures if m[1] == "PER_FEELS_SAFE"), None)
    if safe is not None:
        shown = safe[2][safe[2]["value"].notna()].sort_values("value").head(3)
        names = sites.set_index("site_id")["site_name"]
        lowest = [f"{names.get(i, i)} ({fmt_value(v, 'percent', ctx.lang)})"
                  for i, v in zip(shown.index, shown["value"], strict=True)]
        page.finding(w("map_finding_safe", sites=", ".join(lowest),
                       period=period_name("quarter", safe[3], ctx.lang)))
    else:
        page.finding(w("map_finding", n=len(sites), k=sites["sector_id"].nunique()))
    if not sites.empty:
        page.figure(_map_figure(ctx, sites, measures))
        page.note(w("map_note"))
        page.note(w("map_disclaimer"))
    _site_table(page, ctx, all_sites, measures)


def _site_table(page: Page, ctx: Context, sites: pd.DataFrame, measures: list) -> None:
    """The map's numbers as a table (readable without the map, and by screen readers)."""
    w = ctx.w(TEXT)
    page.html(f"<h3>{esc(w('site_table'))}</h3>")
    header = [w("site"), w("sector"), w("site_type")] + [
        f"{w(key)} ({period_name('quarter', label, ctx.lang)})"
        for key, _, _, label in measures]
    body = []
    for site in sites.itertuples():
        cells = [esc(site.site_name), esc(site.sector_name), esc(site.site_type)]
        for _, code, rows, _ in measures:
            if site.site_id not in rows.index:
                cells.append(esc(w("no_data")))
            else:
                cells.append(esc(value_text(ctx, code, rows.loc[site.site_id])))
        body.append(cells)
    page.table(header, body, numeric=set(range(3, 3 + len(measures))))


def _map_figure(ctx: Context, sites: pd.DataFrame, measures: list) -> go.Figure:
    w = ctx.w(TEXT)
    fig = go.Figure()
    base_hover = [f"<b>{esc(n)}</b><br>{esc(s)} · {esc(t)}" for n, s, t in
                  zip(sites["site_name"], sites["sector_name"].fillna(""),
                      sites["site_type"].fillna(""), strict=True)]
    buttons = []
    if not measures:
        fig.add_trace(go.Scattergeo(
            lon=sites["longitude"], lat=sites["latitude"], mode="markers",
            hovertext=base_hover, hovertemplate="%{hovertext}<extra></extra>",
            marker={"size": 10, "color": OKABE_ITO["blue"]}, showlegend=False))
    for i, (key, code, rows, label) in enumerate(measures):
        unit = ctx.unit(code)
        values = [rows["value"].get(s) if s in rows.index else None for s in sites["site_id"]]
        has = [not is_missing(v) for v in values]
        period = period_name("quarter", label, ctx.lang)
        hover = []
        for h, site_id, v in zip(base_hover, sites["site_id"], values, strict=True):
            if not is_missing(v):
                text = fmt_value(v, unit, ctx.lang)
            elif site_id in rows.index and bool(rows.at[site_id, "suppressed"]):
                text = w("suppressed")
            else:
                text = w("no_data")
            hover.append(f"{h}<br>{esc(ctx.name(code))}, {esc(period)}: {esc(text)}")
        visible = i == 0
        pick = [j for j, ok in enumerate(has) if ok]
        fig.add_trace(go.Scattergeo(
            lon=sites["longitude"].iloc[pick], lat=sites["latitude"].iloc[pick],
            mode="markers", visible=visible, name=esc(w(key)), showlegend=False,
            hovertext=[hover[j] for j in pick], hovertemplate="%{hovertext}<extra></extra>",
            marker={"size": 13, "color": [values[j] * scale(unit) for j in pick],
                    "colorscale": SEQUENTIAL, "line": {"width": 1, "color": "#333"},
                    "colorbar": {"title": {"text": f"{esc(w(key))}<br>{esc(period)}"},
                                 "ticksuffix": "%" if unit == "percent" else "",
                                 "len": 0.8}},
        ))
        rest = [j for j, ok in enumerate(has) if not ok]
        fig.add_trace(go.Scattergeo(
            lon=sites["longitude"].iloc[rest], lat=sites["latitude"].iloc[rest],
            mode="markers", visible=visible, name=esc(w("map_none")), showlegend=visible,
            hovertext=[hover[j] for j in rest], hovertemplate="%{hovertext}<extra></extra>",
            marker={"size": 11, "symbol": "circle-open", "color": GREY,
                    "line": {"width": 2}},
        ))
        buttons.append({"label": esc(w(key)), "method": "update", "args": [
            {"visible": [k // 2 == i for k in range(2 * len(measures))],
             "showlegend": [k == 2 * i + 1 for k in range(2 * len(measures))]}]})
    lat_range, lon_range = _bounds(sites["latitude"], sites["longitude"])
    zooms = [{"label": esc(w("all_sectors")), "method": "relayout",
              "args": [{"geo.lataxis.range": lat_range, "geo.lonaxis.range": lon_range}]}]
    for sector_id, group in sites.groupby("sector_id", sort=True):
        name = group["sector_name"].iloc[0] if group["sector_name"].notna().any() else sector_id
        la, lo = _bounds(group["latitude"], group["longitude"], pad=0.6)
        zooms.append({"label": esc(name), "method": "relayout",
                      "args": [{"geo.lataxis.range": la, "geo.lonaxis.range": lo}]})
    top = paper_y(MAP_HEIGHT, MAP_TOP, 6, bottom=10)
    menus = [{"buttons": zooms, "direction": "down", "x": 0.0, "y": top, "xanchor": "left",
              "yanchor": "top", "showactive": True}]
    if buttons:
        menus.insert(0, {"buttons": buttons, "direction": "down", "x": 0.3, "y": top,
                         "xanchor": "left", "yanchor": "top", "showactive": True})
    fig.update_layout(updatemenus=menus, legend={"y": -0.02, "yanchor": "top"})
    fig.update_geos(
        scope="world", resolution=110, projection_type="mercator",
        lataxis_range=lat_range, lonaxis_range=lon_range, showcountries=True,
        countrycolor="#888888", showland=True, landcolor="#F4F1EA", showocean=True,
        oceancolor="#DCEBF5", showlakes=True, lakecolor="#DCEBF5", showrivers=True,
        rivercolor="#A9CBE6", showcoastlines=True, coastlinecolor="#888888",
        showframe=True, framecolor="#BBBBBB")
    style(fig, ctx.lang, height=MAP_HEIGHT)
    fig.update_layout(margin={"t": MAP_TOP, "b": 10})
    return fig


def _bounds(lat: pd.Series, lon: pd.Series, pad: float = 1.5) -> tuple[list, list]:
    """Latitude and longitude ranges around points, padded, at least 2 degrees wide."""
    la0, la1 = float(lat.min()) - pad, float(lat.max()) + pad
    lo0, lo1 = float(lon.min()) - pad, float(lon.max()) + pad
    if la1 - la0 < 2:
        mid = (la0 + la1) / 2
        la0, la1 = mid - 1, mid + 1
    if lo1 - lo0 < 2:
        mid = (lo0 + lo1) / 2
        lo0, lo1 = mid - 1, mid + 1
    return [la0, la1], [lo0, lo1]


# --- sectors --------------------------------------------------------------------------------


def _sectors(page: Page, ctx: Context, outcomes: list[str]) -> None:
    w = ctx.w(TEXT)
    page.h2(w("sectors"), "sectors")
    sectors = data.sectors(ctx.con, ctx.mission_id)
    if sectors.empty:
        page.empty(w("no_data"))
        return
    quarterly = data.values(ctx.con, ctx.mission_id, codes=outcomes, levels=["sector"],
                            period_types=["quarter"])
    quarterly = quarterly[quarterly["period_label"] == ctx.as_of.quarter]
    codes = [c for c in outcomes if c in set(quarterly["indicator_code"])]
    period = period_name("quarter", ctx.as_of.quarter, ctx.lang)
    off = {s: int(((quarterly["org_unit_id"] == s) & (quarterly["status"] == "off_track")
                   ).sum()) for s in sectors["sector_id"]}
    rated = {s: int(((quarterly["org_unit_id"] == s) & quarterly["status"].notna()).sum())
             for s in sectors["sector_id"]}
    names = dict(zip(sectors["sector_id"], sectors["sector_name"].fillna(sectors["sector_id"]),
                     strict=True))
    worst = max(off, key=lambda s: (off[s], -list(off).index(s))) if off else None
    if worst is not None and off[worst] > 0:
        page.finding(w("sector_finding_off", period=period, sector=names[worst],
                       k=off[worst], n=rated[worst]))
    elif any(rated.values()):
        page.finding(w("sector_finding_none", period=period))
    else:
        page.finding(_spread_finding(ctx, quarterly, codes, names, period))
    # the matrix: indicators down, sectors across
    header = [w("indicator")] + [names[s] for s in sectors["sector_id"]]
    body = []
    for code in codes:
        cells = [esc(ctx.name(code))]
        for sector_id in sectors["sector_id"]:
            hit = quarterly[(quarterly["indicator_code"] == code)
                            & (quarterly["org_unit_id"] == sector_id)]
            if hit.empty:
                cells.append(esc(w("no_data")))
                continue
            row = hit.iloc[0]
            value = value_text(ctx, code, row)
            badge = row_badge(row, ctx.lang) \
                if row["status"] is not None or row["suppressed"] else ""
            cells.append(f"{esc(value)}<br>{badge}" if badge and not row["suppressed"]
                         else (badge or esc(value)))
        body.append(cells)
    if body:
        page.table(header, body)
    _sector_trends(page, ctx, codes, sectors, names)
    page.note(w("sector_note"))


def _spread_finding(ctx: Context, quarterly: pd.DataFrame, codes: list[str],
                    names: dict[str, str], period: str) -> str:
    """Without sector targets: where the first well-published outcome is worst and best."""
    w = ctx.w(TEXT)
    for code in codes:
        rows = quarterly[(quarterly["indicator_code"] == code) & quarterly["value"].notna()]
        if len(rows) < max(2, len(names) - 1) or rows["value"].nunique() < 2:
            continue
        rows = rows.sort_values("value", ascending=ctx.direction(code) == "up")
        worst, best = rows.iloc[0], rows.iloc[-1]
        return w("sector_finding_spread", name=ctx.name(code), period=period,
                 worst=names.get(worst["org_unit_id"], worst["org_unit_id"]),
                 best=names.get(best["org_unit_id"], best["org_unit_id"]),
                 worst_value=value_text(ctx, code, worst),
                 best_value=value_text(ctx, code, best))
    return w("sector_finding_none", period=period)


def _sector_trends(page: Page, ctx: Context, codes: list[str], sectors: pd.DataFrame,
                   names: dict[str, str]) -> None:
    """Monthly trends of a few outcomes, one sector at a time (buttons), the mission beside."""
    w = ctx.w(TEXT)
    monthly = data.values(ctx.con, ctx.mission_id, codes=codes, levels=["sector", "mission"],
                          period_types=["month"])
    monthly = monthly[monthly["period_label"] <= ctx.as_of.month]
    # the outcomes best published by sector and month, in catalogue order
    published = {c: int(((monthly["indicator_code"] == c) & (monthly["level"] == "sector")
                         & monthly["value"].notna()).sum()) for c in codes}
    targeted = set(monthly.loc[(monthly["level"] == "mission") & monthly["target"].notna(),
                               "indicator_code"])
    best = sorted((c for c in codes if published[c] > 0),
                  key=lambda c: (c not in targeted, -published[c]))
    panels = [c for c in codes if c in best[:SECTOR_PANELS]]
    if not panels:
        return
    cols = 2 if len(panels) > 1 else 1
    nrows = math.ceil(len(panels) / cols)
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=[wrap(ctx.name(c), 55)
                                                               for c in panels],
                        vertical_spacing=0.2, horizontal_spacing=0.08)
    owners: list[str | None] = []  # sector of each trace (None: always shown)
    sector_ids = list(sectors["sector_id"])
    for i, code in enumerate(panels):
        r, c = i // cols + 1, i % cols + 1
        mission_rows = monthly[(monthly["indicator_code"] == code)
                               & (monthly["level"] == "mission")]
        for trace in trend_traces(ctx, code, mission_rows, colour=GREY, dash="dash",
                                  show_target=False, legend=(i == 0), name=w("mission"),
                                  legendgroup="mission", status_markers=False):
            fig.add_trace(trace, row=r, col=c)
            owners.append(None)
        for sector_id in sector_ids:
            rows = monthly[(monthly["indicator_code"] == code)
                           & (monthly["level"] == "sector")
                           & (monthly["org_unit_id"] == sector_id)]
            if rows.empty:
                continue
            for trace in trend_traces(ctx, code, rows, colour=COLORWAY[0], legend=(i == 0),
                                      name=names[sector_id], who=names[sector_id],
                                      legendgroup=f"sector-{sector_id}",
                                      legend_extras=False):
                trace.visible = sector_id == sector_ids[0]
                fig.add_trace(trace, row=r, col=c)
                owners.append(sector_id)
        percent_axis(fig, ctx, ctx.unit(code), row=r, col=c)
    buttons = [{"label": esc(names[s]), "method": "update",
                "args": [{"visible": [o is None or o == s for o in owners]}]}
               for s in sector_ids]
    height = 300 * nrows + 140
    fig.update_layout(updatemenus=[{"type": "buttons", "direction": "right", "buttons": buttons,
                                    "x": 0.0, "y": paper_y(height, 120, 36),
                                    "xanchor": "left", "yanchor": "top", "showactive": True,
                                    "pad": {"t": 0, "b": 0}}])
    fig.update_xaxes(tickangle=0, dtick=max(1, math.ceil(
        monthly["period_label"].nunique() / 6)))
    style(fig, ctx.lang, height=height, top=120)
    page.figure(fig)

