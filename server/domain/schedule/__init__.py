"""Shows: creation with their seat inventory, overlap rules, prices."""
