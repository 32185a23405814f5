"""Write the bad-input corpus under tests/bad_input/<source>/: python tests/bad_input/make_corpus.py

The files are committed; this script says exactly how each was made. What each must produce is
in cases.yaml beside it. Every patrols file covers its own ISO week (a re-submission of the same
mission and week would supersede), all in 2025. Files too big or too dangerous to commit (100 MB,
zip bomb, symbolic link, '..' name) are made by the tests instead: tests/test_bad_input.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
SOURCES = ("patrols", "incidents", "trainings", "strength", "surveys")
FIRST_MONDAY = dt.date(2025, 3, 3)  # 2025-W10; the baseline of the tests is 2025-W02
_weeks = iter(range(100))


def patrols(rows: int = 2, mission: str = "UNMISS", **changes: str) -> list[dict[str, str]]:
    """``rows`` good patrols of a week of their own; ``changes`` apply to every row."""
    week = next(_weeks)
    day = FIRST_MONDAY + dt.timedelta(weeks=week)
    unit, site = ("SSD-FPU-1", "SSD-S01") if mission == "UNMISS" else ("CAF-FPU-1", "CAF-S01")
    return [
        {"patrol_id": f"BI-{week:02d}-{n}", "mission": mission, "unit_id": unit,
         "unit_type": "FPU", "start_time": f"{day} 08:00", "end_time": f"{day} 12:00",
         "site_id": site, "mode": "foot", "range": "short", "joint_with": "none",
         "persons": "20", "women": "3", "host_police_persons": "0", "purpose": "market_day",
         "alert_id": ""} | changes
        for n in range(1, rows + 1)
    ]


def csv_text(rows: list[dict[str, str]], delimiter: str = ",") -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=delimiter,
                            lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write(source: str, name: str, data: bytes | str) -> None:
    path = HERE / source / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def workbook(sheets: dict[str, list[list[object]]], merges: dict[str, list[str]] | None = None
             ) -> bytes:
    """An .xlsx with the given sheets (rows of cell values) and merged ranges per sheet."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for cells in (merges or {}).get(title, []):
            sheet.merge_cells(cells)
    book.properties.created = book.properties.modified = dt.datetime(2025, 6, 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def table(rows: list[dict[str, str]]) -> list[list[object]]:
    """Header and rows for a sheet; counts as numbers, times as real Excel dates."""
    def cell(column: str, value: str) -> object:
        if column in ("start_time", "end_time") and value[:1].isdigit() and "-" in value:
            return dt.datetime.fromisoformat(value)
        return int(value) if value.lstrip("-").isdigit() else value
    return [list(rows[0])] + [[cell(c, v) for c, v in row.items()] for row in rows]


def make_patrols() -> None:
    text = csv_text(patrols(3))
    write("patrols", "truncated_mid_row.csv", text[: text.rindex(",SSD-S01,") + 6])

    rows = patrols(3)
    rows[-1]["alert_id"] = "A-77"
    text = csv_text(rows).replace(",A-77\r\n", ',"A-77')
    write("patrols", "truncated_in_quote.csv", text)

    rows = patrols(4)
    rows[1]["alert_id"] = "A-9"
    write("patrols", "unterminated_quote_mid_file.csv",
          csv_text(rows).replace(",A-9\r\n", ',"A-9\r\n'))

    rows = patrols(2, alert_id="A-5")
    write("patrols", "bad_quote.csv", csv_text(rows).replace(",A-5\r\n", ',"A-5"x\r\n', 1))

    write("patrols", "wrong_delimiter_colon.csv", csv_text(patrols(2), delimiter=":"))

    lines = csv_text(patrols(2)).split("\r\n")
    write("patrols", "delimiter_changes_after_header.csv",
          "\r\n".join([lines[0]] + [line.replace(",", ";") for line in lines[1:]]))

    rows = patrols(3)
    rows[1]["alert_id"] = "A-3, A-4"
    write("patrols", "extra_fields.csv", csv_text(rows).replace('"A-3, A-4"', "A-3, A-4"))

    write("patrols", "utf8_bom.csv", "\ufeff" + csv_text(patrols(2)))
    write("patrols", "utf16le_bom_tab.csv",
          b"\xff\xfe" + csv_text(patrols(2), delimiter="\t").encode("utf-16-le"))
    write("patrols", "utf16le_no_bom.csv", csv_text(patrols(2)).encode("utf-16-le"))
    data = b"\xff\xfe" + csv_text(patrols(2)).encode("utf-16-le")
    write("patrols", "utf16_truncated.csv", data[: len(data) - 41])

    french = [
        {"id_patrouille": r["patrol_id"], "mission_id": "MINUSCA", "unité": "CAF-FPU-1",
         "type_unité": "FPU", "début": r["start_time"], "fin": r["end_time"],
         "site": "CAF-S03", "mode": mode, "portée": "longue", "conjointe_avec": "aucune",
         "effectif": "30", "femmes": "4", "police_locale_effectif": "6",
         "objet": "réponse_alerte", "id_alerte": "AL-É1"}
        for r, mode in zip(patrols(2, mission="MINUSCA"), ["à pied", "véhicule"], strict=True)
    ]
    write("patrols", "latin1_french.csv", csv_text(french, delimiter=";").encode("cp1252"))
    lines = csv_text(french, delimiter=";").split("\r\n")
    write("patrols", "mixed_encodings.csv",
          "\r\n".join(lines[:2]).encode("utf-8") + b"\r\n" + "\r\n".join(lines[2:]).encode(
              "cp1252"))

    write("patrols", "empty.csv", b"")
    write("patrols", "blank_lines_only.csv", "\r\n  \r\n\t\r\n")
    write("patrols", "header_only.csv", csv_text(patrols(1)).split("\r\n")[0] + "\r\n")
    header = csv_text(patrols(1)).split("\r\n")[0]
    write("patrols", "duplicate_header.csv",
          csv_text(patrols(2)).replace(header, header.replace("host_police_persons", "persons")))
    rows = [{k: v for k, v in r.items() if k != "women"} for r in patrols(2)]
    write("patrols", "missing_required_column.csv", csv_text(rows))
    rows = [r | {"commentaire": "RAS", "driver": "n/a"} for r in patrols(2)]
    write("patrols", "unknown_columns.csv", csv_text(rows))

    rows = patrols(3)
    rows[2]["patrol_id"] = rows[0]["patrol_id"]
    write("patrols", "duplicate_ids_in_file.csv", csv_text(rows))
    rows = patrols(2)
    rows[1]["patrol_id"] = "P-1"  # loaded by the tests' baseline file
    write("patrols", "duplicate_of_loaded.csv", csv_text(rows))
    first = patrols(2)
    write("patrols", "duplicate_across_files_a.csv", csv_text(first))
    rows = patrols(2)
    rows[0]["patrol_id"] = first[1]["patrol_id"]
    write("patrols", "duplicate_across_files_b.csv", csv_text(rows))

    rows = patrols(3)
    rows[1]["persons"] = "-3"
    rows[2]["host_police_persons"] = "-1"
    write("patrols", "negative_counts.csv", csv_text(rows))
    rows = patrols(2)
    rows[1]["end_time"] = rows[1]["start_time"].replace("08:00", "07:15")
    write("patrols", "end_before_start.csv", csv_text(rows))
    rows = patrols(2)
    rows[1] |= {"start_time": "2031-03-03 08:00", "end_time": "2031-03-03 12:00"}
    write("patrols", "future_dates.csv", csv_text(rows))
    rows = patrols(2)
    rows[1]["end_time"] = "9999-12-31 23:59"
    write("patrols", "year_9999.csv", csv_text(rows))
    rows = patrols(4)
    rows[1]["site_id"] = "SSD-S99"
    rows[2] |= {"mission": "MINUSMA"}
    rows[3]["site_id"] = "CAF-S01"
    write("patrols", "unknown_site_and_mission.csv", csv_text(rows))
    rows = patrols(6)
    rows[1]["patrol_id"] = '=HYPERLINK("http://example.org/?"&A1,"details")'
    rows[2]["alert_id"] = "+cmd|' /C calc'!A0"
    rows[3]["alert_id"] = "-2+3+cmd|' /C calc'!A0"
    rows[4]["patrol_id"] = "@SUM(A1:A9)"
    rows[5]["mode"] = "=1+1"
    write("patrols", "formula_injection.csv", csv_text(rows))

    rows = patrols(2, mission="MINUSCA")
    day = dt.date.fromisoformat(rows[0]["start_time"][:10])
    for row in rows:
        row |= {"start_time": f"{day:%d/%m/%Y} 08:00", "end_time": f"{day:%d/%m/%Y} 12h30"}
    write("patrols", "day_first_dates_minusca.csv", csv_text(rows, delimiter=";"))
    rows = patrols(2)
    for row in rows:
        row |= {"start_time": f"{day:%d/%m/%Y} 08:00", "end_time": f"{day:%d/%m/%Y} 12:00"}
    rows[1] |= {"start_time": f"{day:%Y-%m-%d} 08:00", "end_time": f"{day:%Y-%m-%d} 12:00"}
    write("patrols", "day_first_dates_unmiss.csv", csv_text(rows))
    rows = patrols(2)
    serial = (dt.date.fromisoformat(rows[1]["start_time"][:10]) - dt.date(1899, 12, 30)).days
    rows[1] |= {"start_time": f"{serial}.333333", "end_time": f"{serial}.5"}
    write("patrols", "excel_serial_dates.csv", csv_text(rows))
    rows = patrols(2)
    rows[1]["start_time"] = rows[1]["start_time"].replace(" ", "T") + ":00Z"
    write("patrols", "time_zone_suffix.csv", csv_text(rows))

    # Excel
    rows = patrols(2)
    rows[1]["persons"] = "-1"
    grid = table(rows)
    write("patrols", "merged_title_banner.xlsx", workbook(
        {"Patrouilles": [["UNMISS weekly patrol log"], []] + grid},
        {"Patrouilles": ["A1:O1"]}))
    rows = patrols(3)
    rows[2]["end_time"] = rows[2]["start_time"].replace("08:00", "06:00")
    groups = ["Identification", None, None, None, "Time", None, "Where and how", None, None,
              None, "Strength", None, None, "Purpose", None]
    write("patrols", "merged_group_header.xlsx", workbook(
        {"Sheet1": [groups] + table(rows)},
        {"Sheet1": ["A1:D1", "E1:F1", "G1:J1", "K1:M1", "N1:O1"]}))
    grid = table(patrols(2))
    grid[0][11] = None  # 'persons' merged over K1:L1: the name 'women' is lost
    write("patrols", "merged_header_cells.xlsx", workbook(
        {"Sheet1": grid}, {"Sheet1": ["K1:L1"]}))
    write("patrols", "extra_sheets.xlsx", workbook({
        "Instructions": [["Fill one row per patrol."], ["Times are local."]],
        "Patrouilles": table(patrols(2)),
        "Listes": [["mode"], ["foot"], ["vehicle"], ["boat"], ["air"]],
    }))
    write("patrols", "two_data_sheets.xlsx", workbook({
        "Week 1": table(patrols(2)), "Week 2": table(patrols(2))}))
    rows = patrols(3)
    grid = table(rows)
    day = grid[3][4]
    grid[2][5] = (day.replace(hour=12) - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    grid[3][10] = "#N/A"
    write("patrols", "excel_dates_and_errors.xlsx", workbook({"Sheet1": grid}))
    write("patrols", "empty_workbook.xlsx", workbook({"Sheet1": [], "Sheet2": [[None]]}))
    write("patrols", "not_a_workbook.xlsx", b"%PDF-1.4\n% scanned page\n")
    write("patrols", "workbook_named_csv.csv", workbook({"Sheet1": table(patrols(1))}))
    # types the inbox does not read: an Excel 97-2003 workbook (its OLE2 signature) and the
    # week's CSV sent zipped
    write("patrols", "export_excel_97.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr(zipfile.ZipInfo("UNMISS_patrols.csv", (2025, 6, 2, 8, 0, 0)),
                         csv_text(patrols(2)))
    write("patrols", "week_zipped.zip", zipped.getvalue())


def make_other_sources() -> None:
    incidents = [
        {"incident_id": f"BI-I-{n}", "mission": "UNMISS", "occurred_at": "2025-04-07 08:00",
         "reported_at": "2025-04-07 09:00", "site_id": "SSD-S02", "category": "robbery_looting",
         "victims": "2", "fatalities": "0", "perpetrator_type": "criminals",
         "source_type": "community", "box": "blue", "narrative": "-- a witness said: =1+1",
         "reporter_name": "=Test Reporter", "reporter_phone": "+211 912 345 678"}
        for n in range(1, 4)
    ]
    incidents[1]["victims"] = "-2"
    incidents[2]["reported_at"] = "2025-04-06 09:00"
    write("incidents", "negative_victims_reported_before.csv", csv_text(incidents))
    unnamed = [dict(row, incident_id=f"BI-I-H{n}", reporter_name="Adut Nhial Garang",
                    reporter_phone="+211 91 274 609",
                    narrative="Witness 8805 saw the looting and asks for anonymity")
               for n, row in enumerate(incidents[:2], 1)]
    write("incidents", "no_header_row.csv", csv_text(unnamed).split("\r\n", 1)[1])
    write("patrols", "incidents_in_patrols_folder.csv", csv_text(unnamed))
    write("patrols", "incidents_without_header.csv", csv_text(unnamed).split("\r\n", 1)[1])

    trainings = [
        {"session_id": f"BI-T-{n}", "mission": "UNMISS", "course": "Community policing",
         "topic": "community_policing", "site_id": "SSD-S01", "start_date": "2025-04-14",
         "end_date": "2025-04-18", "host_police_unit": "Juba station", "participants": "20",
         "women": "5", "certified": "15"}
        for n in range(1, 5)
    ]
    trainings[1]["course"] = '=HYPERLINK("http://example.org","Course")'
    trainings[2]["host_police_unit"] = "@Juba station"
    trainings[3] |= {"start_date": "14/04/2025", "end_date": "18/04/2025"}
    write("trainings", "formula_and_day_first.csv", csv_text(trainings))
    french = [
        {"id_session": f"BI-TF-{n}", "mission_id": "MINUSCA", "formation": "Enquêtes VSBG",
         "thème": "enquete_vsbg", "site": "CAF-S02", "date_debut": "22/04/2025",
         "date_fin": "25/04/2025", "unité_police_locale": "Commissariat du 3e arrondissement",
         "participants": "18", "femmes": "7", "certifiés": "16"}
        for n in range(1, 3)
    ]
    french[1]["date_fin"] = "31/04/2025"
    write("trainings", "latin1_day_first_minusca.csv",
          csv_text(french, delimiter=";").encode("cp1252"))

    strength = [
        {"mission": "UNMISS", "month": "2025-05", "unit_type": unit, "authorized": "600",
         "deployed": "560", "women": "80", "fpu_operational_days": "1400"}
        for unit in ("FPU", "IPO", "SPT")
    ]
    strength[1]["authorized"] = "-5"
    strength[2]["month"] = "2031-05"
    write("strength", "negative_and_future_month.csv", csv_text(strength))

    surveys = [
        {"round": "2025-R7", "mission": "UNMISS", "site_id": "SSD-S01",
         "interview_date": "2025-05-10", "respondent_id": f"R-{n}", "weight": "1.0",
         "sex": "female", "age_band": "25-34", "feels_safe": "4", "trust_host_police": "3",
         "trust_unpol": "4", "would_report_to_police": "oui"}
        for n in range(1, 5)
    ]
    surveys[1]["feels_safe"] = "7"
    surveys[3]["respondent_id"] = "R-3"
    write("surveys", "out_of_range_and_duplicate_respondent.csv", csv_text(surveys))


if __name__ == "__main__":
    for source in SOURCES:
        shutil.rmtree(HERE / source, ignore_errors=True)
    make_patrols()
    make_other_sources()
    files = sorted(p.relative_to(HERE).as_posix() for p in HERE.rglob("*.*")
                   if p.parent != HERE)
    print(f"{len(files)} files, {sum((HERE / f).stat().st_size for f in files):,} bytes")
