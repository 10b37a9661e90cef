"""The domain slices: each has controllers (HTTP), services (rules) and queries (SQL)."""
