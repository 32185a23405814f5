"""The indicator catalogue (dbt_project/seeds/indicators/indicators.csv) and its reference docs.

The CSV is the single source: dbt seeds it into ``dim_indicators`` and this module renders it as
Markdown, one section per POC tier, then one per indicator, in English or French. The docs in
``docs/`` are generated, never edited by hand; rewrite them with
``python -m pipelines.indicators.catalogue``.

The CPAS outcome is in ``cpas_outcome`` (English, the outcome's key: exports group indicators by
it) and ``cpas_outcome_fr`` (French), one French label per English outcome; ``outcome_labels``
gives the label of each outcome in a language and refuses a catalogue that breaks that.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

from pipelines.config import DBT_PROJECT_DIR

REPO = Path(__file__).resolve().parents[2]
# the deployment's catalogue (POCMON_HOME's dbt project; the repository's by default)
CATALOGUE_CSV = DBT_PROJECT_DIR / "seeds" / "indicators" / "indicators.csv"
DOCS = {"en": REPO / "docs" / "indicators.md", "fr": REPO / "docs" / "indicators.fr.md"}

COLUMNS = [
    "indicator_code", "name_en", "name_fr", "definition_en", "definition_fr", "cpas_outcome",
    "cpas_outcome_fr", "poc_tier", "phase", "police_role", "kind", "numerator", "denominator",
    "unit", "direction", "aggregation", "disaggregations", "levels", "source_mart", "small_cells",
]
TIERS = ["I", "II", "III"]
# the column holding the CPAS outcome in each language; the English one is the outcome's key
OUTCOME_COLUMNS = {"en": "cpas_outcome", "fr": "cpas_outcome_fr"}
# a dbt var named in the catalogue's text, e.g. {response_target_minutes}
SETTING = re.compile(r"\{([a-z_]+)\}")

# Every word the documents show, per language; catalogue values are translated through VALUES.
TEXT = {
    "en": {
        "title": "Indicator reference",
        "generated": (
            "Generated from `dbt_project/seeds/indicators/indicators.csv` by "
            "`python -m pipelines.indicators.catalogue`: edit the CSV, not this file."
        ),
        "intro": (
            "The indicators below measure what UN police contribute to the protection of "
            "civilians, aligned with the outcomes of the Comprehensive Performance Assessment "
            "System (CPAS). Outputs count what police delivered (what results-based budgeting "
            "reports); outcomes measure what changed for civilians. Numerators and denominators "
            "are expressions over the indicator's source mart; ratios roll up as a sum of "
            "numerators over a sum of denominators, never as a mean of ratios, and are empty "
            "(no data), not 0, when the denominator is 0. Names in `code` within a definition "
            "are run-time settings (dbt vars in `dbt_project/dbt_project.yml`); `dim_indicators` "
            "shows them with the values of the run."
        ),
        "summary": (
            "{n} indicators ({outputs} outputs, {outcomes} outcomes) serving {o} CPAS outcomes."
        ),
        "tier": "Tier {tier}: {label}",
        "colon": ": ",
        "tiers": {
            "I": "protection through dialogue and engagement",
            "II": "provision of physical protection",
            "III": "establishment of a protective environment",
        },
        "table": ["Code", "Indicator", "Kind", "Role", "Phase"],
        "fields": {
            "cpas_outcome": "CPAS outcome",
            "kind": "Kind",
            "police_role": "Police role",
            "phase": "Phase",
            "source_mart": "Computed from",
            "numerator": "Numerator",
            "denominator": "Denominator",
            "unit": "Unit",
            "direction": "Good direction",
            "aggregation": "Aggregation",
            "disaggregations": "Disaggregations",
            "levels": "Levels",
            "small_cells": "Small counts suppressed",
        },
    },
    "fr": {
        "title": "Référentiel des indicateurs",
        "generated": (
            "Généré à partir de `dbt_project/seeds/indicators/indicators.csv` par "
            "`python -m pipelines.indicators.catalogue` : modifier le CSV, pas ce fichier."
        ),
        "intro": (
            "Les indicateurs ci-dessous mesurent la contribution de la police des Nations Unies "
            "à la protection des civils, alignée sur les résultats du Système complet "
            "d'évaluation de la performance (CPAS). Les produits comptent ce que la police a "
            "fourni (ce que rapporte la budgétisation axée sur les résultats) ; les résultats "
            "mesurent ce qui a changé pour les civils. Numérateurs et dénominateurs sont des "
            "expressions sur le mart source de l'indicateur ; les ratios s'agrègent comme une "
            "somme de numérateurs sur une somme de dénominateurs, jamais comme une moyenne de "
            "ratios, et restent vides (pas de données), et non 0, quand le dénominateur est 0. "
            "Les noms en `code` dans une définition sont des paramètres d'exécution (variables "
            "dbt de `dbt_project/dbt_project.yml`) ; `dim_indicators` les affiche avec les "
            "valeurs de l'exécution."
        ),
        "summary": (
            "{n} indicateurs ({outputs} produits, {outcomes} résultats) au service de "
            "{o} résultats CPAS."
        ),
        "tier": "Niveau {tier} : {label}",
        "colon": " : ",
        "tiers": {
            "I": "protection par le dialogue et la concertation",
            "II": "fourniture d'une protection physique",
            "III": "instauration d'un environnement protecteur",
        },
        "table": ["Code", "Indicateur", "Type", "Rôle", "Phase"],
        "fields": {
            "cpas_outcome": "Résultat CPAS",
            "kind": "Type",
            "police_role": "Rôle de la police",
            "phase": "Phase",
            "source_mart": "Calculé à partir de",
            "numerator": "Numérateur",
            "denominator": "Dénominateur",
            "unit": "Unité",
            "direction": "Sens favorable",
            "aggregation": "Agrégation",
            "disaggregations": "Ventilations",
            "levels": "Niveaux",
            "small_cells": "Petits effectifs masqués",
        },
    },
}

VALUES = {
    "en": {
        "output": "output", "outcome": "outcome",
        "compeller": "compeller", "deterrent": "deterrent", "partner": "partner",
        "enabler": "enabler",
        "prevention": "prevention", "pre_emption": "pre-emption", "response": "response",
        "consolidation": "consolidation",
        "up": "up (higher is better)", "down": "down (lower is better)",
        "sum": "sum", "ratio": "ratio of sums", "median": "median of the rows",
        "weighted_ratio": "weighted mean or share",
        "count": "count", "hours": "hours", "percent": "percent", "minutes": "minutes",
        "per_10k": "per 10,000 people", "points": "points", "days": "days",
        "mission": "mission", "sector": "sector", "site": "site", "mode": "patrol mode",
        "range": "patrol range", "unit_type": "unit type", "sex": "sex",
        "category": "category", "patrol_status": "patrolled or not", "site_type": "site type",
        "value": "the value", "numerator": "the numerator",
        "denominator": "the denominator", "numerator_denominator": "numerator and denominator",
        "observations": "rows or respondents behind the value",
    },
    "fr": {
        "output": "produit", "outcome": "résultat",
        "compeller": "coercition", "deterrent": "dissuasion", "partner": "partenariat",
        "enabler": "facilitation",
        "prevention": "prévention", "pre_emption": "préemption", "response": "intervention",
        "consolidation": "consolidation",
        "up": "à la hausse (plus élevé est mieux)", "down": "à la baisse (plus bas est mieux)",
        "sum": "somme", "ratio": "ratio de sommes", "median": "médiane des lignes",
        "weighted_ratio": "moyenne ou proportion pondérée",
        "count": "nombre", "hours": "heures", "percent": "pourcentage", "minutes": "minutes",
        "per_10k": "pour 10 000 habitants", "points": "points", "days": "jours",
        "mission": "mission", "sector": "secteur", "site": "site", "mode": "mode de patrouille",
        "range": "portée de patrouille", "unit_type": "type d'unité", "sex": "sexe",
        "category": "catégorie", "patrol_status": "patrouillé ou non",
        "site_type": "type de site",
        "value": "la valeur", "numerator": "le numérateur",
        "denominator": "le dénominateur", "numerator_denominator": "numérateur et dénominateur",
        "observations": "lignes ou répondants derrière la valeur",
    },
}


def load_catalogue(path: Path | None = None) -> pd.DataFrame:
    """Read the catalogue CSV as text (an empty denominator stays ""), in file order."""
    frame = pd.read_csv(path or CATALOGUE_CSV, dtype=str, keep_default_na=False)
    missing = set(COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(f"indicator catalogue lacks columns: {sorted(missing)}")
    return frame[COLUMNS]


def outcome_labels(catalogue: pd.DataFrame, language: str) -> dict[str, str]:
    """Each CPAS outcome of the catalogue (its English text, the key), in catalogue order, with
    its label in the language.

    Raises ValueError when the catalogue lacks the language's column, when a label is empty, or
    when the labels are not one per outcome (an outcome with two labels, or two outcomes with
    the same label): an export would then merge or split its sheets.
    """
    if language not in OUTCOME_COLUMNS:
        raise ValueError(f"language must be one of {sorted(OUTCOME_COLUMNS)}, not {language!r}")
    column = OUTCOME_COLUMNS[language]
    if column not in catalogue.columns:
        raise ValueError(f"the indicator catalogue lacks the column {column}")
    keys = catalogue["cpas_outcome"].astype(object)
    labels = catalogue[column].astype(object)
    empty = [code for code, label in zip(catalogue["indicator_code"], labels, strict=True)
             if label is None or pd.isna(label) or not str(label).strip()]
    if empty:
        raise ValueError(f"indicators without a {column}: {empty}")
    pairs = pd.DataFrame({"key": keys.astype(str), "label": labels.astype(str).str.strip()})
    pairs = pairs.drop_duplicates()
    twice = sorted(set(pairs.loc[pairs["key"].duplicated(), "key"]))
    if twice:
        raise ValueError(f"CPAS outcomes with more than one {column}: {twice}")
    shared = sorted(set(pairs.loc[pairs["label"].duplicated(), "label"]))
    if shared:
        raise ValueError(f"{column} labels given to more than one CPAS outcome: {shared}")
    return dict(zip(pairs["key"], pairs["label"], strict=True))


def _value(language: str, value: str, unit: bool = False) -> str:
    """A catalogue value in the language; the unit "ratio" is not the aggregation "ratio"."""
    if unit and value == "ratio":
        return value
    return VALUES[language].get(value, value)


def _prose(text: str) -> str:
    """Definition text: a dbt var in braces becomes its name in code."""
    return SETTING.sub(r"`\1`", text)


def _split(language: str, text: str) -> str:
    return ", ".join(_value(language, part) for part in text.split("|") if part)


def render_reference(catalogue: pd.DataFrame, language: str = "en") -> str:
    """The catalogue as Markdown: a section per POC tier, then one per indicator."""
    if language not in TEXT:
        raise ValueError(f"language must be one of {sorted(TEXT)}, not {language!r}")
    text = TEXT[language]
    fields = text["fields"]
    outcomes = outcome_labels(catalogue, language)
    kinds = catalogue["kind"].value_counts()
    lines = [
        f"# {text['title']}",
        "",
        f"_{text['generated']}_",
        "",
        text["intro"],
        "",
        text["summary"].format(
            n=len(catalogue),
            outputs=int(kinds.get("output", 0)),
            outcomes=int(kinds.get("outcome", 0)),
            o=len(outcomes),
        ),
        "",
    ]
    for tier in TIERS:
        rows = catalogue[catalogue["poc_tier"] == tier]
        if rows.empty:
            continue
        lines += [f"## {text['tier'].format(tier=tier, label=text['tiers'][tier])}", ""]
        lines += [
            "| " + " | ".join(text["table"]) + " |",
            "|" + "---|" * len(text["table"]),
        ]
        for row in rows.itertuples(index=False):
            name = getattr(row, f"name_{language}")
            lines.append(
                f"| `{row.indicator_code}` | {name} | {_value(language, row.kind)} | "
                f"{_value(language, row.police_role)} | {_value(language, row.phase)} |"
            )
        lines.append("")
        for row in rows.itertuples(index=False):
            facts = [
                ("cpas_outcome", outcomes[row.cpas_outcome]),
                ("kind", _value(language, row.kind)),
                ("police_role", _value(language, row.police_role)),
                ("phase", _value(language, row.phase)),
                ("source_mart", f"`{row.source_mart}`"),
                ("numerator", f"`{row.numerator}`"),
                ("denominator", f"`{row.denominator}`" if row.denominator else ""),
                ("unit", _value(language, row.unit, unit=True)),
                ("direction", _value(language, row.direction)),
                ("aggregation", _value(language, row.aggregation)),
                ("disaggregations", _split(language, row.disaggregations)),
                ("levels", _split(language, row.levels)),
                ("small_cells",
                 "" if row.small_cells == "none" else _value(language, row.small_cells)),
            ]
            lines += [
                f"### {row.indicator_code} — {getattr(row, f'name_{language}')}",
                "",
                _prose(getattr(row, f"definition_{language}")),
                "",
            ]
            lines += [f"- **{fields[key]}**{text['colon']}{value}" for key, value in facts if value]
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def write_reference(
    path: Path, language: str = "en", catalogue: pd.DataFrame | None = None
) -> Path:
    """Write the reference doc in one language to path (UTF-8, LF line endings)."""
    catalogue = load_catalogue() if catalogue is None else catalogue
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_reference(catalogue, language), encoding="utf-8", newline="\n")
    return path


def main() -> int:
    """Rewrite docs/indicators.md (English) and docs/indicators.fr.md (French)."""
    catalogue = load_catalogue()
    for language, path in DOCS.items():
        write_reference(path, language, catalogue)
        print(f"wrote {path.relative_to(REPO)} ({len(catalogue)} indicators)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
