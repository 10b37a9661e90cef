"""Announcements from a theater to the customers of its shows, through the notifications
outbox."""
