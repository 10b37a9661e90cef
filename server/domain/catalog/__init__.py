"""Cities, theaters, screens (from layout files), movies, reviews and search."""
