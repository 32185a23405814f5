"""fct_indicator_values: the publishable indicator table.

Every indicator at every level, period and disaggregation (int_indicator_values_scored), with
small counts of people or events suppressed (var small_cell_threshold, per the catalogue's
small_cells) and enough other cells suppressed that none can be derived from the totals
(pipelines/indicators/suppression.py). Suppressed rows keep their keys and baseline/target
and are marked suppressed; their value, numerator, denominator, interval and status are NULL.
"""

from pipelines.faults import checkpoint
from pipelines.indicators.suppression import suppress_indicator_values

COLUMNS = [
    "indicator_code", "mission_id", "level", "org_unit_id", "parent_org_unit_id",
    "period_type", "period_label", "period_start", "period_end", "disaggregation",
    "disaggregation_value", "value", "numerator", "denominator", "ci_low", "ci_high",
    "baseline", "target", "status", "is_partial_period", "suppressed", "suppression_reason",
]


def model(dbt, session):
    dbt.config(materialized="table")
    checkpoint("dbt")  # fault tests kill the job here, in the middle of `dbt build`
    threshold = int(dbt.config.get("small_cell_threshold"))
    catalogue = dbt.ref("dim_indicators").df()
    values = dbt.ref("int_indicator_values_scored").df()
    small_cells = dict(zip(catalogue["indicator_code"], catalogue["small_cells"], strict=True))
    published = suppress_indicator_values(values, small_cells, threshold)
    for column in ("period_start", "period_end"):  # back to DATE, not TIMESTAMP
        published[column] = published[column].dt.date
    return published[COLUMNS]
