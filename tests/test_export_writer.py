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
    sheet_names,
    write_tracking_csv,
    write_tracking_xlsx,
)

INJECTED = ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-x", "@SUM(A1)"]
RESPONSE = "Civilians under imminent threat get a timely police response"
PRESENCE = "A visible police presence deters violence against civilians"


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
    presence, response = sheet_names([PRESENCE, RESPONSE]).values()
    assert set(book.sheetnames) == {presence, response, dictionary, readme}
    assert book.sheetnames[-2:] == [dictionary, readme]

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
    assert word in notes and RESPONSE in notes


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
