"""Notifications: the transactional outbox and the worker that turns its events into e-mail
and SMS (docs/notifications.md)."""
