"""Writers for the indicator performance tracking table, as CSV or Excel, in English or French.

The tracking frame has one row per indicator x org unit x period, with the columns of
``TRACKING_COLUMNS``: ``indicator_code``, ``org_unit``, ``level`` (mission/sector/site),
``period``, ``baseline``, ``target``, ``actual`` (numbers; a ``percent`` indicator holds a
fraction, 0.85 = 85 %), ``status`` (``on_track``, ``at_risk``, ``off_track`` or empty) and
``suppressed`` (bool). Where the rows come from is the caller's business.

Choices, documented:

* Every text cell of every output goes through ``neutralise`` (CSV/formula injection, OWASP):
  text starting with ``= + - @``, a tab or a carriage return gets a leading apostrophe. Numbers
  stay numbers. The Excel writer also writes text only as text, never as a formula or URL.
* A suppressed row publishes no number: ``baseline``, ``target`` and ``actual`` are emptied and
  ``status`` too (a status relative to the target would narrow the hidden value). In Excel the
  actual cell shows the word "suppressed"/"masqué"; in CSV the value columns are empty and the
  ``suppressed`` column is True.
* Status is text plus an Okabe-Ito fill (blue, orange, vermillion): never colour alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from pipelines.indicators.catalogue import VALUES

TRACKING_COLUMNS = [
    "indicator_code", "org_unit", "level", "period", "baseline", "target", "actual", "status",
    "suppressed",
]
VALUE_COLUMNS = ["baseline", "target", "actual"]
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
DICTIONARY_COLUMNS = [
    "indicator_code", "indicator", "definition", "cpas_outcome", "sheet", "kind", "unit",
    "direction",
]

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "indicator_code": "Indicator code", "indicator": "Indicator", "org_unit": "Org unit",
        "level": "Level", "period": "Period", "unit": "Unit", "baseline": "Baseline",
        "target": "Target", "actual": "Actual", "status": "Status", "suppressed": "Suppressed",
        "definition": "Definition", "cpas_outcome": "CPAS outcome", "sheet": "Sheet",
        "kind": "Kind", "direction": "Good direction",
        "on_track": "on track", "at_risk": "at risk", "off_track": "off track",
        "suppressed_word": "suppressed", "yes": "yes", "no": "no",
        "dictionary": "Dictionary", "readme": "README",
    },
    "fr": {
        "indicator_code": "Code de l'indicateur", "indicator": "Indicateur",
        "org_unit": "Unité organisationnelle", "level": "Niveau", "period": "Période",
        "unit": "Unité", "baseline": "Référence", "target": "Cible", "actual": "Valeur réelle",
        "status": "Statut", "suppressed": "Masqué", "definition": "Définition",
        "cpas_outcome": "Résultat CPAS", "sheet": "Feuille", "kind": "Type",
        "direction": "Sens souhaité",
        "on_track": "en bonne voie", "at_risk": "à risque", "off_track": "hors trajectoire",
        "suppressed_word": "masqué", "yes": "oui", "no": "non",
        "dictionary": "Dictionnaire", "readme": "Lisez-moi",
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
    for column in VALUE_COLUMNS:
        out[column] = pd.to_numeric(out[column], errors="raise").astype("Float64")
        out.loc[out["suppressed"], column] = pd.NA
    out["status"] = out["status"].astype("object").where(~out["suppressed"], None)
    return out


def write_tracking_csv(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write the tracking table as UTF-8 CSV with a BOM, text neutralised, suppressed emptied."""
    out = _published(frame)
    columns = TRACKING_COLUMNS + [c for c in out.columns if c not in TRACKING_COLUMNS]
    out = out[columns]
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def sheet_names(outcomes: list[str], reserved: tuple[str, ...] = ()) -> dict[str, str]:
    """A valid, unique (case-insensitive) Excel sheet name per outcome, in order."""
    taken = {name.casefold() for name in reserved} | {"history"}
    names: dict[str, str] = {}
    for outcome in outcomes:
        base = SHEET_FORBIDDEN.sub(" ", outcome)
        base = re.sub(r"\s+", " ", base).strip().strip("'").strip() or "Sheet"
        name, n = base[:SHEET_MAX].rstrip(), 1
        while name.casefold() in taken:
            n += 1
            suffix = f" ({n})"
            name = base[: SHEET_MAX - len(suffix)].rstrip() + suffix
        taken.add(name.casefold())
        names[outcome] = name
    return names


class _Sheet:
    """A worksheet that writes only typed, neutralised cells and tracks column widths."""

    def __init__(self, sheet: Worksheet) -> None:
        self.sheet = sheet
        self.widths: dict[int, int] = {}

    def text(self, row: int, col: int, value: str, fmt: Any = None) -> None:
        value = neutralise(value)
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


def write_tracking_xlsx(
    frame: pd.DataFrame, catalogue: pd.DataFrame, path: Path | str, language: str = "en"
) -> Path:
    """Write the tracking table as Excel: a sheet per CPAS outcome, a dictionary and a README."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    labels, values = LABELS[language], VALUES[language]
    out = _published(frame)
    indicators = catalogue.set_index("indicator_code")
    unknown = sorted(set(out["indicator_code"]) - set(indicators.index))
    if unknown:
        raise ValueError(f"indicators not in the catalogue: {unknown}")
    out["cpas_outcome"] = out["indicator_code"].map(indicators["cpas_outcome"])
    used = catalogue[catalogue["indicator_code"].isin(out["indicator_code"])]
    outcomes = list(dict.fromkeys(used["cpas_outcome"]))
    names = sheet_names(outcomes, reserved=(labels["dictionary"], labels["readme"]))

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

    for outcome in outcomes:
        sheet = _Sheet(book.add_worksheet(names[outcome]))
        rows = out[out["cpas_outcome"] == outcome]
        rows = rows.assign(_order=rows["indicator_code"].map(order)).sort_values(
            ["_order", "period", "level", "org_unit"], kind="stable"
        )
        for r, row in enumerate(rows.itertuples(index=False), start=1):
            entry = indicators.loc[row.indicator_code]
            unit = entry["unit"]
            cells = {
                "indicator_code": row.indicator_code,
                "indicator": entry[f"name_{language}"],
                "org_unit": _text(row.org_unit),
                "level": values.get(_text(row.level), _text(row.level)),
                "period": _text(row.period),
                "unit": values.get(unit, unit),
            }
            for col, key in enumerate(SHEET_COLUMNS):
                if key in cells:
                    sheet.text(r, col, cells[key])
                elif key in VALUE_COLUMNS:
                    value = getattr(row, key)
                    if key == "actual" and row.suppressed:
                        sheet.text(r, col, labels["suppressed_word"], masked)
                    elif not pd.isna(value):
                        sheet.number(r, col, float(value), numbers.get(unit, default_number))
                elif key == "status":
                    if row.status in STATUSES:
                        sheet.text(r, col, labels[row.status], status_fmt[row.status])
                elif key == "suppressed":
                    sheet.text(r, col, labels["yes" if row.suppressed else "no"])
        sheet.table([labels[k] for k in SHEET_COLUMNS], len(rows), header)

    dictionary = _Sheet(book.add_worksheet(labels["dictionary"]))
    for r, entry in enumerate(used.itertuples(index=False), start=1):
        cells = {
            "indicator_code": entry.indicator_code,
            "indicator": getattr(entry, f"name_{language}"),
            "definition": getattr(entry, f"definition_{language}"),
            "cpas_outcome": entry.cpas_outcome,
            "sheet": names[entry.cpas_outcome],
            "kind": values.get(entry.kind, entry.kind),
            "unit": values.get(entry.unit, entry.unit),
            "direction": values.get(entry.direction, entry.direction),
        }
        for col, key in enumerate(DICTIONARY_COLUMNS):
            dictionary.text(r, col, cells[key], wrap)
    dictionary.table([labels[k] for k in DICTIONARY_COLUMNS], len(used), header)

    readme = _Sheet(book.add_worksheet(labels["readme"]))
    lines = README[language]
    for r, line in enumerate(lines):
        readme.text(r, 0, line, title if r == 0 else None)
    for r, outcome in enumerate(outcomes, start=len(lines)):
        readme.text(r, 0, f"{names[outcome]}: {outcome}")
    readme.sheet.set_column(0, 0, 120)
    book.close()
    return path
