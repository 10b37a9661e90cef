"""The waiting list for sold-out shows: join with a seat count and type; when seats free up,
the next person in line gets a time-limited priority hold and a notification."""
