"""Reconciliation: a gateway's settlement file matched against our payments and refunds."""
