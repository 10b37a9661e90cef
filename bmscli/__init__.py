"""The `bms` command: server commands, the TUI and the admin CLI behind one entry point."""
