"""The admin API: theaters, screens and layouts, movies, bulk schedules, prices, seat repairs.

Every rule here runs for platform admins everywhere and for theater admins on their own
theaters only; the admin CLI (``bms admin``) is a client of these endpoints."""
