"""The planning officer's dashboard: what was delivered this week, where patrols went against
where civilians were harmed, and whether the data can be trusted.

Per mission in its language. Outputs come from the weekly rows of the published indicator
table; victims by site from its monthly rows (counts of people are published by month at the
finest); returns and quarantined rows from the data-quality marts (file-level facts, no
personal data).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards import data
from dashboards.charts import percent_axis, scale, trend_traces, value_text
from dashboards.context import Context, about, footer, new_page
from dashboards.page import Page
from dashboards.theme import (
    COLORWAY,
    GREY,
    LIGHT_GREY,
    NEUTRAL,
    OKABE_ITO,
    STATUS_COLOURS,
    esc,
    fmt_change,
    fmt_value,
    is_missing,
    period_name,
    row_badge,
    row_status,
    style,
)

TEXT = {
    "en": {
        "week": "This week against last",
        "week_finding": "{name}, {week}: {now}, {change} on the week before ({before})",
        "week_finding_flat": "{name}, {week}: {now}, as the week before",
        "this_week": "This week", "last_week": "Last week", "change": "Change",
        "week_note": "Mission totals of the operational outputs published by week. Change: "
                     "relative for counts and hours, in percentage points for shares.",
        "by_sector": "{name} by sector",
        "twelve_weeks": "{name} per week, last 12 weeks, by sector",
        "hotspots": "Patrols against harm to civilians, by site",
        "hotspot_finding": "{month}: {k} site(s) with many victims but few patrols: {sites}",
        "hotspot_none": "{month}: no site had both above-median victims and below-median "
                        "patrols",
        "hotspot_empty": "No published victim counts by site for {month} yet",
        "patrols_axis": "Patrols in the month", "victims_axis": "Civilian victims in the month",
        "under": "Many victims, few patrols", "other_sites": "Other sites",
        "median": "median",
        "hotspot_note": "Each point is a site, for the last complete month ({month}). Victim "
                        "counts are published by month at the finest, so this view is monthly. "
                        "Dashed lines: medians over the sites with a published count. {hidden}",
        "hidden": "Grey squares under the axis: {n} site(s) whose victim count is suppressed "
                  "({sites}), placed by their patrols only.",
        "victims_hidden": "Victims suppressed",
        "dose": "Hot spots that got regular patrols (three or more a week), by sector",
        "under_table": "Sites with many victims and few patrols",
        "quality": "Can the data be trusted?",
        "quality_finding": "{week}: {received} of expected returns received, {on_time} on "
                           "time{status}",
        "quality_none": "No reporting returns were expected by {week}",
        "returns_grid": "Weekly returns by source (last 12 weeks)",
        "on_time": "on time", "late": "late", "missing": "missing",
        "unexpected": "not expected",
        "returns_other": "Other returns (latest periods)",
        "source": "Source", "deadline": "Deadline", "received_at": "First received",
        "rows": "Rows read / loaded / quarantined",
        "quarantine": "Quarantined rows and why",
        "quarantine_finding": "{n} broken rule(s) in quarantined rows since the first file; "
                              "most often: {top}",
        "quarantine_finding_spread": "{n} broken rule(s) in quarantined rows since the first "
                                     "file, spread over {k} different rules and columns",
        "quarantine_none": "Nothing quarantined: every row of every file passed its contract",
        "broken_rules": "Broken rules", "files": "Files", "rule": "Rule", "column": "Column",
        "unknown_mission": "file whose mission could not be read",
        "rejected": "Files rejected whole: {files}.",
        "quality_note": "Completeness: share of expected returns (a file per source and "
                        "period) received; timeliness: share received by the deadline. A "
                        "quarantined row broke a rule of its source's contract and was not "
                        "loaded: fix it in the source file and drop the corrected file into "
                        "the inbox again. The quarantine report lists every row.",
        "week_axis": "Week",
    },
    "fr": {
        "week": "Cette semaine par rapport à la précédente",
        "week_finding": "{name}, {week} : {now}, {change} par rapport à la semaine précédente "
                        "({before})",
        "week_finding_flat": "{name}, {week} : {now}, comme la semaine précédente",
        "this_week": "Cette semaine", "last_week": "Semaine précédente",
        "change": "Évolution",
        "week_note": "Totaux de la mission pour les produits opérationnels publiés par "
                     "semaine. Évolution : relative pour les nombres et les heures, en points "
                     "de pourcentage pour les parts.",
        "by_sector": "{name} par secteur",
        "twelve_weeks": "{name} par semaine, 12 dernières semaines, par secteur",
        "hotspots": "Patrouilles et atteintes aux civils, par site",
        "hotspot_finding": "{month} : {k} site(s) avec beaucoup de victimes mais peu de "
                           "patrouilles : {sites}",
        "hotspot_none": "{month} : aucun site n'a à la fois plus de victimes et moins de "
                        "patrouilles que la médiane",
        "hotspot_empty": "Pas encore de nombre de victimes publié par site pour {month}",
        "patrols_axis": "Patrouilles dans le mois",
        "victims_axis": "Victimes civiles dans le mois",
        "under": "Beaucoup de victimes, peu de patrouilles", "other_sites": "Autres sites",
        "median": "médiane",
        "hotspot_note": "Chaque point est un site, pour le dernier mois complet ({month}). Le "
                        "nombre de victimes est publié par mois au plus fin : cette vue est "
                        "donc mensuelle. Tirets : médianes des sites dont le nombre est publié. "
                        "{hidden}",
        "hidden": "Carrés gris sous l'axe : {n} site(s) dont le nombre de victimes est masqué "
                  "({sites}), placés seulement selon leurs patrouilles.",
        "victims_hidden": "Victimes masquées",
        "dose": "Points chauds ayant reçu des patrouilles régulières (trois ou plus par "
                "semaine), par secteur",
        "under_table": "Sites avec beaucoup de victimes et peu de patrouilles",
        "quality": "Peut-on se fier aux données ?",
        "quality_finding": "{week} : {received} des rapports attendus reçus, {on_time} dans "
                           "les délais{status}",
        "quality_none": "Aucun rapport n'était attendu pour {week}",
        "returns_grid": "Rapports hebdomadaires par source (12 dernières semaines)",
        "on_time": "dans les délais", "late": "en retard", "missing": "manquant",
        "unexpected": "non attendu",
        "returns_other": "Autres rapports (dernières périodes)",
        "source": "Source", "deadline": "Échéance", "received_at": "Première réception",
        "rows": "Lignes lues / chargées / en quarantaine",
        "quarantine": "Lignes en quarantaine et pourquoi",
        "quarantine_finding": "{n} règle(s) enfreinte(s) dans les lignes en quarantaine depuis "
                              "le premier fichier ; le plus souvent : {top}",
        "quarantine_finding_spread": "{n} règle(s) enfreinte(s) dans les lignes en quarantaine "
                                     "depuis le premier fichier, réparties sur {k} règles et "
                                     "colonnes différentes",
        "quarantine_none": "Rien en quarantaine : chaque ligne de chaque fichier respecte son "
                           "contrat",
        "broken_rules": "Règles enfreintes", "files": "Fichiers", "rule": "Règle",
        "column": "Colonne", "unknown_mission": "fichier dont la mission n'a pas pu être lue",
        "rejected": "Fichiers rejetés en entier : {files}.",
        "quality_note": "Complétude : part des rapports attendus (un fichier par source et par "
                        "période) reçus ; ponctualité : part reçue avant l'échéance. Une ligne "
                        "en quarantaine enfreint une règle du contrat de sa source et n'a pas "
                        "été chargée : corrigez-la dans le fichier source et déposez à nouveau "
                        "le fichier corrigé dans la boîte de dépôt. Le rapport de quarantaine "
                        "liste chaque ligne.",
        "week_axis": "Semaine",
    },
}

RULES = {
    "en": {
        "required": "a required value is missing", "type": "not a valid number, date or time",
        "allowed_values": "a value not in the allowed list",
        "range": "a value outside the allowed range",
        "reference": "an unknown site, unit or code",
        "belongs_to_mission": "a site or unit of another mission",
        "unique_in_file": "a row repeated in the file",
        "unique_across_files": "a row already loaded from another file",
        "unreadable_file": "the file could not be read",
        "end_after_start": "ends before it starts",
        "reported_after_occurred": "reported before it occurred",
        "arrival_after_alert": "arrival before the alert",
        "fatalities_within_victims": "more fatalities than victims",
        "women_within_persons": "more women than persons",
        "women_within_deployed": "more women than deployed",
        "women_within_participants": "more women than participants",
        "certified_within_participants": "more certified than participants",
        "alert_id_for_alert_response": "alert response without an alert ID",
        "field_count": "a row with too few or too many cells",
        "unterminated_quote": "a quote never closed (file cut short?)",
        "csv_syntax": "a row that is not valid CSV",
        "formula_like": "text a spreadsheet would run as a formula",
        "not_in_future": "a date in the future",
        "file_too_large": "a file over the size limit",
        "zip_bomb": "a workbook that would unzip far too large",
        "unsafe_path": "a file name or link leading out of the inbox",
    },
    "fr": {
        "required": "valeur obligatoire manquante",
        "type": "nombre, date ou heure non valide",
        "allowed_values": "valeur hors de la liste autorisée",
        "range": "valeur hors de l'intervalle autorisé",
        "reference": "site, unité ou code inconnu",
        "belongs_to_mission": "site ou unité d'une autre mission",
        "unique_in_file": "ligne répétée dans le fichier",
        "unique_across_files": "ligne déjà chargée depuis un autre fichier",
        "unreadable_file": "fichier illisible", "end_after_start": "fin avant le début",
        "reported_after_occurred": "signalé avant d'avoir eu lieu",
        "arrival_after_alert": "arrivée avant l'alerte",
        "fatalities_within_victims": "plus de morts que de victimes",
        "women_within_persons": "plus de femmes que de personnes",
        "women_within_deployed": "plus de femmes que de déployés",
        "women_within_participants": "plus de femmes que de participants",
        "certified_within_participants": "plus de certifiés que de participants",
        "alert_id_for_alert_response": "réponse à une alerte sans identifiant d'alerte",
        "field_count": "ligne avec trop ou trop peu de cellules",
        "unterminated_quote": "guillemet jamais fermé (fichier tronqué ?)",
        "csv_syntax": "ligne CSV non valide",
        "formula_like": "texte qu'un tableur exécuterait comme une formule",
        "not_in_future": "date dans le futur",
        "file_too_large": "fichier au-delà de la taille permise",
        "zip_bomb": "classeur qui se décompresserait démesurément",
        "unsafe_path": "nom ou lien de fichier menant hors de la boîte de réception",
    },
}
SOURCES = {
    "en": {"patrols": "patrols", "incidents": "incidents", "trainings": "trainings",
           "strength": "strength returns", "surveys": "surveys",
           "ged": "UCDP GED events (public)", "personnel": "UN personnel table (public)"},
    "fr": {"patrols": "patrouilles", "incidents": "incidents", "trainings": "formations",
           "strength": "effectifs", "surveys": "enquêtes",
           "ged": "événements UCDP GED (publics)",
           "personnel": "tableau du personnel de l'ONU (public)"},
}
HEAD_OUTPUT = "PAT_COUNT"
SECTOR_OUTPUTS = ("PAT_COUNT", "PAT_PERSON_HOURS")
VICTIMS = "DET_VICTIMS"
HOTSPOT_DOSE = "DET_HOTSPOT_DOSE"
DQ_CODES = ("DQ_COMPLETENESS", "DQ_TIMELINESS", "DQ_UNIT_RETURNS", "DQ_QUARANTINE_SHARE")
RECENT_WEEKS = 12
# a return's state shown with the status colours: on time, late, missing
RETURN_CSS = {"on_time": "on_track", "late": "at_risk", "missing": "off_track"}


def build_planning(ctx: Context) -> Page:
    page = new_page(ctx, "planning")
    w = ctx.w(TEXT)
    if ctx.as_of is None:
        page.empty(w("no_data_yet"))
        return page
    _this_week(page, ctx)
    _hotspots(page, ctx)
    _quality(page, ctx)
    about(page, ctx, [w("quality_note")])
    return page


def render(ctx: Context) -> str:
    return build_planning(ctx).render(footer(ctx))


def _rule(rule: str, lang: str) -> str:
    return RULES[lang].get(rule, rule.replace("_", " "))


def _source(source: str, lang: str) -> str:
    return SOURCES[lang].get(source, source)


def _recent_weeks(ctx: Context) -> list[str]:
    weeks = data.periods(ctx.con, "week")
    weeks = weeks[weeks["period_label"] <= ctx.as_of.week]
    return list(weeks["period_label"].tail(RECENT_WEEKS))


# --- this week -----------------------------------------------------------------------------


def _this_week(page: Page, ctx: Context) -> None:
    w = ctx.w(TEXT)
    page.h2(w("week"), "week")
    now, before = ctx.as_of.week, ctx.as_of.previous_week
    outputs = ctx.codes(kind="output", exclude=("DQ",))
    weekly = data.values(ctx.con, ctx.mission_id, codes=outputs, levels=["mission", "sector"],
                         period_types=["week"])
    pair = weekly[weekly["period_label"].isin([now, before])]
    mission = pair[pair["level"] == "mission"]
    # patrols first (what the week is planned around), then the other outputs
    codes = sorted((c for c in outputs if c in set(mission["indicator_code"])),
                   key=lambda c: (c != HEAD_OUTPUT, not c.startswith("PAT_"),
                                  outputs.index(c)))

    def pick(code: str, label: str) -> pd.Series | None:
        hit = mission[(mission["indicator_code"] == code) & (mission["period_label"] == label)]
        return None if hit.empty else hit.iloc[0]

    week_name = period_name("week", now, ctx.lang)
    head = HEAD_OUTPUT if HEAD_OUTPUT in codes else (codes[0] if codes else None)
    if head is None:
        page.empty(w("no_data"))
        return
    a, b = pick(head, now), pick(head, before) if before else None
    if a is not None and b is not None and not is_missing(a["value"]) \
            and not is_missing(b["value"]) and a["value"] != b["value"]:
        page.finding(w("week_finding", name=ctx.name(head), week=week_name,
                       now=value_text(ctx, head, a), before=value_text(ctx, head, b),
                       change=fmt_change(a["value"], b["value"], ctx.unit(head), ctx.lang)))
    elif a is not None:
        page.finding(w("week_finding_flat", name=ctx.name(head), week=week_name,
                       now=value_text(ctx, head, a)))
    rows = []
    for code in codes:
        a, b = pick(code, now), pick(code, before) if before else None
        now_text = value_text(ctx, code, a) if a is not None else w("no_data")
        before_text = value_text(ctx, code, b) if b is not None else w("no_data")
        change = ""
        if a is not None and b is not None and not a["suppressed"] and not b["suppressed"]:
            change = fmt_change(a["value"], b["value"], ctx.unit(code), ctx.lang)
        status = ""
        if a is not None and (a["status"] is not None or a["suppressed"]):
            status = row_badge(a, ctx.lang)
        rows.append([esc(ctx.name(code)), esc(now_text), esc(before_text), esc(change), status])
    page.table([w("indicator"), f"{w('this_week')} ({now})", f"{w('last_week')} ({before})",
                w("change"), w("status")], rows, numeric={1, 2, 3})
    page.note(w("week_note"))
    _sector_bars(page, ctx, weekly, now, before)
    _sector_weeks(page, ctx)


def _sector_bars(page: Page, ctx: Context, weekly: pd.DataFrame, now: str,
                 before: str | None) -> None:
    w = ctx.w(TEXT)
    codes = [c for c in SECTOR_OUTPUTS if c in set(weekly["indicator_code"])]
    sectors = data.sectors(ctx.con, ctx.mission_id)
    if not codes or sectors.empty:
        return
    names = dict(zip(sectors["sector_id"], sectors["sector_name"].fillna(sectors["sector_id"]),
                     strict=True))
    fig = make_subplots(rows=1, cols=len(codes), horizontal_spacing=0.08,
                        subplot_titles=[esc(w("by_sector", name=ctx.name(c))) for c in codes])
    for i, code in enumerate(codes, start=1):
        sub = weekly[(weekly["indicator_code"] == code) & (weekly["level"] == "sector")]
        for label, colour, key in ((before, OKABE_ITO["sky_blue"], "last_week"),
                                   (now, OKABE_ITO["blue"], "this_week")):
            if label is None:
                continue
            rows = sub[sub["period_label"] == label].set_index("org_unit_id")
            ys = [rows["value"].get(s) if s in rows.index else None for s in names]
            text = [esc(fmt_value(v, ctx.unit(code), ctx.lang, with_unit=False))
                    if not is_missing(v) else esc(w("suppressed") if s in rows.index and
                                                  rows.at[s, "suppressed"] else w("no_data"))
                    for s, v in zip(names, ys, strict=True)]
            fig.add_trace(go.Bar(
                x=[esc(n) for n in names.values()], y=ys, name=esc(f"{w(key)} ({label})"),
                marker_color=colour, text=text, textposition="outside", showlegend=(i == 1),
                legendgroup=key, hovertemplate="%{x}: %{text}<extra>" + esc(label)
                + "</extra>", cliponaxis=False,
                marker_pattern_shape="/" if key == "last_week" else ""), row=1, col=i)
    fig.update_layout(barmode="group")
    fig.update_yaxes(rangemode="tozero")
    style(fig, ctx.lang, height=400, top=80)
    page.figure(fig)


def _sector_weeks(page: Page, ctx: Context) -> None:
    w = ctx.w(TEXT)
    weeks = _recent_weeks(ctx)
    rows = data.values(ctx.con, ctx.mission_id, codes=[HEAD_OUTPUT], levels=["sector"],
                       period_types=["week"])
    rows = rows[rows["period_label"].isin(weeks)]
    if rows.empty:
        return
    sectors = data.sectors(ctx.con, ctx.mission_id)
    fig = go.Figure()
    for i, (sector_id, name) in enumerate(zip(sectors["sector_id"], sectors["sector_name"],
                                              strict=True)):
        sub = rows[rows["org_unit_id"] == sector_id]
        if sub.empty:
            continue
        for trace in trend_traces(ctx, HEAD_OUTPUT, sub, name=name or sector_id,
                                  colour=COLORWAY[i % len(COLORWAY)], show_target=False,
                                  who=name, dash=["solid", "dot", "dash", "dashdot"][i % 4]):
            if trace.name == esc(w("suppressed")):
                trace.showlegend = False
            fig.add_trace(trace)
    fig.update_layout(title={"text": esc(w("twelve_weeks", name=ctx.name(HEAD_OUTPUT))),
                             "font": {"size": 14}})
    fig.update_yaxes(rangemode="tozero")
    style(fig, ctx.lang, height=360)
    fig.update_layout(margin={"t": 80})
    page.figure(fig)


# --- hot spots -----------------------------------------------------------------------------


def _hotspots(page: Page, ctx: Context) -> None:
    w = ctx.w(TEXT)
    page.h2(w("hotspots"), "hotspots")
    month = ctx.as_of.last_full_month or ctx.as_of.month
    month_name = period_name("month", month, ctx.lang)
    sites = data.sites(ctx.con, ctx.mission_id).set_index("site_id")
    rows = data.values(ctx.con, ctx.mission_id, codes=[HEAD_OUTPUT, VICTIMS], levels=["site"],
                       period_types=["month"])
    rows = rows[rows["period_label"] == month]
    patrols = rows[rows["indicator_code"] == HEAD_OUTPUT].set_index("org_unit_id")
    victims = rows[rows["indicator_code"] == VICTIMS].set_index("org_unit_id")
    if victims.empty or patrols.empty:
        page.empty(w("hotspot_empty", month=month_name))
        _dose(page, ctx, month)
        return
    frame = sites.join(patrols[["value", "suppressed"]].add_prefix("patrols_"), how="inner") \
        .join(victims[["value", "suppressed"]].add_prefix("victims_"), how="inner")
    hidden = frame[frame["victims_suppressed"] | frame["patrols_suppressed"]]
    shown = frame[~frame.index.isin(hidden.index)].copy()
    shown["patrols_value"] = shown["patrols_value"].fillna(0)
    shown["victims_value"] = shown["victims_value"].fillna(0)
    med_p, med_v = shown["patrols_value"].median(), shown["victims_value"].median()
    shown["under"] = (shown["victims_value"] > 0) & (shown["victims_value"] >= med_v) \
        & (shown["patrols_value"] < med_p)
    under = shown[shown["under"]].sort_values("victims_value", ascending=False)
    if not under.empty:
        page.finding(w("hotspot_finding", month=month_name, k=len(under),
                       sites=", ".join(under["site_name"].head(5))))
    else:
        page.finding(w("hotspot_none", month=month_name))
    fig = go.Figure()
    for flag, name, colour, symbol in ((False, w("other_sites"), OKABE_ITO["blue"], "circle"),
                                       (True, w("under"), OKABE_ITO["vermillion"], "x")):
        sub = shown[shown["under"] == flag]
        hover = [
            "<br>".join([f"<b>{esc(r.site_name)}</b>", esc(f"{r.sector_name} · {r.site_type}"),
                         esc(f"{ctx.name(HEAD_OUTPUT)}: "
                             f"{fmt_value(r.patrols_value, 'count', ctx.lang)}"),
                         esc(f"{ctx.name(VICTIMS)}: "
                             f"{fmt_value(r.victims_value, 'count', ctx.lang)}")])
            for r in sub.itertuples()]
        fig.add_trace(go.Scatter(
            x=sub["patrols_value"], y=sub["victims_value"], mode="markers+text" if flag
            else "markers", name=esc(name), hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            text=[esc(n) for n in sub["site_name"]] if flag else None,
            textposition="top center",
            marker={"size": 12, "color": colour, "symbol": symbol,
                    "line": {"width": 1.5, "color": colour}}))
    if not hidden.empty:
        # sites whose victim count is suppressed: their patrols, on a strip under the axis
        ymax = max(float(shown["victims_value"].max()) if not shown.empty else 1.0, 1.0)
        strip = -0.08 * ymax
        fig.add_trace(go.Scatter(
            x=hidden["patrols_value"].fillna(0), y=[strip] * len(hidden), mode="markers",
            name=esc(w("victims_hidden")), cliponaxis=False,
            hovertext=["<br>".join([f"<b>{esc(r.site_name)}</b>",
                                    esc(f"{r.sector_name} · {r.site_type}"),
                                    esc(f"{ctx.name(HEAD_OUTPUT)}: "
                                        f"{value_text(ctx, HEAD_OUTPUT, _row(r, 'patrols'))}"),
                                    esc(f"{ctx.name(VICTIMS)}: {w('suppressed')}")])
                       for r in hidden.itertuples()],
            hovertemplate="%{hovertext}<extra></extra>",
            marker={"size": 10, "symbol": "square-open", "color": GREY}))
        step = max(1, round(ymax / 5))
        ticks = list(range(0, int(ymax * 1.1) + 1, step))
        fig.update_yaxes(range=[strip * 2, ymax * 1.1], tickvals=[strip, *ticks],
                         ticktext=[esc(w("suppressed")), *[str(t) for t in ticks]])
    fig.add_vline(x=med_p, line_dash="dash", line_color=GREY,
                  annotation_text=esc(w("median")), annotation_position="top")
    fig.add_hline(y=med_v, line_dash="dash", line_color=GREY,
                  annotation_text=esc(w("median")), annotation_position="top left")
    fig.update_xaxes(title_text=esc(w("patrols_axis")), rangemode="tozero")
    fig.update_yaxes(title_text=esc(w("victims_axis")))
    style(fig, ctx.lang, height=440)
    page.figure(fig)
    hidden_text = w("hidden", n=len(hidden), sites=", ".join(hidden["site_name"])) \
        if not hidden.empty else ""
    page.note(w("hotspot_note", month=month_name, hidden=hidden_text))
    if not under.empty:
        page.html(f"<h3>{esc(w('under_table'))}</h3>")
        page.table([w("site"), w("sector"), ctx.name(HEAD_OUTPUT), ctx.name(VICTIMS)], [
            [esc(r.site_name), esc(r.sector_name),
             esc(fmt_value(r.patrols_value, "count", ctx.lang)),
             esc(fmt_value(r.victims_value, "count", ctx.lang))]
            for r in under.itertuples()], numeric={2, 3})
    _dose(page, ctx, month)


def _row(record, prefix: str) -> pd.Series:
    """A value row (value, suppressed) from the joined site frame, for value_text."""
    return pd.Series({"value": getattr(record, f"{prefix}_value"),
                      "suppressed": bool(getattr(record, f"{prefix}_suppressed"))})


def _dose(page: Page, ctx: Context, month: str) -> None:
    """Hot-spot patrol dose by sector for the month, against its target."""
    w = ctx.w(TEXT)
    if HOTSPOT_DOSE not in ctx.catalogue.index:
        return
    rows = data.values(ctx.con, ctx.mission_id, codes=[HOTSPOT_DOSE],
                       levels=["sector", "mission"], period_types=["month"])
    rows = rows[rows["period_label"] == month]
    if rows.empty:
        return
    sectors = data.sectors(ctx.con, ctx.mission_id)
    names = {**dict(zip(sectors["sector_id"], sectors["sector_name"], strict=True)),
             ctx.mission_id: w("mission")}
    rows = rows.assign(order=rows["level"].eq("mission")).sort_values(["order", "org_unit_id"])
    unit = ctx.unit(HOTSPOT_DOSE)
    xs = [esc(names.get(o, o)) for o in rows["org_unit_id"]]
    ys = [v * scale(unit) if not is_missing(v) else None for v in rows["value"]]
    statuses = [s if s in STATUS_COLOURS else None for s in rows["status"]]
    text = [esc(f"{value_text(ctx, HOTSPOT_DOSE, r)} · "
                f"{row_status(r, ctx.lang)}")
            for _, r in rows.iterrows()]
    fig = go.Figure(go.Bar(
        x=xs, y=ys, text=text, textposition="outside", cliponaxis=False, showlegend=False,
        marker={"color": [STATUS_COLOURS[s] if s else LIGHT_GREY for s in statuses],
                "line": {"width": 1, "color": "#333"}},
        hovertemplate="%{x}: %{text}<extra></extra>"))
    targets = rows["target"].dropna()
    if not targets.empty:
        fig.add_hline(y=float(targets.iloc[-1]) * scale(unit), line_dash="dash",
                      line_color=GREY, annotation_text=esc(w("target")),
                      annotation_position="top right")
    fig.update_layout(title={"text": esc(f"{w('dose')} — "
                                         f"{period_name('month', month, ctx.lang)}"),
                             "font": {"size": 14}})
    percent_axis(fig, ctx, unit)
    fig.update_yaxes(range=[0, 110])
    style(fig, ctx.lang, height=360)
    fig.update_layout(margin={"t": 60})
    page.figure(fig)


# --- data quality --------------------------------------------------------------------------


def _quality(page: Page, ctx: Context) -> None:
    w = ctx.w(TEXT)
    page.h2(w("quality"), "quality")
    weeks = _recent_weeks(ctx)
    dq = data.values(ctx.con, ctx.mission_id, codes=list(DQ_CODES), levels=["mission"],
                     period_types=["week"])
    dq = dq[dq["period_label"].isin(weeks)]
    week_name = period_name("week", ctx.as_of.week, ctx.lang)

    def this(code: str) -> pd.Series | None:
        hit = dq[(dq["indicator_code"] == code) & (dq["period_label"] == ctx.as_of.week)]
        return None if hit.empty else hit.iloc[0]

    complete, timely = this("DQ_COMPLETENESS"), this("DQ_TIMELINESS")
    if complete is not None and not is_missing(complete["value"]):
        status = ""
        if timely is not None and timely["status"] is not None:
            status = (f" ({w('target').lower()} "
                      f"{fmt_value(timely['target'], 'percent', ctx.lang)}, "
                      f"{row_status(timely, ctx.lang)})")
        page.finding(w("quality_finding", week=week_name,
                       received=value_text(ctx, "DQ_COMPLETENESS", complete),
                       on_time=value_text(ctx, "DQ_TIMELINESS", timely)
                       if timely is not None else w("no_data"), status=status))
    else:
        page.finding(w("quality_none", week=week_name))
    codes = [c for c in DQ_CODES if c in set(dq["indicator_code"])]
    if codes:
        cols = min(len(codes), 2)
        nrows = (len(codes) + cols - 1) // cols
        fig = make_subplots(rows=nrows, cols=cols, vertical_spacing=min(0.3, 110 / (280 * nrows)),
                            subplot_titles=[esc(ctx.name(c)) for c in codes])
        for i, code in enumerate(codes):
            r, c = i // cols + 1, i % cols + 1
            for trace in trend_traces(ctx, code, dq[dq["indicator_code"] == code],
                                      colour=NEUTRAL, legend=(i == 0), name=w("mission")):
                fig.add_trace(trace, row=r, col=c)
            percent_axis(fig, ctx, ctx.unit(code), row=r, col=c)
        fig.update_xaxes(tickangle=-45)
        style(fig, ctx.lang, height=280 * nrows + 90, top=90)
        page.figure(fig)
    _returns(page, ctx, weeks)
    _quarantine(page, ctx)


def _returns(page: Page, ctx: Context, weeks: list[str]) -> None:
    w = ctx.w(TEXT)
    returns = data.reporting_returns(ctx.con, ctx.mission_id)
    if returns.empty:
        return
    weekly = returns[(returns["period_grain"] == "week") & returns["period_label"].isin(weeks)]
    expected = sorted(set(weekly.loc[weekly["expected"].fillna(False).astype(bool),
                                     "source_name"]))
    states = {"on_time": (0, OKABE_ITO["blue"], "●"), "late": (1, OKABE_ITO["orange"], "▲"),
              "missing": (2, OKABE_ITO["vermillion"], "✖"),
              "unexpected": (3, "#EEEEEE", "–")}
    if expected:
        z, text, hover = [], [], []
        for source in expected:
            zr, tr, hr = [], [], []
            for week in weeks:
                hit = weekly[(weekly["source_name"] == source) & (weekly["period_label"] == week)]
                row = hit.iloc[0] if not hit.empty else None
                if row is None or not bool(row["expected"]):
                    state = "unexpected"
                elif not bool(row["received"]):
                    state = "missing"
                else:
                    state = "on_time" if bool(row["on_time"]) else "late"
                index, _, glyph = states[state]
                zr.append(index)
                tr.append(f"{glyph} {esc(w(state))}")
                detail = ""
                if row is not None and not pd.isna(row["first_received_at"]):
                    detail = (f"<br>{esc(w('received_at'))}: "
                              f"{esc(str(row['first_received_at'])[:16])}")
                hr.append(f"<b>{esc(_source(source, ctx.lang))}</b>, {esc(week)}: "
                          f"{esc(w(state))}{detail}")
            z.append(zr)
            text.append(tr)
            hover.append(hr)
        colours = [states[s][1] for s in ("on_time", "late", "missing", "unexpected")]
        scale_ = [[edge / 4, c] for i, c in enumerate(colours) for edge in (i, i + 1)]
        fig = go.Figure(go.Heatmap(
            z=z, x=weeks, y=[esc(_source(s, ctx.lang)) for s in expected], text=text,
            texttemplate="%{text}", hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
            colorscale=scale_, zmin=-0.5, zmax=3.5, showscale=False, xgap=2, ygap=2,
            textfont={"size": 11}))
        fig.update_layout(title={"text": esc(w("returns_grid")), "font": {"size": 14}})
        fig.update_xaxes(type="category", tickangle=-45)
        style(fig, ctx.lang, height=140 + 55 * len(expected))
        fig.update_layout(margin={"t": 50})
        page.figure(fig)
    other = returns[(returns["period_grain"] != "week")
                    & returns["expected"].fillna(False).astype(bool)
                    & (returns["period_start"] <= pd.Timestamp(ctx.as_of.week_end))]
    if not other.empty:
        other = other.sort_values("period_start").groupby("source_name").tail(3)
        page.h2(w("returns_other"))
        body = []
        for r in other.itertuples():
            state = ("missing" if not bool(r.received) else
                     "on_time" if bool(r.on_time) else "late")
            received = "" if pd.isna(r.first_received_at) else str(r.first_received_at)[:16]
            badge = (f'<span class="status status-{RETURN_CSS[state]}">{states[state][2]} '
                     f"{esc(w(state))}</span>")
            body.append([esc(_source(r.source_name, ctx.lang)), esc(r.period_label),
                         esc(str(r.deadline_at)[:16]), esc(received), badge])
        page.table([w("source"), w("period"), w("deadline"), w("received_at"), w("status")],
                   body)


def _quarantine(page: Page, ctx: Context) -> None:
    w = ctx.w(TEXT)
    page.h2(w("quarantine"), "quarantine")
    rules = data.quarantine_by_rule(ctx.con, ctx.mission_id)
    rejected = data.rejected_files(ctx.con, ctx.mission_id)
    if rules.empty:
        page.finding(w("quarantine_none"))
    else:
        top = rules.iloc[0]
        n = int(rules["broken_rules"].sum())
        if len(rules) == 1 or top["broken_rules"] > rules.iloc[1]["broken_rules"]:
            page.finding(w("quarantine_finding", n=n,
                           top=f"{_rule(top['rule'], ctx.lang)} "
                               f"({_source(top['source_name'], ctx.lang)}, "
                               f"{top['column_name']}: {int(top['broken_rules'])})"))
        else:
            page.finding(w("quarantine_finding_spread", n=n, k=len(rules)))
        labels = []
        for r in rules.itertuples():
            where = f"{_source(r.source_name, ctx.lang)} · {r.column_name}"
            if r.mission_id is None or pd.isna(r.mission_id):
                where += f" ({w('unknown_mission')})"
            labels.append(esc(f"{_rule(r.rule, ctx.lang)} — {where}"))
        fig = go.Figure(go.Bar(
            x=rules["broken_rules"], y=labels, orientation="h", marker_color=OKABE_ITO["orange"],
            text=[esc(str(int(v))) for v in rules["broken_rules"]], textposition="outside",
            cliponaxis=False, hovertemplate="%{y}: %{x}<extra></extra>"))
        fig.update_yaxes(autorange="reversed")
        fig.update_xaxes(title_text=esc(w("broken_rules")), rangemode="tozero",
                         tickformat="d", dtick=max(1, int(rules["broken_rules"].max()) // 5))
        style(fig, ctx.lang, height=120 + 28 * len(rules))
        page.figure(fig)
        page.table([w("source"), w("column"), w("rule"), w("broken_rules"), w("files")], [
            [esc(_source(r.source_name, ctx.lang)), esc(r.column_name),
             esc(f"{_rule(r.rule, ctx.lang)} ({r.rule})"), esc(int(r.broken_rules)),
             esc(int(r.files))] for r in rules.itertuples()], numeric={3, 4})
    if not rejected.empty:
        page.note(w("rejected", files=", ".join(rejected["file_name"].astype(str))))
