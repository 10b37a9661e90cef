"""The bms terminal UI (Textual). It reaches the server only through ``bmscli.client``."""
