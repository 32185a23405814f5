"""Export writers: CSV/formula injection neutralised, Excel layout and labels, suppression shown."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines.indicators.catalogue import load_catalogue
from pipelines.indicators.export_writer import (
    SHEET_COLUMNS,
    TRACKING_COLUMNS,
    neutralise,
    outcome_sheets,
    sheet_names,
    write_dictionary_csv,
    write_tracking_csv,
    write_tracking_xlsx,
)

INJECTED = ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-x", "@SUM(A1)"]
RESPONSE = "Civilians under imminent threat get a timely police response"
PRESENCE = "A visible police presence deters violence against civilians"
OUTCOME = {"en": "cpas_outcome", "fr": "cpas_outcome_fr"}


@pytest.fixture(scope="module")
def catalogue() -> pd.DataFrame:
    return load_catalogue()


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """3 indicators over 2 outcomes; one suppressed row; org units that try formula injection."""
    rows = [
        ("RSP_WITHIN_TARGET", "Mission", "mission", "2025-Q1", 0.7, 0.8, 0.755, "at_risk", False),
        ("RSP_WITHIN_TARGET", INJECTED[0], "sector", "2025-Q1", 0.6, 0.8, 0.9, "on_track", False),
        ("RSP_MEDIAN_MINUTES", INJECTED[1], "sector", "2025-Q1", 40.0, 30.0, 55.5, "off_track",
         False),
        ("PAT_COUNT", INJECTED[2], "site", "2025-Q1", 100.0, 120.0, 3.0, "off_track", True),
        ("PAT_COUNT", INJECTED[3], "site", "2025-Q1", 100.0, 120.0, 1250.0, "on_track", False),
        ("PAT_COUNT", "Secteur Été", "sector", "2025-Q1", -5.0, None, 1300.0, None, False),
    ]
    return pd.DataFrame(rows, columns=TRACKING_COLUMNS)


def cells(book: openpyxl.Workbook) -> list:
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row]


def test_neutralise() -> None:
    assert [neutralise(v) for v in INJECTED] == ["'" + v for v in INJECTED]
    assert neutralise("\tx") == "'\tx" and neutralise("\rx") == "'\rx"
    assert neutralise("Juba") == "Juba" and neutralise("") == ""
    assert neutralise(-5) == -5 and neutralise(-0.5) == -0.5 and neutralise(None) is None


def test_sheet_names_valid_and_unique() -> None:
    long = "Outcome: a/b [c] * d? e\\f " + "x" * 40
    names = sheet_names([long, long + "y", "README"], reserved=("README",))
    assert len({n.casefold() for n in names.values()}) == 3
    assert "readme" not in {n.casefold() for n in names.values()}
    for name in names.values():
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\")


@pytest.mark.parametrize(
    ("language", "dictionary", "readme", "headers", "word", "status"),
    [
        ("en", "Dictionary", "README", ["Indicator code", "Indicator", "Org unit"],
         "suppressed", "at risk"),
        ("fr", "Dictionnaire", "Lisez-moi",
         ["Code de l'indicateur", "Indicateur", "Unité organisationnelle"], "masqué", "à risque"),
    ],
)
def test_xlsx(
    tmp_path: Path, frame: pd.DataFrame, catalogue: pd.DataFrame, language: str,
    dictionary: str, readme: str, headers: list[str], word: str, status: str,
) -> None:
    path = write_tracking_xlsx(frame, catalogue, tmp_path / "t.xlsx", language=language)
    book = openpyxl.load_workbook(path)
    # the sheets are named after the outcomes in the language, in catalogue order
    by_code = catalogue.set_index("indicator_code")
    label = {o: by_code.loc[code, OUTCOME[language]]
             for o, code in ((PRESENCE, "PAT_COUNT"), (RESPONSE, "RSP_WITHIN_TARGET"))}
    names = sheet_names([label[PRESENCE], label[RESPONSE]], reserved=(dictionary, readme))
    presence, response = names[label[PRESENCE]], names[label[RESPONSE]]
    assert book.sheetnames == [presence, response, dictionary, readme]
    if language == "fr":
        assert presence.startswith("Une présence policière")
        assert response.startswith("Les civils sous une menace")
    else:
        assert (presence, response) == tuple(sheet_names([PRESENCE, RESPONSE]).values())

    for name in (presence, response, dictionary):
        ws = book[name]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref
        width = 2 if name == dictionary else 3
        assert [c.value for c in ws[1]][:width] == headers[:width]

    ws = book[response]
    actual, stat = SHEET_COLUMNS.index("actual"), SHEET_COLUMNS.index("status")
    rows = list(ws.iter_rows(min_row=2))
    assert rows[0][1].value == catalogue.set_index("indicator_code").loc[
        "RSP_WITHIN_TARGET", f"name_{language}"]
    assert rows[0][actual].value == pytest.approx(0.755)
    assert "%" in rows[0][actual].number_format
    assert rows[0][stat].value == status and rows[0][stat].fill.fgColor.rgb.endswith("F5C26B")
    assert "%" not in rows[2][actual].number_format  # minutes

    ws = book[presence]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    masked = [r for r in rows if r[2] == "'-x"]
    assert len(masked) == 1
    assert masked[0][6:10] == (None, None, word, None)
    assert masked[0][10] == ("yes" if language == "en" else "oui")
    assert any(r[6] == -5 for r in rows)  # negative numbers stay numbers

    everything = cells(book)
    texts = {c.value for c in everything if isinstance(c.value, str)}
    assert {"'" + v for v in INJECTED} <= texts
    assert all(c.data_type != "f" for c in everything)
    assert not any(t.startswith(("=", "+", "-", "@")) for t in texts)
    notes = " ".join(str(c.value) for c in book[readme]["A"])
    assert word in notes and label[RESPONSE] in notes
    assert (RESPONSE in notes) == (language == "en")
    entries = list(book[dictionary].iter_rows(min_row=2, values_only=True))
    assert {(r[0], r[3], r[4]) for r in entries} == {
        ("PAT_COUNT", label[PRESENCE], presence), ("RSP_MEDIAN_MINUTES", label[RESPONSE], response),
        ("RSP_WITHIN_TARGET", label[RESPONSE], response)}


def test_outcome_sheets_same_order_in_both_languages(catalogue: pd.DataFrame) -> None:
    english, french = outcome_sheets(catalogue, "en"), outcome_sheets(catalogue, "fr")
    assert list(english) == list(french) == list(dict.fromkeys(catalogue["cpas_outcome"]))
    assert [label for label, _ in english.values()] == list(english)
    labels = dict(zip(catalogue["cpas_outcome"], catalogue["cpas_outcome_fr"], strict=True))
    assert [label for label, _ in french.values()] == [labels[o] for o in french]
    for sheets, reserved in ((english, {"dictionary", "readme"}),
                             (french, {"dictionnaire", "lisez-moi"})):
        names = [name for _, name in sheets.values()]
        assert len({n.casefold() for n in names}) == len(names)
        assert not {n.casefold() for n in names} & reserved
        assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    # no French sheet needed a (2) to be told apart: each starts differently
    assert not any(name.endswith(")") for _, name in french.values())


def test_french_outcomes_are_required_and_one_per_outcome(
    tmp_path: Path, frame: pd.DataFrame, catalogue: pd.DataFrame
) -> None:
    with pytest.raises(ValueError, match="cpas_outcome_fr"):
        write_tracking_xlsx(frame, catalogue.drop(columns="cpas_outcome_fr"),
                            tmp_path / "x.xlsx", language="fr")
    blank = catalogue.copy()
    blank.loc[blank["indicator_code"] == "PAT_COUNT", "cpas_outcome_fr"] = ""
    with pytest.raises(ValueError, match="PAT_COUNT"):
        write_dictionary_csv(blank, ["actual"], tmp_path / "d.csv", language="fr")
    split = catalogue.copy()  # one English outcome, two French labels
    split.loc[split["indicator_code"] == "RSP_MEDIAN_MINUTES", "cpas_outcome_fr"] = "Autre"
    with pytest.raises(ValueError, match="more than one"):
        write_tracking_xlsx(frame, split, tmp_path / "x.xlsx", language="fr")
    merged = catalogue.copy()  # two English outcomes, one French label
    merged.loc[merged["cpas_outcome"] == RESPONSE, "cpas_outcome_fr"] = \
        merged.loc[merged["indicator_code"] == "PAT_COUNT", "cpas_outcome_fr"].item()
    with pytest.raises(ValueError, match="more than one CPAS outcome"):
        write_tracking_xlsx(frame, merged, tmp_path / "x.xlsx", language="fr")
    # English exports need no French column
    path = write_tracking_xlsx(frame, catalogue.drop(columns="cpas_outcome_fr"),
                               tmp_path / "en.xlsx", language="en")
    assert openpyxl.load_workbook(path).sheetnames[0] == sheet_names([PRESENCE])[PRESENCE]


def test_dictionary_csv_outcome_in_the_language(tmp_path: Path, catalogue: pd.DataFrame) -> None:
    used = catalogue[catalogue["indicator_code"] == "PAT_COUNT"]
    for language in ("en", "fr"):
        path = write_dictionary_csv(used, ["actual"], tmp_path / f"{language}.csv", language)
        back = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
        outcome = back.loc[back["entry"] == "indicator", "cpas_outcome"].item()
        assert outcome == used[OUTCOME[language]].item()
    assert outcome.startswith("Une présence policière visible")


def test_csv(tmp_path: Path, frame: pd.DataFrame) -> None:
    path = write_tracking_csv(frame, tmp_path / "t.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
    assert list(back.columns) == TRACKING_COLUMNS
    assert sorted(back["org_unit"]) == sorted(["Mission", "Secteur Été"]
                                              + ["'" + v for v in INJECTED])
    row = back[back["suppressed"].astype(str) == "True"].iloc[0]
    assert row["org_unit"] == "'-x"
    assert (row["baseline"], row["target"], row["actual"], row["status"]) == ("", "", "", "")
    assert back.loc[back["org_unit"] == "Secteur Été", "baseline"].item() in (-5, "-5.0", -5.0)
    assert not any(str(v).startswith(("=", "+", "-", "@")) for v in back["org_unit"])


def test_rejects_unknown_status_and_indicator(
    tmp_path: Path, frame: pd.DataFrame, catalogue: pd.DataFrame
) -> None:
    with pytest.raises(ValueError, match="status"):
        write_tracking_csv(frame.assign(status="great"), tmp_path / "x.csv")
    with pytest.raises(ValueError, match="catalogue"):
        write_tracking_xlsx(frame.assign(indicator_code="NOPE"), catalogue, tmp_path / "x.xlsx")
