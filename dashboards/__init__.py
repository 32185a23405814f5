"""Builders of the published pages: each reads the warehouse read-only and writes HTML."""
