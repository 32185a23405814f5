"""Ingestion: read inbox files, validate them against their contracts, load DuckDB."""
