"""The quarantine report: every rejected file and quarantined row, with what to fix.

Written for the planning officer as CSV (to sort and filter) and as one plain HTML page that
opens offline. Values from input files are HTML-escaped in the page and neutralised in the CSV
(text a spreadsheet would run as a formula gets a leading apostrophe, as in every export);
personal values were never kept.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.indicators.export_writer import neutralise

QUARANTINE_SQL = """
select q.source, q.source_file as file, q.row_number as "row", q.column_name as "column",
       q.rule, q.offending_value as value, q.message, m.status as file_status, q.quarantined_at
from ops.quarantine q
join ops.manifest m using (file_id)
where m.status in ('loaded', 'rejected')
order by q.source, q.source_file, q.row_number nulls first, q.column_name
"""

FILES_SQL = """
select source, status, count(*) as files, sum(rows_read) as rows_read,
       sum(rows_loaded) as rows_loaded, sum(rows_quarantined) as rows_quarantined
from ops.manifest group by source, status order by source, status
"""

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:80rem}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f0f0} .ok{color:#1a7f37} .warn{color:#9a6700} code{background:#f6f6f6}
"""


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(
            f"<td>{'' if pd.isna(v) else html.escape(str(v))}</td>" for v in row
        ) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def build_quarantine_report(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    """Write ``quarantine_report.csv`` and ``quarantine_report.html`` into ``folder``."""
    issues = con.execute(QUARANTINE_SQL).df()
    files = con.execute(FILES_SQL).df()
    folder.mkdir(parents=True, exist_ok=True)
    published = issues.copy()
    for column in published.columns:
        if published[column].dtype == object or pd.api.types.is_string_dtype(published[column]):
            published[column] = published[column].map(neutralise, na_action="ignore")
    # with a BOM, as the indicator exports: Excel then reads the accents as UTF-8
    published.to_csv(folder / "quarantine_report.csv", index=False, encoding="utf-8-sig")
    rejected = issues[issues["file_status"] == "rejected"]
    rows = issues[issues["file_status"] == "loaded"]
    n_rows = rows[["file", "row"]].drop_duplicates().shape[0]
    by_rule = rows.groupby(["source", "rule"]).size().rename("issues").reset_index()
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    verdict = (
        '<p class="ok">Nothing is quarantined: every row of every file was loaded.</p>'
        if issues.empty else
        f'<p class="warn">{len(rejected)} file(s) rejected whole and {n_rows} row(s) '
        "quarantined. Fix them in the source file and drop the corrected file into the inbox "
        "again: it replaces the earlier one.</p>"
    )
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>pocmon quarantine report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Quarantine report</h1>",
        f"<p>Generated {generated}.</p>", verdict,
        "<h2>Files by source</h2>", _table(files),
    ]
    if not rejected.empty:
        parts += ["<h2>Rejected files</h2>", _table(rejected[["source", "file", "message"]])]
    if not rows.empty:
        parts += ["<h2>Broken rules</h2>", _table(by_rule),
                  "<h2>Quarantined rows</h2>",
                  _table(rows[["source", "file", "row", "column", "rule", "value", "message"]])]
    parts.append("</body></html>")
    (folder / "quarantine_report.html").write_text("\n".join(parts), encoding="utf-8")
    return {"rejected_files": len(rejected), "quarantined_rows": n_rows, "issues": len(rows)}
