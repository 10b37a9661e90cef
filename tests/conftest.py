"""Test harness: real embedded PostgreSQL and Valkey, started once per session.

Each test gets a clean database (every table truncated) and an empty Redis, so tests never
see each other's rows. Nothing here is mocked: the same servers, drivers and SQL as production.
"""

from __future__ import annotations

import os

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis as redis_sync
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from server.clock import FrozenClock
from server.db.migrate import upgrade
from server.db.models import Base
from server.infra.database import DriverPool, async_url
from server.infra.embedded import EmbeddedBackend, start_embedded, stop_postgres
from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Backend:
    database_url: str
    redis_url: str
    redlock_urls: tuple[str, ...]
    data_dir: Path
    embedded: EmbeddedBackend


@pytest.fixture(scope="session")
def backend() -> Iterator[Backend]:
    """PostgreSQL (BMS_TEST_DATABASE_URL or embedded) and three Valkey nodes, migrated once.

    The data directory lives outside pytest's rotating temp dirs: another pytest run on the
    same machine may prune those while this session's PostgreSQL still uses them.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="bms-test-"))
    external_db = os.environ.get("BMS_TEST_DATABASE_URL")
    # BMS_TEST_REDIS_URLS: three comma-separated external Redis URLs (the first is the main one).
    external_redis = tuple(u for u in os.environ.get("BMS_TEST_REDIS_URLS", "").split(",") if u)
    embedded = start_embedded(
        data_dir, database=external_db is None, redis_nodes=0 if external_redis else 3
    )
    database_url = async_url(external_db or embedded.database_url or "")
    redlock_urls = external_redis or embedded.redlock_urls
    asyncio.run(upgrade(database_url))
    yield Backend(
        database_url=database_url,
        redis_url=redlock_urls[0],
        redlock_urls=redlock_urls,
        data_dir=data_dir,
        embedded=embedded,
    )
    embedded.stop()
    stop_postgres(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)


TRUNCATE = "TRUNCATE {} RESTART IDENTITY CASCADE".format(
    ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
)


@pytest.fixture
async def engine(backend: Backend) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(backend.database_url, pool_size=10, max_overflow=40)
    async with engine.begin() as conn:
        await conn.execute(text(TRUNCATE))
    for url in backend.redlock_urls:
        client = redis_sync.Redis.from_url(url)
        client.flushdb()
        client.close()
    yield engine
    await engine.dispose()


@pytest.fixture
async def driver_pool(engine: AsyncEngine, backend: Backend) -> AsyncIterator[DriverPool]:
    """asyncpg's own pool on the test database, as the app's lock strategies use it."""
    pool = await DriverPool.open(backend.database_url, size=4, wait_seconds=5)
    yield pool
    await pool.close()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    return Settings(
        database_url=backend.database_url,
        redis_url=backend.redis_url,
        redlock_urls=backend.redlock_urls,
        data_dir=tmp_path,
        secret_key="test-secret-key-not-for-production",
        rate_limit_per_minute=100_000,
    )


@pytest.fixture
async def client(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[AsyncTestClient]:
    """The real app in-process (real database, real Redis) with a frozen clock."""
    from server.app import create_app

    app = create_app(settings, clock=clock)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


# Terminal-UI flows (Pilot, and the real `bms` in a pseudo-terminal) wait on real servers and
# on the screen's own timing: on two cores shared by two test processes, one may miss its
# moment now and then. Each gets one more try; a real failure fails both, and pytest reports
# every rerun ("R" in the progress line, "rerun" in the summary).
TIMING_DEPENDENT = ("tests/tui/", "tests/e2e/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(TIMING_DEPENDENT):
            item.add_marker(pytest.mark.flaky(reruns=1))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def server_env(backend: Backend, data_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        BMS_DATABASE_URL=backend.database_url,
        BMS_REDIS_URL=backend.redis_url,
        BMS_REDLOCK_URLS=",".join(backend.redlock_urls),
        BMS_DATA_DIR=str(data_dir),
        BMS_SECRET_KEY="test-secret-key-not-for-production",
        BMS_LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


def wait_ready(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not ready after {timeout}s:\n{log_path.read_text()}")


def start_server(
    backend: Backend, data_dir: Path, args: list[str] | None = None, **env: str
) -> ServerProcess:
    """Run the real ``bms serve`` in a subprocess and wait until it is ready."""
    port = free_port()
    log_path = data_dir / f"server-{port}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "bmscli.main", *(args or ["serve"]), "--port", str(port)],
        cwd=ROOT,
        env=server_env(backend, data_dir, **env),
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process, log_path)
    return ServerProcess(url=url, process=process, log_path=log_path)


@pytest.fixture
def server_factory(backend: Backend, engine: AsyncEngine, tmp_path: Path) -> Iterator[object]:
    started: list[ServerProcess] = []

    def factory(**env: str) -> ServerProcess:
        server = start_server(backend, tmp_path / f"srv{len(started)}", **env)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def utc_now() -> datetime:
    return datetime.now(UTC)


__all__ = ["Backend", "ServerProcess", "free_port", "replace", "start_server", "wait_ready"]
