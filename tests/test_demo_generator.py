"""The demo generator: reproducible files as missions export them, with known planted effects."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from pipelines.demo import effects as fx
from pipelines.demo.generator import generate_demo
from pipelines.demo.simulate import MissionSimulator, haversine_km


def _digests(files: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, reference):
    base = tmp_path_factory.mktemp("demo")
    summary = generate_demo(base / "inbox", weeks=8, seed=3, truth_path=base / "truth.json",
                            reference=reference)
    return base, summary


def test_same_seed_same_files_other_seed_other_files(demo, tmp_path: Path, reference) -> None:
    _, summary = demo
    again = generate_demo(tmp_path / "a", weeks=8, seed=3, reference=reference)
    other = generate_demo(tmp_path / "b", weeks=8, seed=4, reference=reference)
    assert _digests(again.files) == _digests(summary.files)
    assert _digests(other.files) != _digests(summary.files)


def test_files_per_mission_source_and_period(demo) -> None:
    base, summary = demo
    names = {p.relative_to(base / "inbox").as_posix() for p in summary.files}
    for mission in ("MINUSCA", "UNMISS"):
        weekly = {n for n in names if n.startswith(f"patrols/{mission}_2025-W")}
        assert len(weekly - {"patrols/UNMISS_2025-W01_patrols_scan.xlsx"}) == 8
        assert any(n.startswith(f"strength/{mission}_2025-01") for n in names)
        assert any(n.startswith(f"surveys/{mission}_2025-R1") for n in names)
    assert "patrols/MINUSCA_2025-W01_patrols.xlsx" in names
    assert "patrols/UNMISS_2025-W01_patrols.csv" in names
    assert sum(summary.rows.values()) > 1000


def test_francophone_mission_writes_french_headers_and_codes(demo) -> None:
    base, _ = demo
    sheet = load_workbook(base / "inbox/patrols/MINUSCA_2025-W03_patrols.xlsx").worksheets[0]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:3] == ["id_patrouille", "mission_id", "unite"]
    modes = {row[header.index("mode")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert modes <= {"pied", "vehicule", "aerien", "hélicoptère"} and "vehicule" in modes
    text = (base / "inbox/incidents/MINUSCA_2025-W03_incidents.csv").read_text("utf-8")
    assert text.splitlines()[0].startswith("id_incident;mission_id;date_incident")
    trainings = b"".join(p.read_bytes() for p in (base / "inbox/trainings").glob("MINUSCA_*"))
    assert "é".encode("cp1252") in trainings  # exported from Excel on Windows
    with pytest.raises(UnicodeDecodeError):
        trainings.decode("utf-8")
    rows = list(csv.DictReader((base / "inbox/incidents/UNMISS_2025-W03_incidents.csv")
                               .open(encoding="utf-8")))
    assert {r["category"] for r in rows} <= {
        "killing", "abduction", "sgbv_crsv", "robbery_looting", "intercommunal_clash",
        "armed_group_attack", "host_state_abuse", "public_disorder"}


def test_truth_file_documents_faults_effects_and_personal_values(demo) -> None:
    base, summary = demo
    truth = json.loads((base / "truth.json").read_text(encoding="utf-8"))
    assert 8 <= len(truth["planted_faults"]) <= 12
    assert len({(f["source"], f["rule"]) for f in truth["planted_faults"]}) >= 8
    for fault in truth["planted_faults"]:
        assert (base / "inbox" / fault["file"]).exists()
        assert fault["row_number"] >= 2
    assert truth["unreadable_files"][0]["file"].endswith("_scan.xlsx")
    assert truth["effects"]["deterrence"]["rate_ratio"] == pytest.approx(0.70)
    assert truth["effects"]["training"]["post_minus_pre_points"] == pytest.approx(12)
    assert set(truth["programme_starts"]) == {"MINUSCA", "UNMISS"}
    assert truth["personal_values"]["reporter_phones"]
    assert truth["rows"] == summary.rows


def _simulate(reference, mission: str, effect: float, seed: int = 11, weeks: int = 52):
    row = reference.missions.set_index("mission_id").loc[mission].copy()
    row["mission_id"] = mission
    sim = MissionSimulator(
        np.random.default_rng(seed), row, reference.sites[reference.sites.mission_id == mission],
        reference.units[reference.units.mission_id == mission], weeks, effect)
    return sim.run()


@pytest.mark.parametrize("effect", [0.0, 1.0])
def test_planted_training_and_response_effects(reference, effect: float) -> None:
    tables = _simulate(reference, "UNMISS", effect).tables
    trainings = tables["trainings"]
    gain = (trainings["post_test_score"] - trainings["pre_test_score"]).mean()
    assert gain == pytest.approx(fx.TRAINING_GAIN_POINTS * effect, abs=3)

    incidents = tables["incidents"].dropna(subset=["alert_id"])
    patrols = tables["patrols"].query("purpose == 'alert_response'")
    joined = incidents.merge(patrols, on="alert_id", suffixes=("", "_patrol"))
    assert len(joined) == len(incidents) > 100
    sites = reference.sites.set_index("site_id")
    units = reference.units.set_index("unit_id")
    base = sites.loc[units.loc[joined["unit_id"], "base_site_id"]]
    site = sites.loc[joined["site_id"]]
    km = haversine_km(base["latitude"].to_numpy(), base["longitude"].to_numpy(),
                      site["latitude"].to_numpy(), site["longitude"].to_numpy())
    minutes = (joined["response_arrived_at"] - joined["alert_received_at"]).dt.total_seconds() / 60
    design = np.column_stack([np.ones(len(km)), km, joined["range"] == "long",
                              joined["range"] == "overnight"]).astype(float)
    coef, *_ = np.linalg.lstsq(design, minutes.to_numpy(float), rcond=None)
    assert coef[1] == pytest.approx(fx.RESPONSE_MINUTES_PER_KM * effect, abs=0.3)
    assert coef[0] == pytest.approx(fx.RESPONSE_BASE_MINUTES + fx.RESPONSE_NOISE_MEAN_MINUTES,
                                    abs=12)


@pytest.mark.parametrize("effect", [0.0, 1.0])
def test_planted_perception_effect(reference, effect: float) -> None:
    """Share feeling safe where the programme had started, with site and round effects."""
    frames = []
    for mission in ("MINUSCA", "UNMISS"):
        data = _simulate(reference, mission, effect, seed=5)
        surveys = data.tables["surveys"]
        starts = pd.to_datetime(surveys["site_id"].map(data.programme_starts))
        frames.append(surveys.assign(
            active=(pd.to_datetime(surveys["interview_date"]) >= starts).astype(float)))
    surveys = pd.concat(frames, ignore_index=True)
    assert 0.1 < surveys["active"].mean() < 0.5
    design = pd.concat([surveys[["active"]], pd.get_dummies(surveys["site_id"], dtype=float),
                        pd.get_dummies(surveys["round"], drop_first=True, dtype=float)], axis=1)
    coef, *_ = np.linalg.lstsq(design.to_numpy(), (surveys["feels_safe"] >= 4).to_numpy(float),
                               rcond=None)
    assert coef[0] == pytest.approx(fx.PERCEPTION_FEELS_SAFE_GAIN * effect, abs=0.07)
