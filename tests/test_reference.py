"""Reference data with an error (the CSV files dbt also seeds): one message naming the file,
row and column, from `pocmon validate` and `pocmon run` alike, before anything is loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.config import DBT_PROJECT_DIR, get_settings
from pipelines.reference import ReferenceDataError, load_reference

SEEDS = DBT_PROJECT_DIR / "seeds" / "reference"


def _edited(tmp_path: Path, name: str, edit) -> Path:
    folder = tmp_path / "reference"
    shutil.copytree(SEEDS, folder)
    path = folder / f"{name}.csv"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return folder


def _append(row: str):
    return lambda text: text.rstrip("\n") + "\n" + row + "\n"


@pytest.mark.parametrize(("name", "edit", "expected"), [
    ("sites", _append("CAF-S01,MINUSCA,CAF-BGI,Bangui Duplicate,town,5000,4.3650,18.5420"),
     "sites.csv, rows 2 and 42: mission_id 'MINUSCA', site_id 'CAF-S01' is given twice"),
    ("sites", lambda text: _append("CAF-S02,MINUSCA,CAF-BGI,Boy-Rabe again,town,5,4.4,18.5")(
        _append("CAF-S01,MINUSCA,CAF-BGI,PK5 again,town,5,4.4,18.5")(text)),
     "sites.csv, rows 2 and 42: mission_id 'MINUSCA', site_id 'CAF-S01' is given twice"),
    ("sites", lambda text: text.replace(",110000,", ",abc,", 1),
     "sites.csv, row 2, column population: 'abc' is not a number"),
    ("missions", lambda text: text.replace("Africa/Juba", "Africa/Juva"),
     "missions.csv, row 3, column timezone: 'Africa/Juva' is not a time zone"),
    ("sites", lambda text: text.replace("site_id,", "site,", 1),
     "sites.csv: no column site_id (its header has site, mission_id"),
    ("units", lambda text: "", "units.csv: not a readable CSV file"),
])
def test_a_reference_error_names_the_file_row_and_column(tmp_path: Path, name, edit,
                                                         expected: str) -> None:
    folder = _edited(tmp_path, name, edit)
    with pytest.raises(ReferenceDataError) as raised:
        load_reference(folder)
    assert expected in str(raised.value) and str(folder) in str(raised.value)


def test_validate_and_run_refuse_a_broken_reference_plainly(tmp_path: Path, monkeypatch
                                                            ) -> None:
    folder = _edited(tmp_path, "missions", lambda text: text.replace("Africa/Juba", "Juba"))
    config = tmp_path / "pocmon.yaml"
    shipped = (DBT_PROJECT_DIR.parent / "config" / "pocmon.yaml").read_text(encoding="utf-8")
    config.write_text(shipped.replace("reference: dbt_project/seeds/reference",
                                      f"reference: {folder}"), encoding="utf-8")
    some_file = tmp_path / "patrols.csv"
    some_file.write_text("patrol_id\n", encoding="utf-8")
    monkeypatch.setenv("POCMON_CONFIG", str(config))
    get_settings.cache_clear()
    try:
        results = [CliRunner().invoke(app, args) for args in
                   (["validate", str(some_file)], ["run"])]
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    for result in results:
        text = " ".join(result.output.split())
        assert result.exit_code == 1, text
        assert "missions.csv, row 3, column timezone: 'Juba' is not a time zone" in text
        assert "Traceback" not in text
