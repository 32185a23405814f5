"""The CPAS-aligned indicator catalogue: the seed dbt loads as dim_indicators, and its docs."""
