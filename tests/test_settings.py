"""config/pocmon.yaml as users edit it: a wrong setting is one clear message, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.config import PROJECT_ROOT, ConfigError, get_settings, load_settings

SHIPPED = PROJECT_ROOT / "config" / "pocmon.yaml"


def _config(tmp_path: Path, change) -> Path:
    """The shipped configuration with one change (a function of the parsed YAML)."""
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "pocmon.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_extensions_are_normalised(tmp_path: Path) -> None:
    path = _config(tmp_path, lambda raw: raw["inbox"].update(extensions=["CSV", ".XLSX"]))
    assert load_settings(path).inbox.extensions == [".csv", ".xlsx"]


@pytest.mark.parametrize(("change", "expected"), [
    (lambda raw: raw["inbox"].update(extensions=[".csv", ".xls"]),
     "inbox.extensions: pocmon cannot read .xls files; it reads .csv, .xlsx, "
     ".geojson, .json"),
    (lambda raw: raw["schedule"].update(timezone="Africa/Bangu"),
     "schedule.timezone: not a time zone of the IANA database, e.g. UTC, Africa/Bangui"),
    (lambda raw: raw["schedule"].update(cron="0 6 * * 8"),
     "schedule.cron: not a cron schedule: five fields"),
    (lambda raw: raw.update(inbx={"max_file_mb": 10}),
     "inbx: not a setting pocmon knows (it knows paths, schedule, sensor, inbox)"),
    (lambda raw: raw["inbox"].update(max_file_mbs=10),
     "inbox.max_file_mbs: not a setting pocmon knows (it knows extensions, max_file_mb,"),
    (lambda raw: raw["inbox"].update(max_file_mb="fifty"),
     "inbox.max_file_mb: Input should be a valid number"),
    (lambda raw: raw["paths"].pop("reference"), "paths.reference: Field required"),
    (lambda raw: raw.update(paths=["data/inbox"]), "with the paths under `paths:`"),
])
def test_a_wrong_setting_names_the_file_and_the_setting(tmp_path: Path, change,
                                                       expected: str) -> None:
    path = _config(tmp_path, change)
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert str(raised.value).startswith(f"{path}: ") and expected in str(raised.value)


def test_a_setting_given_twice_is_refused(tmp_path: Path) -> None:
    """YAML keeps the last of two `inbox:` blocks in silence; pocmon names the line."""
    twice = tmp_path / "twice.yaml"
    twice.write_text(SHIPPED.read_text(encoding="utf-8") + "\ninbox:\n  max_file_mb: 5\n",
                     encoding="utf-8")
    lines = twice.read_text(encoding="utf-8").count("\n")
    twice_at = f"(?s)the setting 'inbox' is given twice.*line {lines - 1}"
    with pytest.raises(ConfigError, match=twice_at):
        load_settings(twice)


def test_unreadable_or_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        load_settings(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("paths: [data/inbox\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(broken)


def test_every_command_reports_a_wrong_setting_plainly(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = _config(tmp_path, lambda raw: raw["inbox"].update(max_file_mb="fifty"))
    monkeypatch.setenv("POCMON_CONFIG", str(path))
    get_settings.cache_clear()
    try:
        results = [CliRunner().invoke(app, args) for args in (["status"], ["run"],
                                                               ["validate", str(path)])]
        helped = CliRunner().invoke(app, ["--help"])  # help needs no settings
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    for result in results:
        assert result.exit_code == 1, result.output
        text = " ".join(result.output.split())
        assert f"Error: {path}: inbox.max_file_mb: Input should be a valid number" in text
        assert "Fix the configuration" in text and "Traceback" not in text
    assert helped.exit_code == 0 and "pocmon run" in helped.output
