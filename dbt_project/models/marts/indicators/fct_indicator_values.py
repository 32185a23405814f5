"""fct_indicator_values: the publishable indicator table.

Every indicator at every level, period and disaggregation (int_indicator_values_scored), with
small counts of people or events suppressed (var small_cell_threshold, per the catalogue's
small_cells) and enough other cells suppressed that none can be derived from the totals
(pipelines/indicators/suppression.py). Suppressed rows keep their keys and baseline/target
and are marked suppressed; their value, numerator, denominator, interval and status are NULL.
The row work runs in DuckDB; only blocks needing complementary suppression go to pandas
(pipelines/indicators/publication.py). Incremental by fiscal year
(macros/incremental_by_fiscal_year.sql; the pre-hook in _indicators__models.yml deletes the
fiscal years to rebuild): blocks of complementary suppression never span two fiscal years.
"""

from pipelines.faults import checkpoint
from pipelines.indicators.publication import publish_indicator_values


def model(dbt, session):
    dbt.config(materialized="incremental", on_schema_change="sync_all_columns")
    checkpoint("dbt")  # fault tests kill the job here, in the middle of `dbt build`
    threshold = int(dbt.config.get("small_cell_threshold"))
    catalogue = dbt.ref("dim_indicators").df()
    small_cells = dict(zip(catalogue["indicator_code"], catalogue["small_cells"], strict=True))
    scored = dbt.ref("int_indicator_values_scored")
    dbt.ref("dim_periods")  # read by the pre-hook of incremental builds
    if dbt.is_incremental:
        session.register("_publish_changed", dbt.ref("int_indicator_fiscal_years_changed"))
        scored = scored.filter(
            "fiscal_year_label in (select fiscal_year_label from _publish_changed)")
    session.register("_publish_scored", scored)
    return publish_indicator_values(session, "_publish_scored", small_cells, threshold)
