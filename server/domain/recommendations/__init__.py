"""Recommendations: co-bookings (item-to-item collaborative filtering), taste and popularity."""
