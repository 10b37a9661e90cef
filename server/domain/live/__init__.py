"""Live seat maps over WebSockets (Litestar channels on Redis) and the virtual waiting room."""
