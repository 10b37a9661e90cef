"""Signed QR tickets, their images, and check-in at the door."""
