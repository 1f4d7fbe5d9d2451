"""Benchmark: wall time and peak memory of `plr generate` and `plr review` on the embedded
default (SQLite), for portfolios of the sizes given (default 100,000 and 1,000,000 accounts).

    .venv/bin/python bench/bench_review.py [ACCOUNTS ...]

Each size runs in a fresh warehouse under .local/bench/ and prints one line per stage.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLR = str(Path(sys.executable).with_name("plr"))


def timed(args: list[str], env: dict) -> tuple[float, float]:
    started = time.perf_counter()
    result = subprocess.run([PLR, *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"plr {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, peak_mib


def main(sizes: list[int]) -> None:
    root = Path(__file__).resolve().parents[1] / ".local" / "bench"
    root.mkdir(parents=True, exist_ok=True)
    print(f"{'accounts':>10}  {'step':<28} {'wall s':>8}  {'peak RSS MiB (max so far)':>26}")
    for accounts in sizes:
        with tempfile.TemporaryDirectory(dir=root) as work:
            env = {**os.environ, "PLR_DATABASE_URL": f"sqlite:///{work}/warehouse.db",
                   "PLR_REPORT_DIR": f"{work}/reports", "GX_ANALYTICS_ENABLED": "false"}
            steps = [
                ("generate", ["generate", "--accounts", str(accounts)]),
                ("review 2026-11-26 (first)", ["review", "--date", "2026-11-26"]),
                ("review 2026-11-27", ["review", "--date", "2026-11-27"]),
                ("review 2026-11-27 (re-run)", ["review", "--date", "2026-11-27"]),
                ("review 2026-11-27 --dry-run", ["review", "--date", "2026-11-27", "--dry-run"]),
            ]
            for label, args in steps:
                elapsed, peak = timed(args, env)
                print(f"{accounts:>10,}  {label:<28} {elapsed:>8.1f}  {peak:>26.0f}", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
