"""Named points where a fault test can hold the job and kill it (``kill -9``) for real.

With ``POCMON_HOLD_AT=<point>`` set (``ingest`` names every ``ingest:<source>``), the process
that reaches that point first writes its pid to ``POCMON_HOLD_MARKER`` (when set) and sleeps,
so that a test can kill it exactly there. Unset, as always outside the tests, a checkpoint
costs one environment lookup.

Points: ``ingest:<source>`` (inside the source's transaction, rows inserted, not committed),
``dbt`` (inside ``dbt build``, in the indicator model, after the models it depends on),
``publish:<folder>`` (new outputs written, not swapped in) and
``publish:<folder>:between-renames`` (the two-rename fallback, old folder moved aside).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

HOLD_VARIABLE = "POCMON_HOLD_AT"
MARKER_VARIABLE = "POCMON_HOLD_MARKER"


def checkpoint(point: str) -> None:
    """Hold here for a fault test when ``POCMON_HOLD_AT`` names this point."""
    hold = os.environ.get(HOLD_VARIABLE)
    if not hold or (point != hold and not point.startswith(f"{hold}:")):
        return
    marker = os.environ.get(MARKER_VARIABLE)
    if marker:
        Path(marker).write_text(f"{os.getpid()} {point}\n", encoding="utf-8")
    while True:  # until killed
        time.sleep(60)
