"""One module per ``bms admin`` command group."""
