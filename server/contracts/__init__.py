"""Request and response shapes shared by the server, the TUI and the admin CLI.

Plain msgspec Structs and enums: no framework or database imports, so clients can depend on
this package without pulling in server internals.
"""
