"""The CPAS-aligned indicator catalogue: its content, its generated docs, and dim_indicators.

The catalogue CSV is the single source of the indicator definitions: dbt seeds it into
dim_indicators and pipelines.indicators.catalogue renders docs/indicators.md and
docs/indicators.fr.md from it, so the docs are checked to be exactly what the CSV gives now.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from pipelines.indicators.catalogue import DOCS, load_catalogue, outcome_labels, render_reference
from pipelines.ingest.warehouse import connect

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")

REQUIRED = {
    # outputs that results-based budgeting reports today
    "PAT_COUNT", "PAT_PERSON_HOURS", "PAT_JOINT_HOST_POLICE", "TRN_SESSIONS",
    "TRN_OFFICERS_TRAINED", "STR_DEPLOYMENT_RATE", "STR_FPU_OP_DAYS",
    # response
    "RSP_WITHIN_TARGET", "RSP_MEDIAN_MINUTES",
    # deterrence
    "DET_INC_RATE", "DET_REPEAT_DISPLACEMENT", "DET_HOTSPOT_DOSE",
    # trust and reporting, perceptions
    "TRU_COMMUNITY_FIRST", "PER_FEELS_SAFE", "PER_TRUST_HOST_POLICE",
    # capacity
    "CAP_TEST_GAIN", "CAP_CERTIFIED_SHARE", "CAP_HOST_POLICE_JOINT",
    # gender
    "GEN_WOMEN_PH_SHARE", "GEN_WOMEN_TRAINEES_SHARE", "GEN_SGBV_REFERRED_72H",
    # data quality
    "DQ_COMPLETENESS", "DQ_TIMELINESS",
}
DISAGGREGATIONS = {"mission", "sector", "site", "mode", "range", "unit_type", "sex", "category",
                   "patrol_status", "site_type"}
MARTS = {"fct_patrols", "fct_incidents", "fct_alert_responses", "fct_site_weeks",
         "fct_trainings", "fct_strength_monthly", "fct_survey_site_rounds", "fct_reporting_returns",
         "fct_unit_weeks"}


@pytest.fixture(scope="module")
def catalogue() -> pd.DataFrame:
    return load_catalogue()


def test_catalogue_covers_tiers_roles_phases_and_outcomes(catalogue: pd.DataFrame) -> None:
    assert len(catalogue) >= 24
    assert catalogue["cpas_outcome"].nunique() >= 12
    assert set(catalogue["poc_tier"]) == {"I", "II", "III"}
    assert set(catalogue["police_role"]) == {"compeller", "deterrent", "partner", "enabler"}
    assert set(catalogue["phase"]) == {"prevention", "pre_emption", "response", "consolidation"}
    assert set(catalogue["kind"]) == {"output", "outcome"}


def test_codes_are_unique_and_every_named_indicator_is_there(catalogue: pd.DataFrame) -> None:
    codes = catalogue["indicator_code"]
    assert codes.is_unique
    assert codes.str.fullmatch(r"[A-Z]+(_[A-Z0-9]+)+").all()
    assert REQUIRED - set(codes) == set()


def test_values_come_from_the_vocabularies(catalogue: pd.DataFrame) -> None:
    assert set(catalogue["direction"]) <= {"up", "down"}
    assert set(catalogue["aggregation"]) <= {"sum", "ratio", "median", "weighted_ratio"}
    assert set(catalogue["unit"]) <= {"count", "hours", "percent", "minutes", "per_10k",
                                      "points", "days", "ratio"}
    assert set(catalogue["source_mart"]) <= MARTS
    for row in catalogue.itertuples():
        assert set(row.disaggregations.split("|")) <= DISAGGREGATIONS, row.indicator_code
        assert set(row.levels.split("|")) <= {"mission", "sector", "site"}, row.indicator_code
        assert row.numerator, row.indicator_code
        # counts, sums and medians have no denominator; ratios always have one
        has_denominator = row.aggregation in {"ratio", "weighted_ratio"}
        assert bool(row.denominator) == has_denominator, row.indicator_code
    # the deterrence comparison is one indicator, split by patrol status
    rate = catalogue.set_index("indicator_code").loc["DET_INC_RATE"]
    assert "patrol_status" in rate["disaggregations"].split("|")
    assert rate["unit"] == "per_10k"


def test_settings_named_in_the_text_are_dbt_vars(catalogue: pd.DataFrame) -> None:
    variables = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())["vars"]
    text = catalogue[["name_en", "name_fr", "definition_en", "definition_fr", "numerator",
                      "denominator"]].to_numpy().ravel()
    named = {name for cell in text for name in re.findall(r"\{([a-z_]+)\}", cell)}
    assert {"response_target_minutes", "hot_spot_min_patrols"} <= named
    assert named <= set(variables)


def test_french_text_is_french(catalogue: pd.DataFrame) -> None:
    assert (catalogue["name_fr"] != "").all() and (catalogue["definition_fr"] != "").all()
    assert (catalogue["name_fr"] != catalogue["name_en"]).mean() > 0.9
    assert (catalogue["definition_fr"] != catalogue["definition_en"]).all()
    accented = catalogue["definition_fr"].str.contains(r"[éèêàùçôîÉ]")
    assert accented.mean() > 0.5


# UN French for the terms the English outcomes use
FRENCH_TERMS = {
    "host-state police": "de l'État hôte",
    "IDP camps": "camps de personnes déplacées (PDI)",
    "POC sites": "sites de protection des civils (PdC)",
    "sexual and gender-based violence": "violences sexuelles et basées sur le genre (VSBG)",
    "UN police": "police des Nations Unies",
    "civilians": "civils",
}


def test_every_outcome_has_one_french_label(catalogue: pd.DataFrame) -> None:
    """cpas_outcome_fr: never empty, one French label per English outcome and back (1:1)."""
    assert (catalogue["cpas_outcome_fr"].str.strip() != "").all()
    assert (catalogue["cpas_outcome_fr"] == catalogue["cpas_outcome_fr"].str.strip()).all()
    pairs = catalogue[["cpas_outcome", "cpas_outcome_fr"]].drop_duplicates()
    assert len(pairs) == catalogue["cpas_outcome"].nunique() \
        == catalogue["cpas_outcome_fr"].nunique()
    assert pairs["cpas_outcome"].is_unique and pairs["cpas_outcome_fr"].is_unique
    labels = outcome_labels(catalogue, "fr")
    assert labels == dict(zip(pairs["cpas_outcome"], pairs["cpas_outcome_fr"], strict=True))
    assert list(labels) == list(dict.fromkeys(catalogue["cpas_outcome"]))  # catalogue order
    assert outcome_labels(catalogue, "en") == {o: o for o in labels}
    # French, not the English copied
    assert not set(labels) & set(labels.values())
    assert sum(bool(re.search(r"[éèêàùçôîÉ]", fr)) for fr in labels.values()) > len(labels) / 2
    for english, french in labels.items():
        for en_term, fr_term in FRENCH_TERMS.items():
            if en_term.casefold() in english.casefold():
                assert fr_term in french, (english, french, fr_term)


def test_outcome_labels_refuse_a_broken_catalogue(catalogue: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="cpas_outcome_fr"):
        outcome_labels(catalogue.drop(columns="cpas_outcome_fr"), "fr")
    one = catalogue.iloc[0]["indicator_code"]
    blank = catalogue.assign(cpas_outcome_fr=catalogue["cpas_outcome_fr"].where(
        catalogue["indicator_code"] != one, " "))
    with pytest.raises(ValueError, match=one):
        outcome_labels(blank, "fr")
    same = catalogue.assign(cpas_outcome_fr="Un seul libellé")
    with pytest.raises(ValueError, match="more than one CPAS outcome"):
        outcome_labels(same, "fr")
    with pytest.raises(ValueError, match="language"):
        outcome_labels(catalogue, "de")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_docs_are_what_the_catalogue_renders(catalogue: pd.DataFrame, language: str) -> None:
    rendered = render_reference(catalogue, language)
    for row in catalogue.itertuples():
        assert f"### {row.indicator_code} — " in rendered
    # the CPAS outcomes in the document's language only
    shown, other = ("cpas_outcome", "cpas_outcome_fr") if language == "en" else \
        ("cpas_outcome_fr", "cpas_outcome")
    for outcome in set(catalogue[shown]):
        assert f"{outcome}\n" in rendered
    for outcome in set(catalogue[other]):
        assert outcome not in rendered
    assert DOCS[language].read_text(encoding="utf-8") == rendered, (
        f"{DOCS[language].name} is stale: run python -m pipelines.indicators.catalogue"
    )


def test_render_refuses_an_unknown_language(catalogue: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="language"):
        render_reference(catalogue, "de")


@pytest.mark.slow
def test_dbt_builds_dim_indicators(tmp_path: Path, catalogue: pd.DataFrame) -> None:
    warehouse = tmp_path / "warehouse" / "pocmon.duckdb"
    with connect(warehouse):
        pass
    result = subprocess.run(
        # cautious: leave out tests that also need models not selected here
        [str(DBT), "build", "--select", "+dim_indicators", "--indirect-selection", "cautious",
         "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
         "--vars", "{response_target_minutes: 90}"],
        env={**os.environ, "POCMON_WAREHOUSE": str(warehouse)},
        cwd=DBT_PROJECT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select count(*) from marts.dim_indicators").fetchone()[0]
        definition = con.execute(
            "select definition_en from marts.dim_indicators "
            "where indicator_code = 'RSP_WITHIN_TARGET'"
        ).fetchone()[0]
        outcomes = con.execute(
            "select indicator_code, cpas_outcome, cpas_outcome_fr from marts.dim_indicators"
        ).fetchall()
    assert rows == len(catalogue)
    assert sorted(outcomes) == sorted(
        catalogue[["indicator_code", "cpas_outcome", "cpas_outcome_fr"]].itertuples(
            index=False, name=None))
    assert "within 90 minutes" in definition and "{" not in definition
