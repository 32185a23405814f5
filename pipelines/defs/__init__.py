"""Dagster definitions, one small module per concern; assembled in ``pipelines.definitions``."""
