"""Small-cell suppression for published counts, with complementary suppression.

Rule: a published count below ``threshold`` (default 5) is suppressed, and enough other cells are
suppressed with it that it cannot be derived from the totals. Suppressed cells are *marked*
(``suppressed`` is True, ``value_published`` is None, ``suppression_reason`` says why); the true
value stays in the frame so the caller decides what to publish.

Tables are sets of additive groups: a total row and the member rows that sum to it.

* Hierarchy: rows have ``org_unit`` and ``parent`` (site -> sector -> mission). Rows sharing the
  values of ``group_cols`` (which must include ``parent``) are siblings; their total is the row
  whose ``org_unit`` is that parent and whose other ``group_cols`` match.
* Disaggregation: with ``margin_col`` (e.g. ``category``), the rows of one org unit whose
  ``margin_col`` is not ``total_label`` sum to that org unit's ``total_label`` row.

Choices, documented:

* Zero is **not** suppressed by default: a true zero is publishable and discloses no individual
  (``suppress_zero=True`` changes that). Primary suppression is ``0 < value < threshold``.
* Complementary suppression: any group with exactly one suppressed cell (the total counts as a
  cell) gets one more: the smallest unsuppressed non-zero member (ties by row order); a zero only
  if no non-zero member is left, since a suppressed zero leaves the pair summing to the small value
  itself; the group total only if no member is left. This repeats over all groups and levels until
  no group has exactly one suppressed cell.
* ``recoverable_cells`` checks that no suppressed value can be recomputed by repeated subtraction;
  ``determined_cells`` is the stronger check that no suppressed value is fixed by any linear
  combination of the published totals. Interval (non-negativity) bounds are not checked.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

SUPPRESSED_COL = "suppressed"
PUBLISHED_COL = "value_published"
REASON_COL = "suppression_reason"


@dataclass(frozen=True)
class AdditiveGroup:
    """One additive constraint, ``total == sum(members)``, as row positions in the frame."""

    total: int
    members: tuple[int, ...]

    @property
    def cells(self) -> tuple[int, ...]:
        """The total and the members."""
        return (self.total, *self.members)


def additive_groups(
    frame: pd.DataFrame,
    group_cols: Sequence[str],
    *,
    id_col: str = "org_unit",
    parent_col: str = "parent",
    margin_col: str | None = None,
    total_label: Hashable = "Total",
) -> list[AdditiveGroup]:
    """The additive groups of a hierarchical (optionally disaggregated) table.

    Groups whose total row is absent from the frame impose no published constraint and are
    skipped. Raises ValueError if a cell (``id_col`` + other ``group_cols``) appears twice.
    """
    cols = list(group_cols)
    if parent_col not in cols:
        raise ValueError(f"group_cols must include the parent column {parent_col!r}")
    if margin_col is not None and margin_col not in cols:
        cols.append(margin_col)
    other = [c for c in cols if c != parent_col]
    ids = frame[id_col].tolist()
    parents = frame[parent_col].tolist()
    others = list(zip(*(frame[c].tolist() for c in other), strict=True)) if other else None

    def rest(pos: int) -> tuple:
        return others[pos] if others is not None else ()

    position: dict[tuple, int] = {}
    for pos, unit in enumerate(ids):
        key = (unit, *rest(pos))
        if key in position:
            raise ValueError(f"duplicate cell {key!r}")
        position[key] = pos

    groups: list[AdditiveGroup] = []
    children: dict[tuple, list[int]] = {}
    for pos, parent in enumerate(parents):
        if parent is None or (not isinstance(parent, str) and pd.isna(parent)):
            continue
        children.setdefault((parent, *rest(pos)), []).append(pos)
    for key, members in children.items():
        total = position.get(key)
        if total is not None:
            groups.append(AdditiveGroup(total, tuple(members)))

    if margin_col is not None:
        dims = [id_col] + [c for c in other if c != margin_col]
        rows = list(zip(*(frame[c].tolist() for c in dims), strict=True))
        margins = frame[margin_col].tolist()
        by_cell: dict[tuple, tuple[list[int], list[int]]] = {}
        for pos, key in enumerate(rows):
            totals, members = by_cell.setdefault(key, ([], []))
            (totals if margins[pos] == total_label else members).append(pos)
        for key, (totals, members) in by_cell.items():
            if len(totals) > 1:
                raise ValueError(f"several {total_label!r} rows for {key!r}")
            if totals and members:
                groups.append(AdditiveGroup(totals[0], tuple(members)))
    return groups


def _counts(frame: pd.DataFrame, value_col: str) -> np.ndarray:
    """The counts as int64; raises ValueError on missing, negative or non-integer values."""
    raw = pd.to_numeric(frame[value_col], errors="raise")
    if raw.isna().any():
        raise ValueError(f"{value_col!r} has missing values")
    values = raw.to_numpy(dtype=float)
    if (values < 0).any() or (values != np.round(values)).any():
        raise ValueError(f"{value_col!r} must hold non-negative integer counts")
    return values.astype(np.int64)


def _complement(values: np.ndarray, suppressed: np.ndarray, groups: list[AdditiveGroup]) -> None:
    """Add complementary suppressions in place until no group has exactly one suppressed cell."""
    changed = True
    while changed:
        changed = False
        for group in groups:
            unknown = [c for c in group.cells if suppressed[c]]
            if len(unknown) != 1:
                continue
            candidates = [m for m in group.members if not suppressed[m]]
            if candidates:
                pick = min(candidates, key=lambda m: (values[m] == 0, values[m], m))
            else:  # the only suppressed cell is the sole remaining member: hide the total
                pick = group.total
            suppressed[pick] = True
            changed = True


def suppress_counts(
    frame: pd.DataFrame,
    value_col: str,
    group_cols: Sequence[str],
    threshold: int = 5,
    *,
    id_col: str = "org_unit",
    parent_col: str = "parent",
    margin_col: str | None = None,
    total_label: Hashable = "Total",
    suppress_zero: bool = False,
    complementary: bool = True,
) -> pd.DataFrame:
    """Return a copy of ``frame`` with ``suppressed``, ``suppression_reason``, ``value_published``.

    Primary: ``0 < value < threshold`` (``value < threshold`` with ``suppress_zero``). Then,
    unless ``complementary=False`` (for testing only), complementary suppression to a fixed point
    across every level and margin. ``value_published`` is the value, or None when suppressed.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    values = _counts(frame, value_col)
    groups = additive_groups(
        frame, group_cols, id_col=id_col, parent_col=parent_col,
        margin_col=margin_col, total_label=total_label,
    )
    primary = values < threshold
    if not suppress_zero:
        primary &= values > 0
    suppressed = primary.copy()
    if complementary:
        _complement(values, suppressed, groups)
    out = frame.copy()
    out[SUPPRESSED_COL] = suppressed
    reasons = [
        "primary" if p else "complementary" if s else None
        for p, s in zip(primary, suppressed, strict=True)
    ]
    out[REASON_COL] = pd.Series(reasons, index=out.index, dtype=object)
    published = [None if s else int(v) for v, s in zip(values, suppressed, strict=True)]
    out[PUBLISHED_COL] = pd.Series(published, index=out.index, dtype=object)
    return out


def recoverable_cells(
    frame: pd.DataFrame,
    group_cols: Sequence[str],
    *,
    suppressed_col: str = SUPPRESSED_COL,
    id_col: str = "org_unit",
    parent_col: str = "parent",
    margin_col: str | None = None,
    total_label: Hashable = "Total",
) -> list[Hashable]:
    """Index labels of suppressed cells recomputable from published values by subtraction.

    A group (total + members) with exactly one unknown cell reveals it; revealed cells count as
    known, and this repeats to a fixed point. An empty list means the suppression holds.
    """
    groups = additive_groups(
        frame, group_cols, id_col=id_col, parent_col=parent_col,
        margin_col=margin_col, total_label=total_label,
    )
    known = ~frame[suppressed_col].to_numpy(dtype=bool)
    recovered: list[int] = []
    changed = True
    while changed:
        changed = False
        for group in groups:
            unknown = [c for c in group.cells if not known[c]]
            if len(unknown) == 1:
                known[unknown[0]] = True
                recovered.append(unknown[0])
                changed = True
    return [frame.index[pos] for pos in recovered]


def determined_cells(
    frame: pd.DataFrame,
    group_cols: Sequence[str],
    *,
    suppressed_col: str = SUPPRESSED_COL,
    id_col: str = "org_unit",
    parent_col: str = "parent",
    margin_col: str | None = None,
    total_label: Hashable = "Total",
) -> list[Hashable]:
    """Index labels of suppressed cells fixed by *any* linear combination of the constraints.

    Stronger than ``recoverable_cells``: a suppressed cell is determined when every solution of the
    additive equations (in the suppressed unknowns) gives it the same value, i.e. its coordinate
    vanishes on the null space of the constraint matrix.
    """
    groups = additive_groups(
        frame, group_cols, id_col=id_col, parent_col=parent_col,
        margin_col=margin_col, total_label=total_label,
    )
    unknown = np.flatnonzero(frame[suppressed_col].to_numpy(dtype=bool))
    if unknown.size == 0:
        return []
    column = {pos: j for j, pos in enumerate(unknown)}
    rows = []
    for group in groups:
        row = np.zeros(unknown.size)
        for pos in group.members:
            if pos in column:
                row[column[pos]] += 1.0
        if group.total in column:
            row[column[group.total]] -= 1.0
        if row.any():
            rows.append(row)
    if not rows:
        return []
    matrix = np.vstack(rows)
    _, sing, vt = np.linalg.svd(matrix)
    rank = int((sing > 1e-9 * max(sing[0], 1.0)).sum())
    null = vt[rank:]  # rows span the null space
    fixed = np.linalg.norm(null, axis=0) < 1e-9 if null.size else np.ones(unknown.size, bool)
    return [frame.index[unknown[j]] for j in np.flatnonzero(fixed)]
