"""A full disk and a read-only output folder, for real: small tmpfs mounts in a private mount
namespace (``unshare``), so the kernel itself answers "No space left on device" or
"Read-only file system". Each case must give a clear error and lose nothing."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
                           capture_output=True, check=False)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _namespaces_work(),
                                reason="needs unshare and mount namespaces (util-linux)")


def run_in_namespace(script: str, mounts: list[str]) -> dict:
    """Run a Python script after the shell ``mounts`` commands, in a private mount namespace;
    the script prints one JSON object, returned here."""
    body = textwrap.dedent(script)
    command = " && ".join([*mounts, f"exec {shlex.quote(sys.executable)} -c {shlex.quote(body)}"])
    result = subprocess.run(["unshare", "-rm", "sh", "-c", command], capture_output=True,
                            text=True, cwd=REPO, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


PREAMBLE = """
import json, os, sys
from pathlib import Path
sys.path.insert(0, "tests")
from conftest import write_csv
from test_contracts import GOOD_ROWS
from pipelines.ingest.load import ingest_source
from pipelines.ingest.warehouse import connect
from pipelines.reference import load_reference

reference = load_reference(Path("dbt_project/seeds/reference"))
KEY = b"k" * 32

def patrols(path, first, count, day="2025-01-06"):
    week = dict(GOOD_ROWS["patrols"], start_time=f"{day} 08:00", end_time=f"{day} 12:00")
    rows = [dict(week, patrol_id=f"P-{i}") for i in range(first, first + count)]
    write_csv(path, rows)

def state(con):
    return [con.execute("select count(*) from raw.patrols").fetchone()[0],
            con.execute("select file_name, status, rows_loaded from ops.manifest order by 1")
               .fetchall()]

def fill(folder):
    with open(folder / "filler", "wb") as handle:
        try:
            while True:
                handle.write(b"x" * 65536)
                handle.flush()
        except OSError:
            pass
"""


def test_full_disk_while_loading_loses_nothing_and_says_so(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    inbox = tmp_path / "inbox"
    disk.mkdir()
    script = PREAMBLE + f"""
disk, inbox = Path({str(disk)!r}), Path({str(inbox)!r})
patrols(inbox / "patrols" / "week1.csv", 0, 50)
with connect(disk / "w.duckdb") as con:
    ingest_source(con, "patrols", inbox, reference, KEY, extensions=[".csv"])
    con.execute("checkpoint")
    before = state(con)
fill(disk)
patrols(inbox / "patrols" / "week2.csv", 1000, 20000, day="2025-01-13")
message = None
try:
    with connect(disk / "w.duckdb") as con:
        ingest_source(con, "patrols", inbox, reference, KEY, extensions=[".csv"])
except Exception as exc:
    message = f"{{type(exc).__name__}}: {{exc}}"
os.remove(disk / "filler")
with connect(disk / "w.duckdb") as con:
    after_failure = state(con)
    ingest_source(con, "patrols", inbox, reference, KEY, extensions=[".csv"])
    after_retry = state(con)
print(json.dumps({{"before": before, "after_failure": after_failure,
                  "after_retry": after_retry, "message": message}}))
"""
    out = run_in_namespace(script, [f"mount -t tmpfs -o size=16m tmpfs {disk}"])
    assert out["message"] is not None, "the load should have failed on a full disk"
    assert out["message"].startswith("WarehouseWriteError: cannot write the warehouse: the disk "
                                     "is full"), out["message"]
    assert "rolled back" in out["message"]
    assert out["after_failure"] == out["before"]
    rows, manifest = out["after_retry"]
    assert rows == 50 + 20000
    assert [m[0] for m in manifest] == ["patrols/week1.csv", "patrols/week2.csv"]


@pytest.mark.parametrize("problem", ["read-only", "full"])
def test_publishing_to_a_read_only_or_full_folder_keeps_the_old_outputs(
    problem: str, tmp_path: Path
) -> None:
    out_dir = tmp_path / "published"
    (out_dir / "dashboards").mkdir(parents=True)
    (out_dir / "dashboards" / "index.html").write_text("old complete outputs")
    if problem == "read-only":
        mounts = [f"mount --bind {out_dir} {out_dir}", f"mount -o remount,ro,bind {out_dir}"]
    else:
        mounts = [f"mount -t tmpfs -o size=1m tmpfs {out_dir}",
                  f"mkdir {out_dir}/dashboards",
                  f"echo -n 'old complete outputs' > {out_dir}/dashboards/index.html"]
    script = f"""
import json
from pathlib import Path
from pipelines.publish import PublishError, publish_folder
target = Path({str(out_dir)!r}) / "dashboards"
message = None
try:
    with publish_folder(target) as folder:
        (folder / "index.html").write_text("new")
        (folder / "big.bin").write_bytes(b"x" * 4_000_000)
except PublishError as exc:
    message = str(exc)
print(json.dumps({{"message": message, "kept": (target / "index.html").read_text(),
                  "files": sorted(p.name for p in target.parent.iterdir())}}))
"""
    out = run_in_namespace(script, mounts)
    words = {"read-only": "read-only file system", "full": "the disk is full"}[problem]
    assert out["message"] is not None and words in out["message"], out
    assert "previous outputs there are unchanged" in out["message"]
    assert out["kept"] == "old complete outputs"
    assert out["files"] == ["dashboards"]  # no half-written staging folder left behind
