"""Look and words shared by the dashboards: colour-blind-safe palette, fonts, number formats and
the English and French labels.

* Colours: the Okabe-Ito palette, safe for the common colour-vision deficiencies. A status is
  never shown by colour alone: it is always written (``on track``) and has its own marker
  shape and glyph (circle, triangle, cross).
* Fonts: the system's own sans-serif (no web font, so nothing is fetched).
* Text: every value that comes from the warehouse (names of missions, sectors, sites, file names,
  sentences) goes through ``esc`` before it reaches HTML or plotly, which renders some tags.
"""

from __future__ import annotations

import html
import math
from typing import Any

import plotly.graph_objects as go

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9",
    "bluish_green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
    "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}
# Trace colours in order (yellow last: weak on white).
COLORWAY = [OKABE_ITO[name] for name in (
    "blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue", "black",
    "yellow")]
GREY = "#8C8C8C"
NEUTRAL = "#3A3A3A"  # the line of a single series whose markers carry the status colours
LIGHT_GREY = "#D9D9D9"
INK = "#222222"
FONT_FAMILY = ("system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'DejaVu Sans', "
               "Arial, sans-serif")

STATUSES = ("on_track", "at_risk", "off_track")
# Same colours as the Excel tracking tables (pipelines/indicators/export_writer.py).
STATUS_COLOURS = {"on_track": OKABE_ITO["blue"], "at_risk": OKABE_ITO["orange"],
                  "off_track": OKABE_ITO["vermillion"], None: GREY}
STATUS_FILLS = {"on_track": "#9ECAE9", "at_risk": "#F5C26B", "off_track": "#E8896B",
                None: "#EEEEEE"}
STATUS_SYMBOLS = {"on_track": "circle", "at_risk": "triangle-up", "off_track": "x",
                  None: "circle-open"}
STATUS_GLYPHS = {"on_track": "●", "at_risk": "▲", "off_track": "✖", None: "○"}
# A sequential scale that reads in grey and for every colour-vision deficiency.
SEQUENTIAL = "Cividis"

# Words every dashboard uses. Keys of the dashboards' own dictionaries do not repeat these.
COMMON: dict[str, dict[str, str]] = {
    "en": {
        "on_track": "on track", "at_risk": "at risk", "off_track": "off track",
        "no_status": "no target", "not_rated": "not rated", "suppressed": "suppressed",
        "no_data": "no data",
        "target": "Target", "baseline": "Baseline", "actual": "Actual", "status": "Status",
        "indicator": "Indicator", "period": "Period", "value": "Value", "unit": "Unit",
        "mission": "Mission", "sector": "Sector", "site": "Site", "all_sectors": "All sectors",
        "ci": "95% CI", "partial": "partial period", "generated": "Generated {when}.",
        "data_to": "Data to week {week} ({start} to {end}).",
        "no_data_yet": "No published indicator values yet for this mission: run the weekly "
                       "job first.",
        "leadership": "Leadership dashboard", "planning": "Planning dashboard",
        "budget": "Budget dashboard", "index": "All dashboards",
        "civilians": "Police strength and civilian deaths",
        "other_dashboards": "Other dashboards of this mission:",
        "about": "About these figures",
        "suppression_note": (
            "Small counts of people or events are never published: where a number could help "
            "identify someone it shows as \"suppressed\", and a few larger numbers are "
            "suppressed too, so that the small ones cannot be worked out from totals. Only the "
            "published indicator table (marts.fct_indicator_values) is read; names, narratives "
            "and the locations of sources are not in it."),
        "status_note": (
            "Status compares the value with the target of the period: on track (●, blue), at "
            "risk (▲, orange), off track (✖, vermillion). It is always written out; colour only "
            "repeats it. \"Not rated\": a target is set but the period is not rated (e.g. a "
            "partial period); \"no target\": none was set."),
        "percent_note": "Percentages are of the indicator's denominator (see the indicator "
                        "reference, docs/indicators.md).",
        "map_disclaimer": (
            "The boundaries and names shown and the designations used on this map do not imply "
            "official endorsement or acceptance by the United Nations. Site positions are the "
            "configured reference points of the sites."),
        "up": "up", "down": "down", "same": "no change", "more": "more", "fewer": "fewer",
        "higher_better": "higher is better", "lower_better": "lower is better",
        "and": "and", "none": "none",
    },
    "fr": {
        "on_track": "en bonne voie", "at_risk": "à risque", "off_track": "hors trajectoire",
        "no_status": "sans cible", "not_rated": "non évalué", "suppressed": "masqué",
        "no_data": "pas de données",
        "target": "Cible", "baseline": "Référence", "actual": "Valeur réelle",
        "status": "Statut", "indicator": "Indicateur", "period": "Période", "value": "Valeur",
        "unit": "Unité", "mission": "Mission", "sector": "Secteur", "site": "Site",
        "all_sectors": "Tous les secteurs", "ci": "IC à 95 %", "partial": "période partielle",
        "generated": "Produit le {when}.",
        "data_to": "Données jusqu'à la semaine {week} (du {start} au {end}).",
        "no_data_yet": "Aucune valeur d'indicateur publiée pour cette mission : lancez "
                       "d'abord le traitement hebdomadaire.",
        "leadership": "Tableau de bord de la direction",
        "planning": "Tableau de bord de la planification",
        "budget": "Tableau de bord budgétaire", "index": "Tous les tableaux de bord",
        "civilians": "Effectifs de police et victimes civiles",
        "other_dashboards": "Autres tableaux de bord de la mission :",
        "about": "À propos de ces chiffres",
        "suppression_note": (
            "Les petits effectifs de personnes ou d'événements ne sont jamais publiés : là où "
            "un nombre pourrait aider à identifier quelqu'un, il apparaît comme « masqué », et "
            "quelques nombres plus grands sont masqués aussi pour que les petits ne puissent "
            "pas être déduits des totaux. Seule la table publiée des indicateurs "
            "(marts.fct_indicator_values) est lue ; les noms, les récits et la localisation des "
            "sources n'y figurent pas."),
        "status_note": (
            "Le statut compare la valeur à la cible de la période : en bonne voie (●, bleu), à "
            "risque (▲, orange), hors trajectoire (✖, vermillon). Il est toujours écrit en "
            "toutes lettres ; la couleur ne fait que le répéter. « Non évalué » : une cible "
            "existe mais la période n'est pas évaluée (par exemple une période partielle) ; "
            "« sans cible » : aucune cible n'a été fixée."),
        "percent_note": "Les pourcentages portent sur le dénominateur de l'indicateur (voir le "
                        "référentiel des indicateurs, docs/indicators.fr.md).",
        "map_disclaimer": (
            "Les frontières et les noms indiqués et les désignations employées sur cette carte "
            "n'impliquent ni reconnaissance ni acceptation officielle de la part de "
            "l'Organisation des Nations Unies. La position des sites est le point de référence "
            "configuré pour chaque site."),
        "up": "en hausse", "down": "en baisse", "same": "inchangé", "more": "de plus",
        "fewer": "de moins", "higher_better": "plus haut = mieux",
        "lower_better": "plus bas = mieux", "and": "et", "none": "aucun",
    },
}

UNIT_WORDS = {
    "en": {"hours": "hours", "minutes": "minutes", "days": "days", "points": "points",
           "per_10k": "per 10,000 people", "count": "", "percent": ""},
    "fr": {"hours": "heures", "minutes": "minutes", "days": "jours", "points": "points",
           "per_10k": "pour 10 000 habitants", "count": "", "percent": ""},
}

MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "fr": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
           "nov.", "déc."],
}
MONTHS_LONG = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"],
}
NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space: French thousands separator and before %


def esc(value: object) -> str:
    """Text for HTML content or a plotly label: every tag and entity shown as typed.

    Only &, < and > are replaced: plotly decodes those three but would show a &quot; as typed.
    Inside an HTML attribute use ``attr``."""
    return html.escape("" if value is None else str(value), quote=False)


def attr(value: object) -> str:
    """Text for an HTML attribute value in double quotes."""
    return html.escape("" if value is None else str(value), quote=True)


def words(lang: str, extra: dict[str, dict[str, str]] | None = None):
    """A lookup ``w(key, **fields)`` in the language, over COMMON and a module's own words."""
    table = {**COMMON[lang], **((extra or {}).get(lang, {}))}

    def w(key: str, **fields: Any) -> str:
        text = table[key]
        return text.format(**fields) if fields else text

    return w


def is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def number(value: float, decimals: int, lang: str) -> str:
    """A number with the language's separators: 1,234.5 or 1 234,5."""
    text = f"{value:,.{decimals}f}"
    if lang == "fr":
        text = text.replace(",", NNBSP).replace(".", ",")
    return text


def fmt_value(value: object, unit: str, lang: str, *, precise: bool = False,
              with_unit: bool = True) -> str:
    """An indicator value in its unit: 72%, 1,234, 12.5 minutes, 0.35 per 10,000 people.

    ``percent`` values are fractions. Empty when the value is missing (callers say
    "suppressed" or "no data" themselves).
    """
    if is_missing(value):
        return ""
    value = float(value)  # type: ignore[arg-type]
    if unit == "percent":
        pct = value * 100
        decimals = 1 if precise or (0 < abs(pct) < 10 and pct != round(pct)) else 0
        sep = NNBSP if lang == "fr" else ""
        return f"{number(pct, decimals, lang)}{sep}%"
    if unit == "count":
        return number(value, 0 if value == round(value) else 1, lang)
    decimals = 2 if unit == "per_10k" else 1
    text = number(value, decimals, lang)
    word = UNIT_WORDS[lang].get(unit, "")
    return f"{text} {word}" if with_unit and word else text


def fmt_change(now: float, before: float, unit: str, lang: str) -> str:
    """How ``now`` differs from ``before``: +8% (212 against 196), +3.5 points..."""
    w = words(lang)
    if is_missing(now) or is_missing(before):
        return ""
    if unit == "percent":
        diff = (now - before) * 100
        sign = "+" if diff > 0 else ("−" if diff < 0 else "±")
        pts = "pts" if lang == "en" else "pts"
        return f"{sign}{number(abs(diff), 1, lang)} {pts}"
    if before == 0:
        return w("same") if now == 0 else "+" + fmt_value(now, unit, lang, with_unit=False)
    rel = (now - before) / abs(before) * 100
    sign = "+" if rel > 0 else ("−" if rel < 0 else "±")
    sep = NNBSP if lang == "fr" else ""
    return f"{sign}{number(abs(rel), 0, lang)}{sep}%"


def fmt_date(day, lang: str) -> str:
    """28 Dec 2025 / 28 déc. 2025."""
    if day is None or is_missing(day):
        return ""
    return f"{day.day} {MONTHS[lang][day.month - 1]} {day.year}"


def month_label(label: str, lang: str) -> str:
    """'2025-03' -> 'Mar 2025' / 'mars 2025'."""
    year, month = label.split("-")
    return f"{MONTHS[lang][int(month) - 1]} {year}"


def period_name(period_type: str, label: str, lang: str) -> str:
    """A period label for titles: March 2025, 2025-Q1, week 2025-W03, FY2025-26."""
    if period_type == "month":
        year, month = label.split("-")
        return f"{MONTHS_LONG[lang][int(month) - 1]} {year}"
    if period_type == "week":
        return f"{'week' if lang == 'en' else 'semaine'} {label}"
    if period_type == "fiscal_year" and lang == "fr":
        return label.replace("FY", "EB ")
    return label


def status_text(status: object, lang: str, suppressed: bool = False,
                target: object = None) -> str:
    """on track / at risk / off track; 'suppressed'; 'not rated' when there is a target but
    no status (e.g. a partial period); 'no target' otherwise."""
    w = words(lang)
    if suppressed:
        return w("suppressed")
    if status in STATUSES:
        return w(str(status))
    return w("not_rated") if not is_missing(target) else w("no_status")


def status_badge(status: object, lang: str, suppressed: bool = False,
                 target: object = None) -> str:
    """An HTML badge: glyph and words, coloured (the words carry the meaning)."""
    key = status if status in STATUSES and not suppressed else None
    css = key or ("suppressed" if suppressed else "none")
    return (f'<span class="status status-{css}">{STATUS_GLYPHS[key]} '
            f"{esc(status_text(status, lang, suppressed, target))}</span>")


def row_status(row, lang: str) -> str:
    """status_text of an indicator value row (status, suppressed, target)."""
    return status_text(row.get("status"), lang, bool(row.get("suppressed", False)),
                       row.get("target"))


def row_badge(row, lang: str) -> str:
    """status_badge of an indicator value row (status, suppressed, target)."""
    return status_badge(row.get("status"), lang, bool(row.get("suppressed", False)),
                        row.get("target"))


def template() -> go.layout.Template:
    """A light plotly template (plotly's default one is heavy and not colour-blind-safe)."""
    axis = {"gridcolor": "#E6E6E6", "linecolor": "#BBBBBB", "zerolinecolor": "#BBBBBB",
            "automargin": True, "title": {"standoff": 8}}
    return go.layout.Template(layout={
        "font": {"family": FONT_FAMILY, "size": 13, "color": INK},
        "colorway": COLORWAY, "paper_bgcolor": "white", "plot_bgcolor": "white",
        "hoverlabel": {"align": "left", "font": {"family": FONT_FAMILY}},
        "hovermode": "closest", "xaxis": axis, "yaxis": axis,
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    })


def style(fig: go.Figure, lang: str, *, height: int = 380, top: int | None = None
          ) -> go.Figure:
    """The common look and the language's number separators. ``top``: a top margin (pixels)
    with the legend in it, above any subplot titles."""
    fig.update_layout(template=template(), height=height,
                      separators=", " if lang == "fr" else ".,")
    if top is not None:
        fig.update_layout(margin={"t": top},
                          legend={"y": 1.0 - 6 / height, "yanchor": "top", "yref": "container",
                                  "x": 0.01, "xref": "container"})
    return fig


def paper_y(height: int, top: int, below_top: int, bottom: int = 50) -> float:
    """The paper coordinate of a point ``below_top`` pixels under the figure's top edge
    (plotly places menus in paper coordinates: above 1 is in the top margin)."""
    plot = max(height - top - bottom, 1)
    return 1 + (top - below_top) / plot


# Shown in every page's <head>: system fonts only, status badges, cards, tables.
CSS = f"""
:root{{--ink:{INK};--muted:#555;--line:#D0D0D0;--blue:{OKABE_ITO['blue']}}}
body{{font-family:{FONT_FAMILY};color:var(--ink);margin:0;background:#FAFAFA;line-height:1.45}}
header,main,footer{{max-width:78rem;margin:0 auto;padding:0 1.25rem}}
header{{padding-top:1.25rem}} h1{{font-size:1.6rem;margin:.2rem 0}}
h2{{font-size:1.25rem;margin:2rem 0 .4rem;border-top:2px solid var(--line);padding-top:1rem}}
h3{{font-size:1.05rem;margin:1.2rem 0 .3rem}}
.finding{{font-weight:600}} .muted,.note{{color:var(--muted);font-size:.9rem}}
.note{{margin:.3rem 0 1rem}} nav a{{margin-right:1rem}} a{{color:var(--blue)}}
.card-grid{{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:.75rem}}
.card{{background:white;border:1px solid var(--line);border-radius:6px;padding:.7rem .8rem}}
.card .name{{font-size:.9rem;color:var(--muted);min-height:2.6em}}
.card .big{{font-size:1.6rem;font-weight:650;margin:.15rem 0;line-height:1.2}}
.card .big small{{font-size:.9rem;font-weight:500;color:var(--muted)}}
details summary{{cursor:pointer;color:var(--blue);font-size:.9rem}}
.chart{{background:white;border:1px solid var(--line);border-radius:6px;padding:.4rem;
margin:.4rem 0}}
table{{border-collapse:collapse;background:white;font-size:.9rem;margin:.4rem 0 1rem}}
th,td{{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}}
th{{background:#F0F0F0}} td.num{{text-align:right;white-space:nowrap}}
.table-wrap{{overflow-x:auto}}
.status{{display:inline-block;padding:.05rem .45rem;border-radius:3px;border:1px solid;
white-space:nowrap;font-size:.85rem;color:#000}}
.status-on_track{{background:{STATUS_FILLS['on_track']};border-color:{STATUS_COLOURS['on_track']}}}
.status-at_risk{{background:{STATUS_FILLS['at_risk']};border-color:{STATUS_COLOURS['at_risk']}}}
.status-off_track{{background:{STATUS_FILLS['off_track']};
border-color:{STATUS_COLOURS['off_track']}}}
.status-none,.status-suppressed{{background:#F3F3F3;border-color:#AAAAAA}}
.estimate{{background:white;border-left:4px solid var(--blue);padding:.5rem .8rem;margin:.5rem 0}}
.empty{{background:#FFF8E6;border:1px solid {OKABE_ITO['orange']};padding:.6rem .8rem;
border-radius:4px}}
footer{{padding:2rem 1.25rem 3rem}}
"""
