"""Small-cell suppression: primary, complementary across levels, and the recoverability checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.indicators.suppression import (
    additive_groups,
    determined_cells,
    recoverable_cells,
    suppress_counts,
)

GROUP = ["parent"]


def hierarchy(sectors: dict[str, list[int]]) -> pd.DataFrame:
    """Mission -> sectors -> sites; site ``A1`` is the first site of sector ``A``; index = unit."""
    rows = [{"level": "mission", "org_unit": "M", "parent": None,
             "value": sum(sum(s) for s in sectors.values())}]
    for name, sites in sectors.items():
        rows.append({"level": "sector", "org_unit": name, "parent": "M", "value": sum(sites)})
        rows += [
            {"level": "site", "org_unit": f"{name}{i}", "parent": name, "value": v}
            for i, v in enumerate(sites, start=1)
        ]
    return pd.DataFrame(rows).set_index("org_unit", drop=False)


def suppressed(out: pd.DataFrame) -> set[str]:
    return set(out.index[out["suppressed"]])


def test_single_small_site_forces_one_sibling() -> None:
    out = suppress_counts(hierarchy({"A": [3, 10, 12], "B": [8, 9, 20]}), "value", GROUP)
    assert suppressed(out) == {"A1", "A2"}
    assert out.loc["A1", "suppression_reason"] == "primary"
    assert out.loc["A2", "suppression_reason"] == "complementary"
    assert out.loc["A1", "value_published"] is None and out.loc["A1", "value"] == 3
    assert out.loc["A3", "value_published"] == 12
    assert recoverable_cells(out, GROUP) == []
    assert determined_cells(out, GROUP) == []


def test_small_sector_forces_sibling_sector_and_its_site() -> None:
    out = suppress_counts(hierarchy({"A": [1, 1, 2], "B": [8, 6, 7]}), "value", GROUP)
    # A and its sites are small; B must go so A is not M - B; then B's smallest site, B2 (6),
    # so B is not the sum of its sites. The mission total stays published.
    assert suppressed(out) == {"A", "A1", "A2", "A3", "B", "B2"}
    assert out.loc["M", "value_published"] == 25
    assert recoverable_cells(out, GROUP) == []
    assert determined_cells(out, GROUP) == []


def test_counts_at_or_above_threshold_untouched() -> None:
    frame = hierarchy({"A": [5, 10, 12], "B": [8, 9, 20]})
    out = suppress_counts(frame, "value", GROUP)
    assert not out["suppressed"].any()
    assert out["value_published"].tolist() == frame["value"].tolist()
    assert out["value"].tolist() == frame["value"].tolist()


def test_threshold_configurable() -> None:
    frame = hierarchy({"A": [3, 10, 12], "B": [8, 9, 20]})
    assert suppressed(suppress_counts(frame, "value", GROUP, threshold=3)) == set()
    assert suppressed(suppress_counts(frame, "value", GROUP, threshold=9)) == {
        "A1", "A2", "B1", "B2"
    }


def test_zero_is_published_unless_asked_and_not_a_preferred_complement() -> None:
    frame = hierarchy({"A": [0, 3, 12], "B": [8, 9, 20]})
    out = suppress_counts(frame, "value", GROUP)
    assert suppressed(out) == {"A2", "A3"}  # 0 is published and skipped as a complement
    assert out.loc["A1", "value_published"] == 0
    assert suppressed(suppress_counts(frame, "value", GROUP, suppress_zero=True)) == {"A1", "A2"}


def test_only_child_forces_the_total() -> None:
    out = suppress_counts(hierarchy({"A": [3], "B": [8, 9]}), "value", GROUP)
    assert {"A1", "A", "B"} <= suppressed(out)
    assert recoverable_cells(out, GROUP) == []


def test_disaggregated_table_with_row_totals() -> None:
    rows = []
    data = {"S1": (2, 9), "S2": (7, 8), "S3": (6, 11)}
    for cat, col in (("F", 0), ("M", 1)):
        rows.append(("M", None, cat, sum(v[col] for v in data.values())))
        rows += [(site, "M", cat, v[col]) for site, v in data.items()]
    rows.append(("M", None, "Total", sum(sum(v) for v in data.values())))
    rows += [(site, "M", "Total", sum(v)) for site, v in data.items()]
    frame = pd.DataFrame(rows, columns=["org_unit", "parent", "category", "value"])
    kwargs = {"margin_col": "category"}
    assert len(additive_groups(frame, ["parent", "category"], **kwargs)) == 3 + 4
    primary = suppress_counts(frame, "value", ["parent", "category"], complementary=False, **kwargs)
    assert recoverable_cells(primary, ["parent", "category"], **kwargs) != []
    out = suppress_counts(frame, "value", ["parent", "category"], **kwargs)
    assert out["suppressed"].sum() >= 4
    assert recoverable_cells(out, ["parent", "category"], **kwargs) == []
    assert determined_cells(out, ["parent", "category"], **kwargs) == []


def test_rejects_bad_input() -> None:
    frame = hierarchy({"A": [3, 10], "B": [8, 9]})
    with pytest.raises(ValueError, match="non-negative"):
        suppress_counts(frame.assign(value=frame["value"] - 9), "value", GROUP)
    with pytest.raises(ValueError, match="parent"):
        suppress_counts(frame, "value", ["level"])


def random_hierarchy(rng: np.random.Generator) -> pd.DataFrame:
    n_sectors = int(rng.integers(2, 5))
    return hierarchy({
        chr(ord("A") + s): rng.integers(0, 31, size=int(rng.integers(2, 7))).tolist()
        for s in range(n_sectors)
    })


def test_property_no_suppressed_cell_is_recoverable() -> None:
    rng = np.random.default_rng(20240611)
    primary_leaks = 0
    for _ in range(300):
        frame = random_hierarchy(rng)
        out = suppress_counts(frame, "value", GROUP, threshold=5)
        small = (frame["value"] > 0) & (frame["value"] < 5)
        assert out.loc[small, "suppressed"].all()
        assert out["value_published"].isna().tolist() == out["suppressed"].tolist()
        assert recoverable_cells(out, GROUP) == []
        assert determined_cells(out, GROUP) == []
        primary = suppress_counts(frame, "value", GROUP, threshold=5, complementary=False)
        if recoverable_cells(primary, GROUP):
            primary_leaks += 1
    # The checker has teeth: primary suppression alone leaks in many tables.
    assert primary_leaks > 30


# ---------------------------------------------------------------------------------------------
# The long indicator table: org units x months, quarters, a fiscal year x categories.

MONTHS = {"2025-07": "2025-Q3", "2025-08": "2025-Q3", "2025-09": "2025-Q3",
          "2025-10": "2025-Q4", "2025-11": "2025-Q4", "2025-12": "2025-Q4"}
ORG = {"M": (None, None), "S1": ("mission", "M"), "S2": ("mission", "M"),
       "S1a": ("sector", "S1"), "S1b": ("sector", "S1"), "S2a": ("sector", "S2"),
       "S2b": ("sector", "S2"), "S2c": ("sector", "S2")}
LEVEL = {"M": "mission", "S1": "sector", "S2": "sector"}


def indicator_table(rng: np.random.Generator, code: str = "DET_VICTIMS") -> pd.DataFrame:
    """A random count indicator, its org, period and category totals consistent, with the
    weekly and site-by-category rows that publication leaves out."""
    sites = [u for u in ORG if u not in LEVEL]
    categories = ["a", "b", "c"]
    weeks = {f"2025-W{w:02d}": "2025-07" for w in (28, 29, 30, 31)}
    leaf = {(s, m, c): int(rng.poisson(rng.choice([0.5, 2, 6])))
            for s in sites for m in MONTHS for c in categories}
    rows = []

    def units(org: str) -> list[str]:
        kids = [u for u, (_, parent) in ORG.items() if parent == org]
        return [org] if not kids else [s for k in kids for s in units(k)]

    periods = {m: ("month", q, [m]) for m, q in MONTHS.items()}
    periods |= {q: ("quarter", "FY2025-26", [m for m, qq in MONTHS.items() if qq == q])
                for q in set(MONTHS.values())}
    periods["FY2025-26"] = ("fiscal_year", None, list(MONTHS))
    for org, (parent_level, parent) in ORG.items():
        for label, (ptype, parent_period, months) in periods.items():
            for dis, values in [("total", ["total"]), ("category", categories)]:
                for value in values:
                    cats = categories if value == "total" else [value]
                    count = sum(leaf[(s, m, c)] for s in units(org) for m in months for c in cats)
                    rows.append({
                        "indicator_code": code, "mission_id": "X",
                        "level": LEVEL.get(org, "site"), "org_unit_id": org,
                        "parent_level": parent_level, "parent_org_unit_id": parent,
                        "period_type": ptype, "period_label": label,
                        "parent_period_label": parent_period, "fiscal_year_label": "FY2025-26",
                        "disaggregation": dis, "disaggregation_value": value,
                        "value": float(count), "numerator": float(count), "denominator": None,
                        "observations": count, "ci_low": None, "ci_high": None,
                        "status": None,
                    })
    for week in weeks:  # weekly rows: never published for counts of people
        rows.append({**rows[0], "period_type": "week", "period_label": week,
                     "parent_period_label": weeks[week]})
    return pd.DataFrame(rows)


def test_indicator_table_publishes_no_recoverable_small_count() -> None:
    from pipelines.indicators.suppression import (
        determined_positions,
        indicator_groups,
        recoverable_positions,
        suppress_indicator_values,
    )

    rng = np.random.default_rng(7)
    complementary = 0
    for _ in range(25):
        table = indicator_table(rng)
        out = suppress_indicator_values(table, {"DET_VICTIMS": "value"}, threshold=5)
        kept = table[(table["period_type"] != "week")
                     & ((table["disaggregation"] == "total") | (table["level"] == "mission"))]
        assert len(out) == len(kept)  # weekly and site/sector-by-category rows withheld
        small = out["observations"].between(1, 4)
        assert out.loc[small, "suppressed"].all()
        assert out.loc[out["suppressed"], "value"].isna().all()
        assert (out.loc[~out["suppressed"], "value"] == out.loc[~out["suppressed"],
                                                                "observations"]).all()
        mask = out["suppressed"].to_numpy(dtype=bool)
        groups = indicator_groups(out)
        assert recoverable_positions(mask, groups) == []
        assert determined_positions(mask, groups) == []
        complementary += int((out["suppression_reason"] == "complementary").sum())
    assert complementary > 0


def test_indicator_table_leaves_operational_counts_alone() -> None:
    from pipelines.indicators.suppression import suppress_indicator_values

    table = indicator_table(np.random.default_rng(1), code="PAT_COUNT")
    out = suppress_indicator_values(table, {"PAT_COUNT": "none"}, threshold=5)
    assert len(out) == len(table) and not out["suppressed"].any()
    with pytest.raises(ValueError, match="no small_cells setting"):
        suppress_indicator_values(table, {}, threshold=5)
