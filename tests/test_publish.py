"""Publishing a folder atomically (pipelines/publish.py) where the system has no one-step swap:
the two-rename fallback, killed between its renames with -9 for real, and the next publish
putting the old folder back before it swaps the new one in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipelines.publish import publish_folder

REPO = Path(__file__).resolve().parents[1]

# a publish with the one-step swap unavailable (as off Linux), held between its two renames
HELD_PUBLISH = """
import sys
from pathlib import Path
import pipelines.publish as publish
publish._exchange = lambda a, b: False
with publish.publish_folder(Path(sys.argv[1])) as folder:
    (folder / "index.html").write_text("new, never published")
"""


def test_a_publish_killed_between_its_two_renames_is_put_back(tmp_path: Path) -> None:
    target = tmp_path / "published" / "dashboards"
    target.mkdir(parents=True)
    (target / "index.html").write_text("old complete outputs")
    marker = tmp_path / "held"
    held = subprocess.Popen(
        [sys.executable, "-c", HELD_PUBLISH, str(target)], cwd=REPO,
        env={**os.environ, "POCMON_HOLD_AT": "publish:dashboards:between-renames",
             "POCMON_HOLD_MARKER": str(marker)})
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert held.poll() is None and time.monotonic() < deadline, "never held"
            time.sleep(0.05)
    finally:
        held.send_signal(signal.SIGKILL)
        held.wait()
    # killed with the old folder moved aside and the new one not yet in place
    assert not target.exists()
    aside = sorted(p.name for p in target.parent.iterdir())
    assert [n.split("-")[0] for n in aside] == [".dashboards.old", ".dashboards.tmp"], aside
    # the next publish puts the old folder back first; a failed write keeps it
    try:
        with publish_folder(target) as folder:
            (folder / "index.html").write_text("half")
            raise RuntimeError("the build failed")
    except RuntimeError:
        pass
    assert (target / "index.html").read_text() == "old complete outputs"
    with publish_folder(target) as folder:
        (folder / "index.html").write_text("new complete outputs")
    assert (target / "index.html").read_text() == "new complete outputs"
    assert sorted(p.name for p in target.parent.iterdir()) == ["dashboards"]
