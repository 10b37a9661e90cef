"""Stampede benchmark: N buyers with real HTTP connections fight over one show's seats.

    python3 dev.py python -m bench.stampede --clients 1000 --strategies all

For each lock strategy it starts a real ``bms serve`` process on the embedded (or configured)
PostgreSQL and Valkey and, ``--rounds`` times (default 5), creates a fresh show on the largest
shipped layout and lets every client pick random free-looking seats until the show is sold
out. It prints one JSON object per strategy, from the median round by requests/s: requests/s,
successful holds/s, latency percentiles, conflicts, errors and double bookings (summed over
all rounds; must be 0) and time to sell out, with every round's requests/s and p99. It also drives the same hold statement straight
through the database driver, without HTTP, as the ceiling, and prints the ratio.

The load functions are shared with the stampede test (tests/e2e/test_stampede.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.lean_http import LeanConnection, bearer
from server.infra.heap import settle_heap

ROOT = Path(__file__).resolve().parent.parent
STRATEGIES = ("optimistic", "pessimistic", "redlock", "serializable")


@dataclass
class Outcome:
    latencies_ms: list[float] = field(default_factory=list)
    codes: dict[int, int] = field(default_factory=dict)
    held_seats: list[str] = field(default_factory=list)
    holds: int = 0
    started: float = 0.0
    sold_out_at: float | None = None
    # When the last answer came: rates are over the time requests were being answered, not
    # the pause a client may still sleep before it notices the show is sold out.
    last_answer_at: float = 0.0

    def record(self, code: int, elapsed_ms: float) -> None:
        self.latencies_ms.append(elapsed_ms)
        self.codes[code] = self.codes.get(code, 0) + 1
        self.last_answer_at = time.perf_counter()


async def guest_tokens(base_url: str, count: int) -> list[str]:
    async def one(http: aiohttp.ClientSession, i: int) -> str:
        async with http.post(f"{base_url}/api/v1/auth/guest", json={"name": f"buyer {i}"}) as r:
            r.raise_for_status()
            return str((await r.json())["token"])

    tokens: list[str] = []
    async with aiohttp.ClientSession() as http:
        for start in range(0, count, 100):
            batch = range(start, min(count, start + 100))
            tokens += await asyncio.gather(*(one(http, i) for i in batch))
    return tokens


async def run_stampede(
    base_url: str,
    show_id: uuid.UUID,
    seat_ids: list[str],
    tokens: list[str],
    *,
    max_seats: int = 4,
    attempts: int = 20,
    seed: int = 1,
    pause_s: float = 0.0,
) -> Outcome:
    """Every client loops: pick 1..max_seats seats it believes free, try to hold, learn from
    a 409 which seats are gone, until the show is sold out or it ran out of attempts.

    Each client has its own keep-alive connection, opened before the clock starts (the
    stampede measures holds, not TCP handshakes). With ``pause_s`` each client first arrives
    at a random moment within that many seconds and then pauses a random time averaging it
    (exponential) before each further attempt, as a person choosing seats again would: the
    load offered is then about clients / pause_s requests per second, whatever the latency."""
    believed_free = set(seat_ids)
    total = len(seat_ids)
    path = f"/api/v1/shows/{show_id}/holds"
    connections = []
    for start in range(0, len(tokens), 200):  # below the listen backlog
        batch = range(start, min(len(tokens), start + 200))
        connections += await asyncio.gather(*(LeanConnection.open(base_url) for _ in batch))
    outcome = Outcome(started=time.perf_counter())

    async def buyer(index: int, token: str, http: LeanConnection) -> None:
        rng = random.Random(seed * 100_003 + index)
        headers = bearer(token)
        if pause_s:
            await asyncio.sleep(rng.uniform(0, pause_s))
        for attempt in range(attempts):
            if pause_s and attempt:
                await asyncio.sleep(rng.expovariate(1 / pause_s))
            if len(outcome.held_seats) >= total or not believed_free:
                return
            pool = sorted(believed_free)
            pick = rng.sample(pool, min(len(pool), rng.randint(1, max_seats)))
            began = time.perf_counter()
            try:
                status, body = await asyncio.wait_for(
                    http.post_json(path, {"seat_ids": pick}, headers), timeout=30
                )
            except (ConnectionError, TimeoutError):
                outcome.record(0, (time.perf_counter() - began) * 1000)
                return  # the connection is unusable now
            outcome.record(status, (time.perf_counter() - began) * 1000)
            if status == 201:
                outcome.holds += 1
                outcome.held_seats.extend(pick)
                believed_free.difference_update(pick)
                if len(outcome.held_seats) >= total and outcome.sold_out_at is None:
                    outcome.sold_out_at = time.perf_counter()
            elif status == 409:
                believed_free.difference_update(body.get("unavailable", []))
            elif status == 429:
                return  # this buyer hit its limit: it leaves, as a person would

    try:
        await asyncio.gather(
            *(buyer(i, t, c) for i, (t, c) in enumerate(zip(tokens, connections, strict=True)))
        )
    finally:
        for connection in connections:
            connection.close()
    return outcome


async def double_bookings(engine: AsyncEngine, show_id: uuid.UUID, outcome: Outcome) -> int:
    """Seats owned twice: by two successful answers, two active holds or two active bookings."""
    twice_answered = len(outcome.held_seats) - len(set(outcome.held_seats))
    async with engine.connect() as conn:
        twice_held = await conn.scalar(
            text(
                "SELECT count(*) FROM (SELECT hs.seat_id FROM hold_seats hs"
                " JOIN holds h ON h.id = hs.hold_id WHERE h.show_id = :s AND h.status = 'ACTIVE'"
                " GROUP BY hs.seat_id HAVING count(*) > 1) twice"
            ),
            {"s": show_id},
        )
        twice_booked = await conn.scalar(
            text(
                "SELECT count(*) FROM (SELECT seat_id FROM booking_seats WHERE show_id = :s"
                " AND status = 'ACTIVE' GROUP BY seat_id HAVING count(*) > 1) twice"
            ),
            {"s": show_id},
        )
    return twice_answered + int(twice_held or 0) + int(twice_booked or 0)


async def seat_map_matches_database(base_url: str, engine: AsyncEngine, show_id: uuid.UUID) -> bool:
    async with httpx.AsyncClient(base_url=base_url) as client:
        answer = await client.get(f"/api/v1/shows/{show_id}/seatmap")
        answer.raise_for_status()
        seatmap = answer.json()
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT seat_id::text, status FROM show_seats WHERE show_id = :s"), {"s": show_id}
        )
        in_db = {str(seat_id): str(status) for seat_id, status in rows}
    return in_db == {seat["seat_id"]: seat["status"] for seat in seatmap["seats"]}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def summarise(strategy: str, outcome: Outcome, doubles: int, clients: int) -> dict[str, object]:
    elapsed = max(outcome.last_answer_at - outcome.started, 1e-9)
    requests = sum(outcome.codes.values())
    clean = {201, 409, 429}
    return {
        "strategy": strategy,
        "clients": clients,
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 1),
        "holds": outcome.holds,
        "holds_per_s": round(outcome.holds / elapsed, 1),
        "seats_held": len(set(outcome.held_seats)),
        "latency_ms": {
            "p50": percentile(outcome.latencies_ms, 0.50),
            "p95": percentile(outcome.latencies_ms, 0.95),
            "p99": percentile(outcome.latencies_ms, 0.99),
            "mean": round(statistics.fmean(outcome.latencies_ms), 2) if requests else 0,
        },
        "conflicts_409": outcome.codes.get(409, 0),
        "limited_429": outcome.codes.get(429, 0),
        "errors": sum(n for code, n in outcome.codes.items() if code not in clean),
        "double_bookings": doubles,
        "sold_out_s": round(outcome.sold_out_at - outcome.started, 3)
        if outcome.sold_out_at
        else None,
        "elapsed_s": round(elapsed, 3),
    }


async def direct_ceiling(
    database_url: str, redis_urls: tuple[str, ...], strategy: str, clients: int, seed: int = 1
) -> dict[str, object]:
    """The same hold path without HTTP: strategy.hold() from many tasks on one pool, as the
    server takes seats."""
    from server.domain.inventory.queries import HoldTarget
    from server.domain.inventory.strategies import SeatsUnavailable, make_strategy
    from server.infra.database import DriverPool

    engine = create_async_engine(database_url, pool_size=2, max_overflow=0)
    world = await make_show(engine, f"ceiling-{strategy}")
    driver_pool = await DriverPool.open(database_url, size=40, wait_seconds=10)
    chosen = make_strategy(strategy, redis_urls)
    seat_ids = [uuid.UUID(s) for s in world.seat_ids]
    free = set(seat_ids)
    buyer = world.buyer_id
    holds = requests = 0
    started = time.perf_counter()

    async def worker(index: int) -> None:
        nonlocal holds, requests
        rng = random.Random(seed * 7919 + index)
        while free:
            pool = sorted(free)
            pick = tuple(sorted(rng.sample(pool, min(len(pool), rng.randint(1, 4)))))
            now = datetime.now(UTC)
            target = HoldTarget(
                hold_id=uuid.uuid4(),
                show_id=world.show_id,
                buyer_id=buyer,
                seat_ids=pick,
                now=now,
                expires_at=now + timedelta(minutes=10),
                accessible=True,
                channel="api",
            )
            requests += 1
            try:
                await chosen.hold(driver_pool, target)
                holds += 1
                free.difference_update(pick)
            except SeatsUnavailable as exc:
                free.difference_update(exc.unavailable)

    await asyncio.gather(*(worker(i) for i in range(min(clients, 40))))
    elapsed = time.perf_counter() - started
    await driver_pool.close()
    await engine.dispose()
    return {
        "requests_per_s": round(requests / elapsed, 1),
        "holds_per_s": round(holds / elapsed, 1),
    }


@dataclass
class BenchShow:
    show_id: uuid.UUID
    seat_ids: list[str]
    buyer_id: uuid.UUID


async def make_show(engine: AsyncEngine, suffix: str) -> BenchShow:
    """A fresh city/theater/screen (largest shipped layout) and one show tomorrow."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from tests.factories import make_user, make_world

    async with AsyncSession(engine, expire_on_commit=False) as session:
        world = await make_world(
            session,
            starts_at=datetime.now(UTC) + timedelta(days=1),
            layout="imax-grand",
            name_suffix=f" {suffix} {uuid.uuid4().hex[:6]}",
        )
        buyer, _ = await make_user(session)
        general = await session.scalars(
            text("SELECT seat_id::text FROM show_seats WHERE show_id = :s AND NOT accessible_only"),
            {"s": world.show_id},
        )
        seat_ids = list(general)
    # Wheelchair and companion seats are not on general sale: "sold out" means the rest.
    return BenchShow(world.show_id, seat_ids, buyer.id)


def _start_server(
    strategy: str, env: dict[str, str], data_dir: Path, workers: int
) -> tuple[object, str]:
    import subprocess

    from tests.conftest import free_port, wait_ready

    port = free_port()
    log_path = data_dir / f"server-{strategy}.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bmscli.main",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env={**env, "BMS_LOCK_STRATEGY": strategy, "BMS_LOG_LEVEL": "WARNING"},
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process, log_path)
    return process, url


async def bench_strategy(
    strategy: str,
    clients: int,
    backend_env: dict[str, str],
    data_dir: Path,
    workers: int = 1,
    pause_s: float = 0.0,
    rounds: int = 1,
) -> dict[str, object]:
    """The median of ``rounds`` measured stampedes (by answered requests/s), each on a fresh
    show; double bookings and errors are summed over all of them, and every round's seat map
    must match the database."""
    engine = create_async_engine(backend_env["BMS_DATABASE_URL"])
    warmup = await make_show(engine, f"{strategy} warm-up")
    shows = [await make_show(engine, f"{strategy} {n}") for n in range(rounds)]
    process, url = _start_server(strategy, backend_env, data_dir, workers)
    runs: list[dict[str, Any]] = []
    try:
        tokens = await guest_tokens(url, clients)
        # A box office on release night has been up for hours: one unmeasured stampede on
        # another show first, so connections, prepared statements and caches are warm.
        await run_stampede(url, warmup.show_id, warmup.seat_ids, tokens)
        for show in shows:
            meter = CpuMeter(process.pid)  # type: ignore[attr-defined]
            outcome = await run_stampede(url, show.show_id, show.seat_ids, tokens, pause_s=pause_s)
            run = summarise(
                strategy, outcome, await double_bookings(engine, show.show_id, outcome), clients
            )
            run["cpu_ms_per_request"] = meter.per_request_ms(sum(outcome.codes.values()))
            run["seat_map_matches_database"] = await seat_map_matches_database(
                url, engine, show.show_id
            )
            runs.append(run)
    finally:
        process.terminate()  # type: ignore[attr-defined]
        process.wait()  # type: ignore[attr-defined]
    median = sorted(runs, key=lambda run: run["requests_per_s"])[len(runs) // 2]
    report: dict[str, Any] = {
        **median,
        "double_bookings": sum(run["double_bookings"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
        "seat_map_matches_database": all(run["seat_map_matches_database"] for run in runs),
        "rounds": [
            {"requests_per_s": run["requests_per_s"], "p99_ms": run["latency_ms"]["p99"]}
            for run in runs
        ],
    }
    ceiling = await direct_ceiling(
        backend_env["BMS_DATABASE_URL"],
        tuple(backend_env["BMS_REDLOCK_URLS"].split(",")),
        strategy,
        clients,
    )
    report["no_http_ceiling"] = ceiling
    # Two ratios: answered requests/s is what the HTTP layer costs; successful holds/s also
    # depends on contention, which differs (1,000 clients over HTTP, 40 tasks in the ceiling).
    for ratio, metric in (("ratio_to_ceiling", "requests_per_s"), ("holds_ratio", "holds_per_s")):
        measured, ceiling_value = float(report[metric]), float(ceiling[metric])  # type: ignore[arg-type]
        report[ratio] = round(measured / max(ceiling_value, 0.001), 3)
    await engine.dispose()
    return report


class CpuMeter:
    """CPU seconds spent by each part of the system while a stampede runs: where the two
    cores went (server, PostgreSQL, Valkey, this load generator)."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.before = self._sample()

    def _sample(self) -> dict[int, tuple[str, float]]:
        """CPU seconds so far per live process, keyed by pid (PostgreSQL backends come and go)."""
        import psutil

        server = psutil.Process(self.server_pid)
        parts = {p.pid: "server" for p in [server, *server.children(recursive=True)]}
        parts[os.getpid()] = "load_generator"
        for process in psutil.process_iter(["name"]):
            name = process.info["name"] or ""
            if name.startswith("postgres"):
                parts.setdefault(process.pid, "postgres")
            elif "valkey" in name:
                parts.setdefault(process.pid, "valkey")
        sample = {}
        for pid, part in parts.items():
            try:
                times = psutil.Process(pid).cpu_times()
            except psutil.NoSuchProcess:
                continue
            sample[pid] = (part, times.user + times.system)
        return sample

    def per_request_ms(self, requests: int) -> dict[str, float]:
        totals = {"server": 0.0, "postgres": 0.0, "valkey": 0.0, "load_generator": 0.0}
        for pid, (part, seconds) in self._sample().items():
            totals[part] += seconds - self.before.get(pid, (part, 0.0))[1]
        return {part: round(s * 1000 / max(requests, 1), 3) for part, s in totals.items()}


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--strategies", default="all", help="comma list or 'all'")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument(
        "--pause-ms",
        type=int,
        default=0,
        help="mean pause of each client between attempts (0: none, every client keeps one "
        "request in flight); the load offered is then about clients / pause requests/s",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="measured stampedes per strategy, each on a fresh show; the median is reported "
        "(one lasts about a second, and this machine's speed varies from second to second)",
    )
    args = parser.parse_args(argv)
    # The load generator shares the cores with what it measures: spare it the same full
    # garbage collections the server is spared (0.24 against 0.19 ms of CPU per request).
    settle_heap()
    chosen = STRATEGIES if args.strategies == "all" else tuple(args.strategies.split(","))

    from server.db.migrate import upgrade
    from server.infra.embedded import start_embedded

    data_dir = Path(tempfile.mkdtemp(prefix="bms-bench-"))
    embedded = start_embedded(
        data_dir, database=not os.environ.get("BMS_DATABASE_URL"), redis_nodes=3
    )
    env = dict(os.environ)
    env.update(
        BMS_DATABASE_URL=os.environ.get("BMS_DATABASE_URL") or embedded.database_url or "",
        BMS_REDIS_URL=embedded.redis_url or "",
        BMS_REDLOCK_URLS=",".join(embedded.redlock_urls),
        BMS_DATA_DIR=str(data_dir),
        BMS_SECRET_KEY="bench-secret",
        # A stampede from one address: lift the per-buyer and per-address limits.
        BMS_MAX_HOLDS_PER_BUYER="1000",
        BMS_RATE_LIMIT_PER_MINUTE="10000000",
        BMS_WAITING_ROOM_CAPACITY="100000",
    )
    await upgrade(env["BMS_DATABASE_URL"])
    print(json.dumps({"machine": machine(), "started": datetime.now(UTC).isoformat()}))
    try:
        for strategy in chosen:
            report = await bench_strategy(
                strategy,
                args.clients,
                env,
                data_dir,
                args.workers,
                args.pause_ms / 1000,
                args.rounds,
            )
            report["server_workers"] = args.workers
            report["pause_ms"] = args.pause_ms
            print(json.dumps(report), flush=True)
    finally:
        embedded.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
