"""Police strength and civilian deaths, per mission, from public data.

For mission leadership and POC advisers, in the mission's language: UN police (individual
officers and formed units) and troops by month from the UN personnel table, against civilians
killed in one-sided violence from UCDP GED; the mission-month estimate (rate ratio per 100
police in the previous month) with its confidence interval and caveats; and the faults found in
the public files. Built only for missions with a row in ``marts.fct_mission_months``. Reads
published marts only (see dashboards/data.py); GED counts are public event data, at mission and
month level here, and no coordinate reaches this page.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards import data
from dashboards.context import DASHBOARDS, Context, file_name, footer
from dashboards.page import Page
from dashboards.theme import GREY, OKABE_ITO, esc, month_label, number, style

DASHBOARD = "civilians"
TEXT = {
    "en": {
        "subtitle": "Public data: UN personnel {p_first} to {p_last}; UCDP GED {g_first} to "
                    "{g_last}.",
        "no_ged": "no UCDP GED data loaded",
        "strength": "UN police and civilians killed, by month",
        "finding": "{first} to {last}: on average {police} UN police a month (individual "
                   "officers and formed units); {deaths} civilians killed in one-sided "
                   "violence in {country} (UCDP GED)",
        "finding_no_ged": "{first} to {last}: on average {police} UN police a month "
                          "(individual officers and formed units); no UCDP GED data for these "
                          "months",
        "police": "UN police (individual and formed units)",
        "ipo": "Individual police officers", "fpu": "Formed police units",
        "deaths": "Civilians killed in one-sided violence (UCDP GED)",
        "police_axis": "UN police", "deaths_axis": "Civilians killed",
        "missing_month": "Month missing from the personnel table",
        "troops": "Troops", "troops_axis": "UN troops",
        "troops_title": "UN troops by month",
        "strength_note": "Strength is the UN personnel table's count for the month (all "
                         "contributing countries). A month missing from the table is a gap, "
                         "never filled in; bars are absent where GED does not cover the month.",
        "estimate": "Is police strength associated with fewer civilian deaths?",
        "estimate_none": "Not estimated yet for this mission.",
        "this_mission": "This mission", "all_missions": "All missions pooled",
        "irr_axis": "Rate ratio per 100 personnel a month earlier (1 = no association; log "
                    "scale)",
        "estimand_police": "Per 100 UN police", "estimand_troops": "Per 100 troops",
        "estimand_police_other": "Per 100 UN police ({family})",
        "limits": "Limits and method", "method": "Method:",
        "clear": "95% CI excludes 1", "unclear": "95% CI includes 1 (no detectable association)",
        "faults": "Faults found in the public files",
        "faults_finding": "{n} fault(s) found and reported, none corrected",
        "faults_none": "No fault found in the public files.",
        "source": "Source", "rule": "Rule", "findings": "Findings",
        "gaps": "Months missing from this mission's personnel series: {months}.",
        "about": "About these figures",
        "note_sources": "Sources: UCDP Georeferenced Event Dataset (GED), ucdp.uu.se; UN "
                        "peacekeeping uniformed personnel contributions, psdata.un.org and "
                        "peacekeeping.un.org. Both are public; pocmon shows them by mission and "
                        "month only.",
        "note_location": "Events are counted for the mission's country. pocmon places a GED "
                         "event at a site only when GED locates it within about 25 km "
                         "(where_prec 1-2), and never publishes its coordinates.",
        "note_cause": "The estimate is an association, not proof that police prevent "
                      "killings: the UN deploys where violence is expected or has happened.",
    },
    "fr": {
        "subtitle": "Données publiques : personnel de l'ONU de {p_first} à {p_last} ; UCDP "
                    "GED de {g_first} à {g_last}.",
        "no_ged": "aucune donnée UCDP GED chargée",
        "strength": "Police des Nations Unies et civils tués, par mois",
        "finding": "De {first} à {last} : {police} policiers des Nations Unies par mois en "
                   "moyenne (agents individuels et unités constituées) ; {deaths} civils tués "
                   "dans des violences unilatérales dans le pays ({country}, UCDP GED)",
        "finding_no_ged": "De {first} à {last} : {police} policiers des Nations Unies par mois "
                          "en moyenne (agents individuels et unités constituées) ; pas de "
                          "données UCDP GED pour ces mois",
        "police": "Police des Nations Unies (agents individuels et unités)",
        "ipo": "Policiers individuels", "fpu": "Unités de police constituées",
        "deaths": "Civils tués dans des violences unilatérales (UCDP GED)",
        "police_axis": "Police des Nations Unies", "deaths_axis": "Civils tués",
        "missing_month": "Mois absent du tableau des effectifs",
        "troops": "Militaires", "troops_axis": "Militaires des Nations Unies",
        "troops_title": "Militaires des Nations Unies par mois",
        "strength_note": "Les effectifs sont ceux du tableau du personnel de l'ONU pour le mois "
                         "(tous pays contributeurs). Un mois absent du tableau reste un vide, "
                         "jamais comblé ; pas de barre là où le GED ne couvre pas le mois.",
        "estimate": "Les effectifs de police sont-ils associés à moins de victimes civiles ?",
        "estimate_none": "Pas encore estimé pour cette mission.",
        "this_mission": "Cette mission", "all_missions": "Toutes missions confondues",
        "irr_axis": "Rapport des taux pour 100 personnels le mois précédent (1 = aucune "
                    "association ; échelle log)",
        "estimand_police": "Pour 100 policiers", "estimand_troops": "Pour 100 militaires",
        "estimand_police_other": "Pour 100 policiers ({family})",
        "limits": "Limites et méthode", "method": "Méthode (en anglais) :",
        "clear": "l'IC à 95 % exclut 1",
        "unclear": "l'IC à 95 % inclut 1 (aucune association détectable)",
        "faults": "Anomalies trouvées dans les fichiers publics",
        "faults_finding": "{n} anomalie(s) trouvée(s) et signalée(s), aucune corrigée",
        "faults_none": "Aucune anomalie trouvée dans les fichiers publics.",
        "source": "Source", "rule": "Règle", "findings": "Constats",
        "gaps": "Mois absents de la série des effectifs de cette mission : {months}.",
        "about": "À propos de ces chiffres",
        "note_sources": "Sources : UCDP Georeferenced Event Dataset (GED), ucdp.uu.se ; "
                        "contributions en personnel en tenue aux opérations de maintien de la "
                        "paix, psdata.un.org et peacekeeping.un.org. Les deux sont publiques ; "
                        "pocmon ne les montre que par mission et par mois.",
        "note_location": "Les événements sont comptés pour le pays de la mission. pocmon ne "
                         "rattache un événement du GED à un site que si le GED le situe à "
                         "25 km près (where_prec 1-2), et n'en publie jamais les coordonnées.",
        "note_cause": "L'estimation est une association, pas la preuve que la police prévient "
                      "les tueries : l'ONU se déploie là où la violence est attendue ou a eu "
                      "lieu.",
    },
}
FAMILY = {"poisson": "Poisson", "negbin": "binomiale négative"}


def _num(value: object) -> float | None:
    """A number for a chart, None where missing (NaN, None or pandas' NA)."""
    return None if pd.isna(value) else float(value)


def _month(value: object, lang: str) -> str:
    return month_label(pd.Timestamp(value).strftime("%Y-%m"), lang)


def _span(frame: pd.DataFrame, lang: str) -> tuple[str, str]:
    if frame.empty:
        return "", ""
    return _month(frame["month_start"].min(), lang), _month(frame["month_start"].max(), lang)


def _page(ctx: Context, months: pd.DataFrame) -> Page:
    w = ctx.w(TEXT)
    p_first, p_last = _span(months[months["strength_reported"]], ctx.lang)
    g_first, g_last = _span(months[months["ged_covered"]], ctx.lang)
    subtitle = w("subtitle", p_first=p_first, p_last=p_last, g_first=g_first or w("no_ged"),
                 g_last=g_last or w("no_ged"))
    if not g_first:
        subtitle = subtitle.split(";")[0] + "."
    nav = [("index.html", w("index"))] + [(file_name(d, ctx.mission_id), w(d))
                                          for d in DASHBOARDS]
    return Page(title=f"{w(DASHBOARD)} — {ctx.mission.name}", lang=ctx.lang,
                name=f"{DASHBOARD}_{ctx.mission_id}", subtitle=subtitle, nav=nav)


def build_civilians(ctx: Context) -> Page:
    months = data.mission_months(ctx.con, ctx.mission_id)
    page = _page(ctx, months)
    _strength(page, ctx, months)
    _estimate(page, ctx, data.impact_estimates(ctx.con, ctx.mission_id))
    _faults(page, ctx, data.public_findings(ctx.con, ctx.mission_id))
    w = ctx.w(TEXT)
    page.h2(w("about"), "about")
    page.html('<ul class="note">' + "".join(
        f"<li>{esc(w(k))}</li>" for k in ("note_sources", "note_location", "note_cause"))
        + "</ul>")
    return page


def render(ctx: Context) -> str:
    return build_civilians(ctx).render(footer(ctx))


def _strength(page: Page, ctx: Context, months: pd.DataFrame) -> None:
    w = ctx.w(TEXT)
    page.h2(w("strength"), "strength")
    reported = months[months["strength_reported"]]
    first, last = _span(months, ctx.lang)
    covered = months[months["ged_covered"]]
    police = number(float(reported["police"].mean()), 0, ctx.lang) if not reported.empty \
        else "0"
    if covered.empty:
        page.finding(w("finding_no_ged", first=first, last=last, police=police))
    else:
        deaths = number(float(covered["one_sided_civilian_deaths"].sum()), 0, ctx.lang)
        page.finding(w("finding", first=first, last=last, police=police, deaths=deaths,
                       country=ctx.mission.country or ctx.mission_id))
    page.figure(_strength_chart(ctx, months), height=420)
    if months["troops"].notna().any():
        page.figure(_troops_chart(ctx, months), height=300)
    page.note(w("strength_note"))


def _labels(ctx: Context, months: pd.DataFrame) -> list[str]:
    return [_month(m, ctx.lang) for m in months["month_start"]]


def _strength_chart(ctx: Context, months: pd.DataFrame) -> go.Figure:
    w = ctx.w(TEXT)
    xs = _labels(ctx, months)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    covered = months["ged_covered"].to_numpy()
    deaths = [_num(d) if c else None
              for d, c in zip(months["one_sided_civilian_deaths"], covered, strict=True)]
    fig.add_trace(go.Bar(
        x=xs, y=deaths, name=esc(w("deaths")), marker_color=OKABE_ITO["vermillion"],
        opacity=0.55, hovertemplate="%{x}: %{y:,.0f}<extra>" + esc(w("deaths_axis"))
        + "</extra>"), secondary_y=True)
    for column, key, colour, width in (
            ("police", "police", OKABE_ITO["blue"], 3),
            ("formed_police", "fpu", OKABE_ITO["sky_blue"], 1.5),
            ("individual_police", "ipo", OKABE_ITO["reddish_purple"], 1.5)):
        fig.add_trace(go.Scatter(
            x=xs, y=[_num(v) for v in months[column]], name=esc(w(key)), mode="lines+markers",
            connectgaps=False, line={"color": colour, "width": width}, marker={"size": 4},
            hovertemplate="%{x}: %{y:,.0f}<extra>" + esc(w(key)) + "</extra>"),
            secondary_y=False)
    gaps = months[~months["strength_reported"]]
    if not gaps.empty:
        fig.add_trace(go.Scatter(
            x=_labels(ctx, gaps), y=[0] * len(gaps), mode="markers", name=esc(w("missing_month")),
            marker={"symbol": "x", "size": 10, "color": GREY}, cliponaxis=False,
            hovertemplate="%{x}<extra>" + esc(w("missing_month")) + "</extra>"),
            secondary_y=False)
    fig.update_yaxes(title_text=esc(w("police_axis")), rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title_text=esc(w("deaths_axis")), rangemode="tozero", showgrid=False,
                     tickformat=",.0f", secondary_y=True)
    fig.update_xaxes(type="category", nticks=12)
    style(fig, ctx.lang, height=420, top=70)
    return fig


def _troops_chart(ctx: Context, months: pd.DataFrame) -> go.Figure:
    w = ctx.w(TEXT)
    ys = [_num(v) for v in months["troops"]]
    fig = go.Figure(go.Scatter(
        x=_labels(ctx, months), y=ys, name=esc(w("troops")), mode="lines+markers",
        connectgaps=False, line={"color": OKABE_ITO["bluish_green"], "width": 2},
        marker={"size": 4}, hovertemplate="%{x}: %{y:,.0f}<extra>" + esc(w("troops"))
        + "</extra>"))
    fig.update_yaxes(title_text=esc(w("troops_axis")), rangemode="tozero")
    fig.update_xaxes(type="category", nticks=12)
    fig.update_layout(title={"text": esc(w("troops_title")), "x": 0})
    style(fig, ctx.lang, height=300)
    return fig


def _estimand_label(ctx: Context, estimand: str) -> str:
    w = ctx.w(TEXT)
    if estimand.startswith("troops_"):
        return w("estimand_troops")
    for family in FAMILY:
        if estimand.endswith(f"_{family}"):
            name = family.capitalize() if ctx.lang == "en" or family == "poisson" \
                else FAMILY[family]
            return w("estimand_police_other", family="negative binomial"
                     if family == "negbin" and ctx.lang == "en" else name)
    return w("estimand_police")


def _estimate(page: Page, ctx: Context, estimates: pd.DataFrame | None) -> None:
    w = ctx.w(TEXT)
    page.h2(w("estimate"), "estimate")
    rows = None if estimates is None else estimates[estimates["question"] == "police_strength"]
    if rows is None or rows.empty:
        page.empty(w("estimate_none"))
        return
    order = {"ALL": 1, ctx.mission_id: 0}
    rows = rows.assign(_order=rows["mission_id"].map(order)).sort_values(
        ["_order", "estimand"]).drop(columns="_order")
    main = rows[(rows["mission_id"] == ctx.mission_id)
                & rows["estimand"].str.match(r"police_irr_per_\d+$")]
    if not main.empty and isinstance(main.iloc[0][f"sentence_{ctx.lang}"], str):
        # the sentence without its statistics (its last parenthesis)
        page.finding(main.iloc[0][f"sentence_{ctx.lang}"].rsplit(" (", 1)[0].rstrip(" ."))
    fitted = rows[rows["estimate"].notna()]
    if not fitted.empty:
        page.figure(_forest(ctx, fitted))
    items = []
    for _, row in rows.iterrows():
        scope = w("all_missions") if row["mission_id"] == "ALL" else w("this_mission")
        label = _estimand_label(ctx, str(row["estimand"]))
        caveat = row.get(f"caveat_{ctx.lang}")
        method = row.get("method")
        folded = "".join(f'<p class="muted">{esc(text)}</p>' for text in (
            caveat if isinstance(caveat, str) else "",
            f"{w('method')} {method}" if isinstance(method, str) else "") if text)
        items.append(f'<div class="estimate"><b>{esc(scope)} — {esc(label)}.</b> '
                     f'{esc(row.get(f"sentence_{ctx.lang}") or "")}'
                     + (f"<details><summary>{esc(w('limits'))}</summary>{folded}</details>"
                        if folded else "") + "</div>")
    page.html("".join(items))


def _forest(ctx: Context, rows: pd.DataFrame) -> go.Figure:
    w = ctx.w(TEXT)
    labels, xs, lows, highs, colours, symbols, hover = [], [], [], [], [], [], []
    for _, row in rows.iloc[::-1].iterrows():
        scope = w("all_missions") if row["mission_id"] == "ALL" else w("this_mission")
        labels.append(esc(f"{_estimand_label(ctx, str(row['estimand']))} — {scope}"))
        xs.append(float(row["estimate"]))
        lows.append(float(row["estimate"] - row["ci_low"]))
        highs.append(float(row["ci_high"] - row["estimate"]))
        clear = bool(row["detectable"]) if pd.notna(row["detectable"]) else False
        colours.append(OKABE_ITO["blue"] if clear else GREY)
        symbols.append("diamond" if clear else "diamond-open")
        hover.append("<br>".join([
            f"<b>{labels[-1]}</b>",
            esc(f"{number(row['estimate'], 3, ctx.lang)} ({number(row['ci_low'], 3, ctx.lang)}"
                f" – {number(row['ci_high'], 3, ctx.lang)})"),
            esc(w("clear") if clear else w("unclear"))]))
    fig = go.Figure(go.Scatter(
        x=xs, y=labels, mode="markers+text", hovertext=hover, showlegend=False,
        hovertemplate="%{hovertext}<extra></extra>", textposition="top center",
        text=[esc(number(x, 2, ctx.lang)) for x in xs],
        error_x={"type": "data", "symmetric": False, "array": highs, "arrayminus": lows,
                 "thickness": 2, "width": 6, "color": "#444444"},
        marker={"size": 13, "color": colours, "symbol": symbols,
                "line": {"width": 2, "color": colours}}))
    fig.add_vline(x=1.0, line_dash="dash", line_color=GREY)
    fig.update_xaxes(type="log", title_text=esc(w("irr_axis")))
    style(fig, ctx.lang, height=140 + 55 * len(labels))
    return fig


def _faults(page: Page, ctx: Context, findings: pd.DataFrame) -> None:
    w = ctx.w(TEXT)
    page.h2(w("faults"), "faults")
    if findings.empty:
        page.empty(w("faults_none"))
        return
    page.finding(w("faults_finding", n=number(len(findings), 0, ctx.lang)))
    counts = findings.groupby(["source_name", "rule"]).size().reset_index(name="n")
    page.table([w("source"), w("rule"), w("findings")],
               [[esc(r.source_name), esc(r.rule), esc(number(r.n, 0, ctx.lang))]
                for r in counts.itertuples(index=False)], numeric={2})
    gaps = findings[(findings["rule"] == "missing_month")
                    & (findings["mission_id"] == ctx.mission_id)]
    if not gaps.empty:
        months = ", ".join(_month(m, ctx.lang) for m in sorted(gaps["month_start"]))
        page.note(w("gaps", months=months))
