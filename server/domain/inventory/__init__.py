"""Seat inventory: seat maps, holds and best-available selection."""
