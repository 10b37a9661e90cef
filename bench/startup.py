"""Start-up time of ``bms serve`` on the embedded backend: cold (empty data dir: initdb,
migrations) and warm (existing data dir), measured until /health/ready answers 200.

    python3 dev.py python -m bench.startup
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.stampede import machine
from tests.conftest import ROOT, free_port


def time_to_ready(data_dir: Path, *args: str) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BMS_")}
    env.update(BMS_DATA_DIR=str(data_dir), BMS_LOG_LEVEL="WARNING")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bmscli.main", *args, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).is_success:
                    return round(time.perf_counter() - started, 2)
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise SystemExit(f"bms {' '.join(args)} exited with {process.returncode}")
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(30)


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bms-startup-"))
    report = {
        "serve_cold_s": time_to_ready(data_dir / "a", "serve"),
        "serve_warm_s": time_to_ready(data_dir / "a", "serve"),
        "demo_cold_s": time_to_ready(data_dir / "b", "demo"),
        "demo_warm_s": time_to_ready(data_dir / "b", "demo"),
        "machine": machine(),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
