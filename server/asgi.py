"""ASGI entry point for process managers: ``uvicorn --factory server.asgi:create``.

Unlike ``bms serve`` it starts no embedded servers: BMS_DATABASE_URL and BMS_REDIS_URL must
be set (``bms serve --workers N`` sets them for its worker processes).
"""

from __future__ import annotations

from litestar import Litestar

from server.app import create_app
from server.settings import load_settings


def create() -> Litestar:
    settings = load_settings()
    if settings.database_url is None or settings.redis_url is None:
        raise SystemExit("server.asgi needs BMS_DATABASE_URL and BMS_REDIS_URL to be set")
    return create_app(settings, serving=True)
