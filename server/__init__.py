"""The bms box-office server: inventory and bookings in PostgreSQL, Redis for locks and live maps."""
