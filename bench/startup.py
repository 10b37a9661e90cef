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

from bench.stampede import machine
from tests.conftest import ROOT, free_port, wait_ready


def time_to_ready(data_dir: Path, *args: str) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BMS_")}
    env.update(BMS_DATA_DIR=str(data_dir), BMS_LOG_LEVEL="WARNING")
    log_path = data_dir.parent / f"{data_dir.name}-{'-'.join(args)}.log"
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bmscli.main", *args, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process, log_path)
        return round(time.perf_counter() - started, 2)
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
