"""Process-level plumbing: embedded servers, database engine, Redis clients."""
