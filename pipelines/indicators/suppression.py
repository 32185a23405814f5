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

from collections.abc import Callable, Hashable, Sequence
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
    """Add complementary suppressions in place until no group has exactly one suppressed cell.

    A worklist: only groups holding a suppressed cell are checked, and a group is checked again
    when one of its cells becomes suppressed.
    """
    groups_of: dict[int, list[int]] = {}
    for index, group in enumerate(groups):
        for cell in group.cells:
            groups_of.setdefault(cell, []).append(index)
    pending = sorted({g for cell in np.flatnonzero(suppressed) for g in groups_of.get(cell, [])})
    while pending:
        group = groups[pending.pop()]
        unknown = [c for c in group.cells if suppressed[c]]
        if len(unknown) != 1:
            continue
        candidates = [m for m in group.members if not suppressed[m]]
        if candidates:
            pick = min(candidates, key=lambda m: (values[m] == 0, values[m], m))
        else:  # the only suppressed cell is the sole remaining member: hide the total
            pick = group.total
        suppressed[pick] = True
        pending.extend(groups_of.get(pick, []))


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


def recoverable_positions(suppressed: np.ndarray, groups: list[AdditiveGroup]) -> list[int]:
    """Positions of suppressed cells recomputable from the published ones by subtraction.

    A group (total + members) with exactly one unknown cell reveals it; revealed cells count as
    known, and this repeats to a fixed point. An empty list means the suppression holds.
    """
    known = ~np.asarray(suppressed, dtype=bool)
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
    return recovered


def determined_positions(suppressed: np.ndarray, groups: list[AdditiveGroup]) -> list[int]:
    """Positions of suppressed cells fixed by *any* linear combination of the constraints.

    Stronger than ``recoverable_positions``: a suppressed cell is determined when every solution
    of the additive equations (in the suppressed unknowns) gives it the same value, i.e. its
    coordinate vanishes on the null space of the constraint matrix.
    """
    unknown = np.flatnonzero(np.asarray(suppressed, dtype=bool))
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
    _, sing, vt = np.linalg.svd(np.vstack(rows))
    rank = int((sing > 1e-9 * max(sing[0], 1.0)).sum())
    null = vt[rank:]  # rows span the null space
    fixed = np.linalg.norm(null, axis=0) < 1e-9 if null.size else np.ones(unknown.size, bool)
    return [int(unknown[j]) for j in np.flatnonzero(fixed)]


def _audit(
    check: Callable[[np.ndarray, list[AdditiveGroup]], list[int]],
    frame: pd.DataFrame,
    group_cols: Sequence[str],
    suppressed_col: str,
    **group_options: object,
) -> list[Hashable]:
    """Run a position-level check on a hierarchical frame; index labels of the leaks."""
    groups = additive_groups(frame, group_cols, **group_options)
    positions = check(frame[suppressed_col].to_numpy(dtype=bool), groups)
    return [frame.index[pos] for pos in positions]


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
    """Index labels of suppressed cells recomputable from published values by subtraction."""
    return _audit(recoverable_positions, frame, group_cols, suppressed_col, id_col=id_col,
                  parent_col=parent_col, margin_col=margin_col, total_label=total_label)


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
    """Index labels of suppressed cells fixed by any linear combination of published totals."""
    return _audit(determined_positions, frame, group_cols, suppressed_col, id_col=id_col,
                  parent_col=parent_col, margin_col=margin_col, total_label=total_label)


# ---------------------------------------------------------------------------------------------
# The long indicator table (fct_indicator_values).

INDICATOR_KEY = [
    "indicator_code", "mission_id", "level", "org_unit_id", "period_type", "period_label",
    "disaggregation", "disaggregation_value",
]
PARENT_PERIOD_TYPE = {"week": "month", "month": "quarter", "quarter": "fiscal_year"}
# dim_indicators.small_cells: which published numbers count people or events
SMALL_CELL_COUNTS = {
    "none": (), "value": ("value",), "numerator": ("numerator",),
    "denominator": ("denominator",), "numerator_denominator": ("denominator", "numerator"),
    "observations": (),
}
ADDITIVE_SETTINGS = ("value", "numerator", "denominator", "numerator_denominator")
# where counts of people or events are published
COUNTS_PERIODS = ("month", "quarter", "fiscal_year")
COUNTS_BROKEN_DOWN_AT = ("mission",)
# published columns a suppressed row loses
HIDDEN_COLUMNS = ["value", "numerator", "denominator", "ci_low", "ci_high", "status"]


def parent_groups(
    frame: pd.DataFrame, key_cols: Sequence[str], parent_cols: dict[str, pd.Series]
) -> list[AdditiveGroup]:
    """Additive groups of one hierarchy: a row's parent key is its key with the columns of
    ``parent_cols`` replaced (a missing replacement means the row has no parent there)."""
    keys = list(zip(*(frame[c].tolist() for c in key_cols), strict=True))
    position: dict[tuple, int] = {}
    for pos, key in enumerate(keys):
        if key in position:
            raise ValueError(f"duplicate cell {key!r}")
        position[key] = pos
    columns = [
        parent_cols[c].tolist() if c in parent_cols else frame[c].tolist() for c in key_cols
    ]
    replaced = [i for i, c in enumerate(key_cols) if c in parent_cols]
    children: dict[tuple, list[int]] = {}
    for pos, parent in enumerate(zip(*columns, strict=True)):
        if any(parent[i] is None or parent[i] is pd.NA or parent[i] != parent[i]
               for i in replaced):
            continue
        children.setdefault(parent, []).append(pos)
    return [
        AdditiveGroup(position[parent], tuple(members))
        for parent, members in children.items()
        if parent in position
    ]


def indicator_groups(frame: pd.DataFrame) -> list[AdditiveGroup]:
    """The additive groups of fct_indicator_values: sites sum to their sector and sectors to
    their mission; weeks to their month, months to their quarter, quarters to their fiscal
    year; the values of a disaggregation to its total."""
    total = pd.Series(
        np.where(frame["disaggregation"] == "total", None, "total"), index=frame.index
    )
    return (
        parent_groups(frame, INDICATOR_KEY, {
            "level": frame["parent_level"], "org_unit_id": frame["parent_org_unit_id"],
        })
        + parent_groups(frame, INDICATOR_KEY, {
            "period_type": frame["period_type"].map(PARENT_PERIOD_TYPE),
            "period_label": frame["parent_period_label"],
        })
        + parent_groups(frame, INDICATOR_KEY, {
            "disaggregation": total, "disaggregation_value": total,
        })
    )


def suppress_indicator_values(
    frame: pd.DataFrame, small_cells: dict[str, str], threshold: int = 5
) -> pd.DataFrame:
    """fct_indicator_values as published: small counts suppressed, with complementary cells.

    ``frame`` has ``INDICATOR_KEY``, ``parent_level``, ``parent_org_unit_id``,
    ``parent_period_label``, ``fiscal_year_label``, ``value``, ``numerator``, ``denominator``,
    ``observations`` and the ``HIDDEN_COLUMNS``; ``small_cells`` maps each indicator code to its
    catalogue setting.

    * Counts of people or events (settings in ``ADDITIVE_SETTINGS``) are published by month,
      quarter and fiscal year, not by week, and broken down by category at mission level only:
      other rows of those indicators are dropped. Site-weeks are mostly small cells, and the
      fewer hierarchies cross, the fewer cells complementary suppression has to hide.
    * Primary: a count named by the setting is above 0 and below ``threshold``, or, for
      ``observations``, the value rests on fewer than ``threshold`` rows or respondents.
    * Complementary, for the additive counts: over the groups of ``indicator_groups`` (org
      units, periods, disaggregations) until no group has exactly one suppressed cell; then an
      exact audit per indicator, mission and fiscal year (``determined_positions``) and more
      suppression until no suppressed count is fixed by any combination of published totals.

    Suppressed rows keep their keys, lose the ``HIDDEN_COLUMNS`` and are marked ``suppressed``
    with a ``suppression_reason``.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    unknown = set(frame["indicator_code"]) - set(small_cells)
    if unknown:
        raise ValueError(f"no small_cells setting for {sorted(unknown)}")
    setting = frame["indicator_code"].map(small_cells)
    withheld = setting.isin(ADDITIVE_SETTINGS) & (
        ~frame["period_type"].isin(COUNTS_PERIODS)
        | ((frame["disaggregation"] != "total") & ~frame["level"].isin(COUNTS_BROKEN_DOWN_AT))
    )
    frame = frame[~withheld].reset_index(drop=True)
    setting = setting[~withheld].reset_index(drop=True)

    primary = np.zeros(len(frame), dtype=bool)
    pick_values = np.zeros(len(frame))
    for name, columns in SMALL_CELL_COUNTS.items():
        rows = (setting == name).to_numpy()
        for column in columns:
            counts = pd.to_numeric(frame[column], errors="coerce").fillna(0).to_numpy(float)
            primary |= rows & (counts > 0) & (counts < threshold)
        if columns:
            first = pd.to_numeric(frame[columns[0]], errors="coerce").fillna(0).to_numpy(float)
            pick_values = np.where(rows, first, pick_values)
    observed = pd.to_numeric(frame["observations"], errors="coerce").fillna(0).to_numpy(float)
    primary |= (setting == "observations").to_numpy() & (observed > 0) & (observed < threshold)

    suppressed = primary.copy()
    additive = setting.isin(ADDITIVE_SETTINGS)
    blocks = frame[additive].groupby(["indicator_code", "mission_id", "fiscal_year_label"])
    for positions in blocks.indices.values():
        positions = frame.index[additive][positions].to_numpy()
        _protect_block(frame.iloc[positions].reset_index(drop=True), positions,
                       pick_values, suppressed)

    out = frame.copy()
    out[SUPPRESSED_COL] = suppressed
    out[REASON_COL] = pd.Series(
        np.where(primary, "primary", np.where(suppressed, "complementary", None)),
        index=out.index, dtype=object,
    )
    for column in HIDDEN_COLUMNS:
        if pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].astype(float).where(~suppressed)  # NaN: NULL in DuckDB
        else:
            out[column] = out[column].astype(object).where(~suppressed, None)
    return out


def _protect_block(
    block: pd.DataFrame, positions: np.ndarray, values: np.ndarray, suppressed: np.ndarray
) -> None:
    """Complementary suppression in one independent block (an indicator, mission and fiscal
    year: no published total links two blocks), in place on the frame-wide arrays."""
    if not suppressed[positions].any():
        return
    groups = indicator_groups(block)
    local_values = values[positions]
    local = suppressed[positions].copy()
    while True:
        _complement(local_values, local, groups)
        determined = determined_positions(local, groups)
        if not determined:
            break
        # hide the smallest published cell of a group through each determined cell
        added = False
        for cell in determined:
            options = [c for g in groups if cell in g.cells for c in g.cells if not local[c]]
            if options:
                local[min(options, key=lambda c: (local_values[c] == 0, local_values[c], c))] = True
                added = True
        if not added:  # nothing left to hide around them: withhold the whole block
            local[:] = True
    suppressed[positions] = local
