"""Synthetic demo data with planted effects and faults (``pocmon demo``)."""
