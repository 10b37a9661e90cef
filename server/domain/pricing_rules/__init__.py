"""Dynamic pricing: rules that adjust a show's base prices (occupancy, weekday, time of day,
days before the show) within floors and ceilings. ``rules.effective_prices`` is the pure core;
``services.show_prices`` loads one show's inputs and applies it."""
