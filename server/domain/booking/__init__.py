"""Checkout: quotes for holds, bookings with (split) payments, reading bookings back."""
