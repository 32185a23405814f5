"""pocmon: monitoring and evaluation of UN police contributions to the protection of civilians."""
