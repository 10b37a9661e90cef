"""The ``bms admin`` command line: accounts, tokens and layouts, over the server's HTTP API."""
