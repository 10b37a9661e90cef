"""The floor under every bms request: what Litestar on uvicorn costs for a request that does
nothing, on this machine.

    python3 dev.py python -m bench.http_floor --clients 1000 --requests 10

It serves a bare Litestar app with the hold route's shape (a UUID path parameter, a msgspec
JSON body, a bearer header) answering a fixed 409 problem, the commonest answer of a stampede,
with the same server options as ``bms serve`` (uvicorn, uvloop, httptools, one process). The
load is the stampede's: N keep-alive connections from ``bench/lean_http.py``, each with one
request in flight. It prints requests/s and the CPU milliseconds per request of the server
and of the load generator: the part of ``bench/stampede.py``'s numbers that no work in bms
itself can remove.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid

import msgspec
import psutil
from litestar import Litestar, Response, post

from bench.lean_http import LeanConnection, bearer
from bench.stampede import machine, percentile
from tests.conftest import free_port


class HoldRequest(msgspec.Struct):
    seat_ids: list[uuid.UUID]


@post("/api/v1/shows/{show_id:uuid}/holds", status_code=201)
async def refuse(show_id: uuid.UUID, data: HoldRequest) -> Response[dict[str, object]]:
    return Response(
        {"status": 409, "detail": "Those seats are gone.", "unavailable": data.seat_ids},
        status_code=409,
        media_type="application/problem+json",
    )


app = Litestar([refuse])


def _serve(port: int) -> subprocess.Popen[bytes]:
    code = (
        f"import uvicorn; uvicorn.run('bench.http_floor:app', port={port}, "
        "log_level='warning', access_log=False)"
    )
    return subprocess.Popen([sys.executable, "-c", code])


async def _wait_listening(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise RuntimeError("the floor server did not start")


async def run(clients: int, requests_each: int) -> dict[str, object]:
    port = free_port()
    server = _serve(port)
    try:
        await _wait_listening(port)
        url = f"http://127.0.0.1:{port}"
        connections = []
        for start in range(0, clients, 200):
            batch = min(clients, start + 200) - start
            connections += await asyncio.gather(*(LeanConnection.open(url) for _ in range(batch)))
        path = f"/api/v1/shows/{uuid.uuid4()}/holds"
        body = {"seat_ids": [str(uuid.uuid4()) for _ in range(2)]}
        headers = bearer("x" * 43)
        latencies: list[float] = []

        async def client(http: LeanConnection) -> None:
            for _ in range(requests_each):
                began = time.perf_counter()
                status, _ = await http.post_json(path, body, headers)
                assert status == 409, status
                latencies.append((time.perf_counter() - began) * 1000)

        await asyncio.gather(*(client(c) for c in connections[: min(50, clients)]))  # warm-up
        latencies.clear()
        served, here = psutil.Process(server.pid), psutil.Process(os.getpid())
        cpu_before = (sum(served.cpu_times()[:2]), sum(here.cpu_times()[:2]))
        started = time.perf_counter()
        await asyncio.gather(*(client(c) for c in connections))
        elapsed = time.perf_counter() - started
        cpu_after = (sum(served.cpu_times()[:2]), sum(here.cpu_times()[:2]))
        for connection in connections:
            connection.close()
    finally:
        server.terminate()
        server.wait()
    count = len(latencies)
    return {
        "clients": clients,
        "requests": count,
        "requests_per_s": round(count / elapsed, 1),
        "latency_ms": {q: percentile(latencies, v) for q, v in (("p50", 0.5), ("p99", 0.99))},
        "cpu_ms_per_request": {
            "server": round((cpu_after[0] - cpu_before[0]) * 1000 / count, 3),
            "load_generator": round((cpu_after[1] - cpu_before[1]) * 1000 / count, 3),
        },
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=10, help="requests per client")
    args = parser.parse_args(argv)
    print(json.dumps({"machine": machine()}))
    print(json.dumps(asyncio.run(run(args.clients, args.requests))))


if __name__ == "__main__":
    main(sys.argv[1:])
