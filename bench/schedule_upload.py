"""Bulk schedule benchmark: upload 2,000 shows with their seat inventory through the admin API.

    python3 dev.py python -m bench.schedule_upload [--shows 2000] [--screens 20]

It starts the embedded (or configured) PostgreSQL and Valkey and a real ``bms serve``, creates
one theater with ``--screens`` screens on the standard 150-seat layout and a movie, then
POSTs one schedule upload (shows back to back on every screen, cleaning buffer included):
first as a dry run (every row checked, nothing written), then for real. It prints one JSON
object: seconds for each, the rows written (shows and show_seats) and whether the upload
met the target of under 10 seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bench.stampede import machine

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 10.0
SLOT = timedelta(minutes=120 + 15 + 15)  # a 120-minute movie, 15 minutes cleaning, 15 spare
PRICES = {"regular": 25000, "premium": 40000, "wheelchair": 25000, "companion": 25000}


async def build_catalog(database_url: str, screens: int) -> tuple[list[str], str]:
    """One theater with ``screens`` screens and a movie; returns (screen names, admin token)."""
    from server.contracts.enums import Role
    from server.domain.catalog.screens import create_screen
    from server.layouts import SHIPPED_LAYOUTS_DIR, load_layout
    from tests.factories import make_user, make_world

    engine = create_async_engine(database_url)
    path = SHIPPED_LAYOUTS_DIR / "standard-150.layout"
    async with AsyncSession(engine, expire_on_commit=False) as session:
        world = await make_world(session, starts_at=datetime.now(UTC) - timedelta(days=1))
        names = ["Screen 1"]
        for number in range(2, screens + 1):
            names.append(f"Screen {number}")
            await create_screen(
                session,
                theater_id=world.theater_id,
                name=names[-1],
                formats=["2D"],
                layout=load_layout(path),
                layout_source=path.read_text(),
            )
        await session.commit()
        _, token = await make_user(session, role=Role.PLATFORM_ADMIN)
    await engine.dispose()
    return names, token


def schedule_rows(screens: list[str], shows: int) -> list[dict[str, object]]:
    """``shows`` rows spread over the screens, each screen's shows back to back from tomorrow
    (local wall time in Kolkata, the factory theater's city)."""
    now = datetime.now(ZoneInfo("Asia/Kolkata"))
    first = now.replace(tzinfo=None, minute=0, second=0, microsecond=0) + timedelta(days=1)
    rows = []
    for index in range(shows):
        screen, slot = screens[index % len(screens)], index // len(screens)
        rows.append(
            {
                "row": index + 2,
                "movie": "Test Movie",
                "theater": "Test Cinema",
                "screen": screen,
                "starts_at": (first + slot * SLOT).strftime("%Y-%m-%d %H:%M"),
                "language": "English",
                "format": "2D",
                "prices_minor": PRICES,
            }
        )
    return rows


def upload(
    url: str, token: str, rows: list[dict[str, object]], dry_run: bool
) -> tuple[float, dict]:
    started = time.perf_counter()
    response = httpx.post(
        f"{url}/api/v1/admin/schedule/uploads",
        json={"rows": rows, "dry_run": dry_run},
        headers={"Authorization": f"Bearer {token}"},
        timeout=300,
    )
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response.json()


async def written(database_url: str) -> tuple[int, int]:
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        shows = await conn.scalar(text("SELECT count(*) FROM shows"))
        seats = await conn.scalar(text("SELECT count(*) FROM show_seats"))
    await engine.dispose()
    return int(shows or 0), int(seats or 0)


def start_server(env: dict[str, str], data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    from tests.conftest import free_port, wait_ready

    port = free_port()
    log_path = data_dir / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bmscli.main", "serve", "--port", str(port)],
        cwd=ROOT,
        env={**env, "BMS_LOG_LEVEL": "WARNING"},
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process, log_path)
    return process, url


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shows", type=int, default=2000)
    parser.add_argument("--screens", type=int, default=20)
    args = parser.parse_args(argv)

    from server.db.migrate import upgrade
    from server.infra.embedded import start_embedded, stop_postgres

    data_dir = Path(tempfile.mkdtemp(prefix="bms-bench-upload-"))
    external = os.environ.get("BMS_DATABASE_URL")
    embedded = start_embedded(data_dir, database=not external, redis_nodes=1)
    database_url = external or embedded.database_url or ""
    env = {
        **os.environ,
        "BMS_DATABASE_URL": database_url,
        "BMS_REDIS_URL": embedded.redis_url or "",
        "BMS_DATA_DIR": str(data_dir),
        "BMS_SECRET_KEY": "bench-secret",
    }
    process = None
    try:
        await upgrade(database_url)
        screens, token = await build_catalog(database_url, args.screens)
        rows = schedule_rows(screens, args.shows)
        process, url = start_server(env, data_dir)
        shows_before, seats_before = await written(database_url)
        dry_seconds, dry = upload(url, token, rows, dry_run=True)
        seconds, report = upload(url, token, rows, dry_run=False)
        shows_after, seats_after = await written(database_url)
        print(
            json.dumps(
                {
                    "benchmark": "schedule_upload",
                    "machine": machine(),
                    "rows": len(rows),
                    "screens": len(screens),
                    "dry_run_seconds": round(dry_seconds, 3),
                    "dry_run_problems": len(dry["problems"]),
                    "seconds": round(seconds, 3),
                    "shows_created": report["created"],
                    "shows_written": shows_after - shows_before,
                    "show_seats_written": seats_after - seats_before,
                    "target_seconds": TARGET_SECONDS,
                    "within_target": seconds < TARGET_SECONDS,
                }
            ),
            flush=True,
        )
    finally:
        if process is not None:
            process.terminate()
            process.wait()
        embedded.stop()
        if not external:
            stop_postgres(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
