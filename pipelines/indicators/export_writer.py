"""Writers for the indicator performance tracking table, as CSV or Excel, in English or French.

The tracking frame has one row per indicator x org unit x period, with the columns of
``TRACKING_COLUMNS``: ``indicator_code``, ``org_unit``, ``level`` (mission/sector/site),
``period``, ``baseline``, ``target``, ``actual`` (numbers; a ``percent`` indicator holds a
fraction, 0.85 = 85 %), ``status`` (``on_track``, ``at_risk``, ``off_track`` or empty) and
``suppressed`` (bool). Where the rows come from is the caller's business.

Optional columns, written when the frame has them: ``org_unit_id``, ``parent_org_unit``,
``period_type``, ``disaggregation``, ``disaggregation_value`` (text) and ``ci_low``, ``ci_high``
(numbers in the indicator's unit; emptied on suppressed rows like the values). A ``row_order``
column, when present, orders the rows of each indicator in the Excel sheets (otherwise: period,
level, org unit); it is the caller's helper and is not written. Any other extra column goes to
the CSV only, after ``TRACKING_COLUMNS``.

Choices, documented:

* Every text cell of every output goes through ``neutralise`` (CSV/formula injection, OWASP):
  text starting with ``= + - @``, a tab or a carriage return gets a leading apostrophe. Numbers
  stay numbers. The Excel writer also writes text only as text, never as a formula or URL.
* A suppressed row publishes no number: ``baseline``, ``target`` and ``actual`` are emptied and
  ``status`` too (a status relative to the target would narrow the hidden value). In Excel the
  actual cell shows the word "suppressed"/"masqué"; in CSV the value columns are empty and the
  ``suppressed`` column is True.
* Status is text plus an Okabe-Ito fill (blue, orange, vermillion): never colour alone.
* CPAS outcomes are shown in the language (``cpas_outcome`` in English, ``cpas_outcome_fr`` in
  French: sheet names, the dictionary's outcome cells, the README's list of sheets). Sheets
  follow the catalogue order of the outcomes, the same in both languages.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from pipelines.indicators.catalogue import VALUES, outcome_labels

TRACKING_COLUMNS = [
    "indicator_code", "org_unit", "level", "period", "baseline", "target", "actual", "status",
    "suppressed",
]
VALUE_COLUMNS = ["baseline", "target", "actual"]
# optional numbers in the indicator's unit, emptied on suppressed rows like the values
INTERVAL_COLUMNS = ["ci_low", "ci_high"]
ORDER_COLUMN = "row_order"
STATUSES = ("on_track", "at_risk", "off_track")
INJECTION_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LANGUAGES = ("en", "fr")

# Excel number format per catalogue unit; percent values are fractions.
NUMBER_FORMATS = {
    "percent": "0.0%", "count": "#,##0", "minutes": "0.0", "hours": "0.0", "days": "0.0",
    "points": "0.0", "per_10k": "0.00",
}
DEFAULT_NUMBER_FORMAT = "0.00"

# Okabe-Ito colour-blind-safe palette: light fills keep black text legible.
STATUS_FILLS = {"on_track": "#9ECAE9", "at_risk": "#F5C26B", "off_track": "#E8896B"}
STATUS_BORDERS = {"on_track": "#0072B2", "at_risk": "#E69F00", "off_track": "#D55E00"}

# Sheet tracking-table columns: (label key, source).
SHEET_COLUMNS = [
    "indicator_code", "indicator", "org_unit", "level", "period", "unit", "baseline", "target",
    "actual", "status", "suppressed",
]
# Every column a sheet can show, in order: SHEET_COLUMNS always, the others when in the frame.
ALL_SHEET_COLUMNS = [
    "indicator_code", "indicator", "org_unit", "org_unit_id", "parent_org_unit", "level",
    "period", "period_type", "disaggregation", "disaggregation_value", "unit", "baseline",
    "target", "actual", "ci_low", "ci_high", "status", "partial_period", "suppressed",
]
OPTIONAL_TEXT_COLUMNS = ["org_unit_id", "parent_org_unit", "period_type", "disaggregation",
                         "disaggregation_value"]
DICTIONARY_COLUMNS = [
    "indicator_code", "indicator", "definition", "cpas_outcome", "sheet", "kind", "unit",
    "direction", "numerator", "denominator", "aggregation",
]

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "indicator_code": "Indicator code", "indicator": "Indicator", "org_unit": "Org unit",
        "level": "Level", "period": "Period", "unit": "Unit", "baseline": "Baseline",
        "target": "Target", "actual": "Actual", "status": "Status", "suppressed": "Suppressed",
        "partial_period": "Partial period",
        "definition": "Definition", "cpas_outcome": "CPAS outcome", "sheet": "Sheet",
        "kind": "Kind", "direction": "Good direction",
        "on_track": "on track", "at_risk": "at risk", "off_track": "off track",
        "suppressed_word": "suppressed", "yes": "yes", "no": "no",
        "dictionary": "Dictionary", "readme": "README",
        "org_unit_id": "Org unit ID", "parent_org_unit": "Parent org unit",
        "period_type": "Period type", "disaggregation": "Disaggregation",
        "disaggregation_value": "Category", "ci_low": "95% CI low", "ci_high": "95% CI high",
        "numerator": "Numerator", "denominator": "Denominator", "aggregation": "Aggregation",
        "week": "week", "month": "month", "quarter": "quarter", "fiscal_year": "fiscal year",
        "total": "total", "columns": "Columns:", "colon": ": ",
    },
    "fr": {
        "indicator_code": "Code de l'indicateur", "indicator": "Indicateur",
        "org_unit": "Unité organisationnelle", "level": "Niveau", "period": "Période",
        "unit": "Unité", "baseline": "Référence", "target": "Cible", "actual": "Valeur réelle",
        "status": "Statut", "suppressed": "Masqué",
        "partial_period": "Période partielle", "definition": "Définition",
        "cpas_outcome": "Résultat CPAS", "sheet": "Feuille", "kind": "Type",
        "direction": "Sens souhaité",
        "on_track": "en bonne voie", "at_risk": "à risque", "off_track": "hors trajectoire",
        "suppressed_word": "masqué", "yes": "oui", "no": "non",
        "dictionary": "Dictionnaire", "readme": "Lisez-moi",
        "org_unit_id": "Code de l'unité", "parent_org_unit": "Unité de rattachement",
        "period_type": "Type de période", "disaggregation": "Ventilation",
        "disaggregation_value": "Catégorie", "ci_low": "IC 95 % bas",
        "ci_high": "IC 95 % haut", "numerator": "Numérateur", "denominator": "Dénominateur",
        "aggregation": "Agrégation",
        "week": "semaine", "month": "mois", "quarter": "trimestre",
        "fiscal_year": "exercice budgétaire", "total": "total", "columns": "Colonnes :",
        "colon": " : ",
    },
}

README: dict[str, list[str]] = {
    "en": [
        "Indicator performance tracking table",
        "",
        "One row per indicator, org unit and period, with the baseline, the target, the actual "
        "value and its status. One sheet per CPAS outcome (listed below); the Dictionary sheet "
        "defines each indicator.",
        "Status: on track, at risk or off track, written as text; the cell colour (blue, orange, "
        "vermillion) only repeats it.",
        "Suppressed values: small counts that could identify people are not published. The "
        "actual value cell shows \"suppressed\" (never a blank) and the Suppressed column says "
        "yes; baseline, target and status are left empty on that row so the value cannot be "
        "derived. A blank value without \"suppressed\" means no data.",
        "Percentages are shown with one decimal; counts as whole numbers; durations in minutes, "
        "hours or days with one decimal; rates per 10,000 people with two decimals.",
        "Text starting with =, +, -, @ or a control character is prefixed with an apostrophe (') "
        "so that spreadsheets show it as text and never run it as a formula.",
        "",
        "Sheets and CPAS outcomes:",
    ],
    "fr": [
        "Tableau de suivi de la performance des indicateurs",
        "",
        "Une ligne par indicateur, unité organisationnelle et période, avec la référence, la "
        "cible, la valeur réelle et son statut. Une feuille par résultat CPAS (liste ci-dessous) ; "
        "la feuille Dictionnaire définit chaque indicateur.",
        "Statut : en bonne voie, à risque ou hors trajectoire, écrit en toutes lettres ; la "
        "couleur de la cellule (bleu, orange, vermillon) ne fait que le répéter.",
        "Valeurs masquées : les petits effectifs qui pourraient identifier des personnes ne sont "
        "pas publiés. La cellule de la valeur réelle indique « masqué » (jamais vide) et la "
        "colonne Masqué indique oui ; la référence, la cible et le statut sont laissés vides sur "
        "cette ligne pour que la valeur ne puisse pas être déduite. Une valeur vide sans "
        "« masqué » signifie une absence de données.",
        "Les pourcentages ont une décimale ; les effectifs sont des nombres entiers ; les durées "
        "en minutes, heures ou jours ont une décimale ; les taux pour 10 000 habitants en ont "
        "deux.",
        "Un texte commençant par =, +, -, @ ou un caractère de contrôle est précédé d'une "
        "apostrophe (') pour que le tableur l'affiche comme du texte et ne l'exécute jamais "
        "comme une formule.",
        "",
        "Feuilles et résultats CPAS :",
    ],
}

# What each column of the tracking table holds, for the data dictionary (CSV) and the README
# sheet (Excel). Where the two differ, the note says how each shows it.
COLUMN_NOTES: dict[str, dict[str, str]] = {
    "en": {
        "indicator_code": "Code of the indicator in the catalogue (see the indicators in this "
        "dictionary).",
        "indicator": "Name of the indicator.",
        "org_unit": "Name of the mission, sector or site the row is about.",
        "org_unit_id": "Identifier of the mission, sector or site.",
        "parent_org_unit": "Name of the unit above it (a site's sector, a sector's mission); "
        "empty for a mission.",
        "level": "Level of the org unit: mission, sector or site.",
        "period": "Period label: FY2025-26 is the UN fiscal year (1 July to 30 June), 2025-Q3 a "
        "calendar quarter, 2025-09 a month, 2025-W14 an ISO week (a week counts in the month "
        "of its Thursday). The table holds the requested period and the periods one level "
        "below it.",
        "period_type": "Type of period: week, month, quarter or fiscal year.",
        "period_start": "First day of the period (YYYY-MM-DD).",
        "period_end": "Last day of the period (YYYY-MM-DD).",
        "disaggregation": "Dimension the row is broken down by (e.g. patrol mode, sex); "
        "\"total\" for the row of all categories together.",
        "disaggregation_value": "Category of that dimension; \"total\" on total rows.",
        "unit": "Unit of the baseline, target and actual value.",
        "baseline": "Value the indicator started from, the reference for the target.",
        "target": "Value to reach in the period. For shares, rates and medians the fiscal "
        "year's target also applies to its quarters, months and weeks.",
        "actual": "Value measured in the period. Percentages are fractions in the CSV (0.85 = "
        "85 %) and formatted as percentages in Excel. Empty when there is no data; "
        "\"suppressed\" in Excel (empty in the CSV) when the value is withheld.",
        "ci_low": "Lower bound of the 95 % confidence interval of a survey share; empty for "
        "other indicators.",
        "ci_high": "Upper bound of the 95 % confidence interval of a survey share; empty for "
        "other indicators.",
        "status": "Actual value against the target: on track, at risk or off track "
        "(on_track, at_risk, off_track in the CSV), allowing for the indicator's good "
        "direction. Empty when there is no target, no data, or the value is suppressed.",
        "partial_period": "yes (True in the CSV) when the data cover only part of the period "
        "(a fiscal year in progress): a total is then partial and gets no status against the "
        "whole period's target.",
        "suppressed": "yes (True in the CSV) when a small count that could identify people is "
        "withheld, or when another value is withheld so that it cannot be worked out from the "
        "totals; baseline, target, actual and status are then empty.",
    },
    "fr": {
        "indicator_code": "Code de l'indicateur dans le référentiel (voir les indicateurs de "
        "ce dictionnaire).",
        "indicator": "Nom de l'indicateur.",
        "org_unit": "Nom de la mission, du secteur ou du site concerné par la ligne.",
        "org_unit_id": "Identifiant de la mission, du secteur ou du site.",
        "parent_org_unit": "Nom de l'unité de rattachement (le secteur d'un site, la mission "
        "d'un secteur) ; vide pour une mission.",
        "level": "Niveau de l'unité : mission, secteur ou site.",
        "period": "Libellé de la période : FY2025-26 est l'exercice budgétaire de l'ONU (du "
        "1er juillet au 30 juin), 2025-Q3 un trimestre civil, 2025-09 un mois, 2025-W14 une "
        "semaine ISO (une semaine compte dans le mois de son jeudi). Le tableau contient la "
        "période demandée et les périodes du niveau juste en dessous.",
        "period_type": "Type de période : semaine, mois, trimestre ou exercice budgétaire.",
        "period_start": "Premier jour de la période (AAAA-MM-JJ).",
        "period_end": "Dernier jour de la période (AAAA-MM-JJ).",
        "disaggregation": "Dimension de ventilation de la ligne (p. ex. mode de patrouille, "
        "sexe) ; « total » pour la ligne de l'ensemble des catégories.",
        "disaggregation_value": "Catégorie de cette dimension ; « total » sur les lignes de "
        "total.",
        "unit": "Unité de la référence, de la cible et de la valeur réelle.",
        "baseline": "Valeur de départ de l'indicateur, référence de la cible.",
        "target": "Valeur à atteindre sur la période. Pour les proportions, taux et médianes, "
        "la cible de l'exercice budgétaire s'applique aussi à ses trimestres, mois et "
        "semaines.",
        "actual": "Valeur mesurée sur la période. Les pourcentages sont des fractions dans le "
        "CSV (0,85 = 85 %) et affichés en pourcentage dans Excel. Vide en l'absence de "
        "données ; « masqué » dans Excel (vide dans le CSV) quand la valeur n'est pas publiée.",
        "ci_low": "Borne inférieure de l'intervalle de confiance à 95 % d'une proportion "
        "d'enquête ; vide pour les autres indicateurs.",
        "ci_high": "Borne supérieure de l'intervalle de confiance à 95 % d'une proportion "
        "d'enquête ; vide pour les autres indicateurs.",
        "status": "Valeur réelle rapportée à la cible : en bonne voie, à risque ou hors "
        "trajectoire (on_track, at_risk, off_track dans le CSV), selon le sens souhaité de "
        "l'indicateur. Vide sans cible, sans données ou quand la valeur est masquée.",
        "partial_period": "oui (True dans le CSV) quand les données ne couvrent qu'une partie "
        "de la période (un exercice en cours) : un total est alors partiel et n'a pas de "
        "statut par rapport à la cible de toute la période.",
        "suppressed": "oui (True dans le CSV) quand un petit effectif qui pourrait identifier "
        "des personnes n'est pas publié, ou quand une autre valeur est masquée pour qu'il ne "
        "puisse pas être déduit des totaux ; la référence, la cible, la valeur réelle et le "
        "statut sont alors vides.",
    },
}

# The data dictionary as CSV: the columns of the tracking table, then the indicators.
DICTIONARY_CSV_COLUMNS = [
    "entry", "name", "label", "description", "unit", "direction", "cpas_outcome", "kind",
    "numerator", "denominator", "aggregation",
]

SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_MAX = 31


def neutralise(value: Any) -> Any:
    """Prefix text that a spreadsheet would read as a formula with ``'``; return the rest as is."""
    if isinstance(value, str) and value.startswith(INJECTION_PREFIXES):
        return "'" + value
    return value


def _check(frame: pd.DataFrame) -> None:
    missing = [c for c in TRACKING_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"tracking frame lacks columns: {missing}")
    status = frame["status"].dropna()
    unknown = sorted(set(status[status != ""]) - set(STATUSES))
    if unknown:
        raise ValueError(f"unknown status values: {unknown}")


def _published(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every value and the status of suppressed rows emptied."""
    _check(frame)
    out = frame.copy()
    out["suppressed"] = out["suppressed"].fillna(False).astype(bool)
    for column in VALUE_COLUMNS + [c for c in INTERVAL_COLUMNS if c in out.columns]:
        out[column] = pd.to_numeric(out[column], errors="raise").astype("Float64")
        out.loc[out["suppressed"], column] = pd.NA
    out["status"] = out["status"].astype("object").where(~out["suppressed"], None)
    return out


def write_tracking_csv(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write the tracking table as UTF-8 CSV with a BOM, text neutralised, suppressed emptied."""
    out = _published(frame)
    if ORDER_COLUMN in out.columns:
        out = out.sort_values(ORDER_COLUMN, kind="stable").drop(columns=ORDER_COLUMN)
    columns = TRACKING_COLUMNS + [c for c in out.columns if c not in TRACKING_COLUMNS]
    out = out[columns]
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _shorten(text: str, limit: int) -> str:
    """Text cut to ``limit`` characters at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;-") + "…"


def sheet_names(outcomes: list[str], reserved: tuple[str, ...] = ()) -> dict[str, str]:
    """A valid, unique (case-insensitive) Excel sheet name per outcome, in order; long
    outcomes are cut at a word boundary with an ellipsis (the README sheet lists them whole)."""
    taken = {name.casefold() for name in reserved} | {"history"}
    names: dict[str, str] = {}
    for outcome in outcomes:
        base = SHEET_FORBIDDEN.sub(" ", outcome)
        base = re.sub(r"\s+", " ", base).strip().strip("'").strip() or "Sheet"
        name, n = _shorten(base, SHEET_MAX), 1
        while name.casefold() in taken:
            n += 1
            suffix = f" ({n})"
            name = _shorten(base, SHEET_MAX - len(suffix)) + suffix
        taken.add(name.casefold())
        names[outcome] = name
    return names


def outcome_sheets(catalogue: pd.DataFrame, language: str) -> dict[str, tuple[str, str]]:
    """For each CPAS outcome of the catalogue (its English text), in catalogue order: its label
    in the language and the name of its sheet in a workbook of that language.

    Raises ValueError when the catalogue has no label for an outcome in the language (see
    ``pipelines.indicators.catalogue.outcome_labels``).
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    labels = outcome_labels(catalogue, language)
    reserved = (LABELS[language]["dictionary"], LABELS[language]["readme"])
    names = sheet_names(list(labels.values()), reserved=reserved)
    return {outcome: (label, names[label]) for outcome, label in labels.items()}


class _Sheet:
    """A worksheet that writes only typed, neutralised cells and tracks column widths."""

    def __init__(self, sheet: Worksheet) -> None:
        self.sheet = sheet
        self.widths: dict[int, int] = {}

    def text(self, row: int, col: int, value: str, fmt: Any = None) -> None:
        value = neutralise(value)
        if value == "":  # an empty cell, not an empty string
            self.sheet.write_blank(row, col, None, fmt)
            return
        self.sheet.write_string(row, col, value, fmt)
        longest = max((len(line) for line in value.splitlines()), default=0)
        self.widths[col] = max(self.widths.get(col, 0), longest)

    def number(self, row: int, col: int, value: float, fmt: Any = None) -> None:
        self.sheet.write_number(row, col, value, fmt)
        self.widths[col] = max(self.widths.get(col, 0), 10)

    def table(self, headers: list[str], rows: int, header_fmt: Any, max_width: int = 60) -> None:
        """Header row, frozen at A2, with an autofilter and widths that fit the content."""
        for col, header in enumerate(headers):
            self.text(0, col, header, header_fmt)
        self.sheet.freeze_panes(1, 0)
        self.sheet.autofilter(0, 0, max(rows, 1), len(headers) - 1)
        for col, width in self.widths.items():
            self.sheet.set_column(col, col, min(max(width + 2, 8), max_width))


def _text(value: Any) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _value(values: dict[str, str], value: Any, unit: bool = False) -> str:
    """A catalogue value in the language; the unit "ratio" is not the aggregation "ratio"."""
    text = _text(value)
    if unit and text == "ratio":
        return text
    return values.get(text, text)


def _dictionary_entry(entry: Any, language: str, outcomes: dict[str, str]) -> dict[str, str]:
    """One catalogue row as the dictionary shows it, in the language; ``outcomes`` gives the
    label of each CPAS outcome in it (``outcome_labels``)."""
    values = VALUES[language]
    return {
        "indicator_code": _text(entry.indicator_code),
        "indicator": _text(getattr(entry, f"name_{language}")),
        "definition": _text(getattr(entry, f"definition_{language}")),
        "cpas_outcome": outcomes[entry.cpas_outcome],
        "kind": _value(values, getattr(entry, "kind", "")),
        "unit": _value(values, entry.unit, unit=True),
        "direction": _value(values, entry.direction),
        "numerator": _text(getattr(entry, "numerator", "")),
        "denominator": _text(getattr(entry, "denominator", "")),
        "aggregation": _value(values, getattr(entry, "aggregation", "")),
    }


def sheet_columns(frame: pd.DataFrame) -> list[str]:
    """The columns an Excel sheet shows for this frame: the base ones and the optional present."""
    return [c for c in ALL_SHEET_COLUMNS if c in SHEET_COLUMNS or c in frame.columns]


def write_tracking_xlsx(
    frame: pd.DataFrame, catalogue: pd.DataFrame, path: Path | str, language: str = "en"
) -> Path:
    """Write the tracking table as Excel: a sheet per CPAS outcome, a dictionary and a README."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    labels, values = LABELS[language], VALUES[language]
    out = _published(frame)
    indicators = catalogue.set_index("indicator_code")
    entries = indicators.to_dict("index")  # a dict per indicator: no .loc per row
    unknown = sorted(set(out["indicator_code"]) - set(indicators.index))
    if unknown:
        raise ValueError(f"indicators not in the catalogue: {unknown}")
    out["cpas_outcome"] = out["indicator_code"].map(indicators["cpas_outcome"])
    used = catalogue[catalogue["indicator_code"].isin(out["indicator_code"])]
    # keyed by the English outcome; label and sheet name in the language
    sheets = outcome_sheets(used, language)
    outcomes = list(sheets)
    shown = {outcome: label for outcome, (label, _) in sheets.items()}
    names = {outcome: name for outcome, (_, name) in sheets.items()}
    columns = sheet_columns(frame)
    numeric = set(VALUE_COLUMNS) | set(INTERVAL_COLUMNS)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
    })
    header = book.add_format({"bold": True, "bg_color": "#D9D9D9", "bottom": 1,
                              "text_wrap": True, "valign": "top"})
    numbers = {unit: book.add_format({"num_format": f}) for unit, f in NUMBER_FORMATS.items()}
    default_number = book.add_format({"num_format": DEFAULT_NUMBER_FORMAT})
    status_fmt = {
        s: book.add_format({"bg_color": STATUS_FILLS[s], "border": 1,
                            "border_color": STATUS_BORDERS[s]})
        for s in STATUSES
    }
    masked = book.add_format({"italic": True, "align": "right", "font_color": "#595959"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    title = book.add_format({"bold": True, "font_size": 14})
    order = {code: i for i, code in enumerate(catalogue["indicator_code"])}
    within = [ORDER_COLUMN] if ORDER_COLUMN in out.columns else ["period", "level", "org_unit"]

    for outcome in outcomes:
        sheet = _Sheet(book.add_worksheet(names[outcome]))
        rows = out[out["cpas_outcome"] == outcome]
        rows = rows.assign(_order=rows["indicator_code"].map(order)).sort_values(
            ["_order", *within], kind="stable"
        )
        for r, row in enumerate(rows.to_dict("records"), start=1):
            entry = entries[row["indicator_code"]]
            unit = entry["unit"]
            cells = {
                "indicator_code": row["indicator_code"],
                "indicator": _text(entry[f"name_{language}"]),
                "org_unit": _text(row["org_unit"]),
                "level": _value(values, row["level"]),
                "period": _text(row["period"]),
                "unit": _value(values, unit, unit=True),
                "org_unit_id": _text(row.get("org_unit_id")),
                "parent_org_unit": _text(row.get("parent_org_unit")),
                "period_type": labels.get(_text(row.get("period_type")),
                                          _text(row.get("period_type"))),
                "disaggregation": labels.get(_text(row.get("disaggregation")),
                                             _value(values, row.get("disaggregation"))),
                "disaggregation_value": labels.get(_text(row.get("disaggregation_value")),
                                                   _text(row.get("disaggregation_value"))),
            }
            for col, key in enumerate(columns):
                if key in cells:
                    sheet.text(r, col, cells[key])
                elif key in numeric:
                    value = row[key]
                    if key == "actual" and row["suppressed"]:
                        sheet.text(r, col, labels["suppressed_word"], masked)
                    elif not pd.isna(value):
                        sheet.number(r, col, float(value), numbers.get(unit, default_number))
                elif key == "status":
                    if row["status"] in STATUSES:
                        sheet.text(r, col, labels[row["status"]], status_fmt[row["status"]])
                elif key in ("suppressed", "partial_period"):
                    sheet.text(r, col, labels["yes" if row[key] else "no"])
        sheet.table([labels[k] for k in columns], len(rows), header)

    dictionary = _Sheet(book.add_worksheet(labels["dictionary"]))
    for r, entry in enumerate(used.itertuples(index=False), start=1):
        cells = _dictionary_entry(entry, language, shown)
        cells["sheet"] = names[entry.cpas_outcome]
        for col, key in enumerate(DICTIONARY_COLUMNS):
            dictionary.text(r, col, cells[key], wrap)
    dictionary.table([labels[k] for k in DICTIONARY_COLUMNS], len(used), header)

    readme = _Sheet(book.add_worksheet(labels["readme"]))
    lines = [
        *README[language],
        *(f"{name}{labels['colon']}{label}" for label, name in sheets.values()),
        "",
        labels["columns"],
        *(f"{labels[key]}{labels['colon']}{COLUMN_NOTES[language][key]}" for key in columns),
    ]
    for r, line in enumerate(lines):
        readme.text(r, 0, line, title if r == 0 else wrap)
    readme.sheet.set_column(0, 0, 120)
    book.close()
    return path


def write_dictionary_csv(
    catalogue: pd.DataFrame, columns: list[str], path: Path | str, language: str = "en"
) -> Path:
    """Write the data dictionary of a tracking CSV: its columns, then the indicators in it.

    One table with ``DICTIONARY_CSV_COLUMNS``: ``entry`` is ``column`` (``name`` is the CSV
    column, ``label`` its name in the language, ``description`` what it holds) or ``indicator``
    (``name`` is the code; label, definition, unit, direction, CPAS outcome, kind, numerator,
    denominator and aggregation from the catalogue, in the language; the catalogue needs the
    outcome column of the language, see ``outcome_labels``). Text neutralised, UTF-8
    with a BOM like the tracking CSV.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    labels, notes = LABELS[language], COLUMN_NOTES[language]
    outcomes = outcome_labels(catalogue, language)
    unknown = [c for c in columns if c not in notes]
    if unknown:
        raise ValueError(f"no dictionary note for columns: {unknown}")
    rows = [
        {"entry": "column", "name": column, "label": labels.get(column, column),
         "description": notes[column]}
        for column in columns
    ]
    for entry in catalogue.itertuples(index=False):
        cells = _dictionary_entry(entry, language, outcomes)
        rows.append({
            "entry": "indicator", "name": cells["indicator_code"], "label": cells["indicator"],
            "description": cells["definition"],
            **{k: cells[k] for k in DICTIONARY_CSV_COLUMNS[4:]},
        })
    out = pd.DataFrame(rows, columns=DICTIONARY_CSV_COLUMNS).fillna("")
    out = out.map(neutralise)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, encoding="utf-8-sig")
    return path
