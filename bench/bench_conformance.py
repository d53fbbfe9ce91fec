"""Benchmark: how long ``nnspec run --backend torch`` takes on the default cases.

    python bench/bench_conformance.py [--repeat 3] [--dtype float64]

Times the whole command as a user runs it, in a fresh interpreter (imports of numpy, torch and
nnspec included), and separately the run itself inside one process (conformance.run). The target
of the conformance issue is under 20 s for the command on this machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 20.0


def time_command(dtype: str) -> float:
    """Wall time of ``nnspec run --backend torch`` in a new interpreter, in seconds."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--backend", "torch", "--dtype", dtype,
         "-q"], cwd=ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"nnspec run failed (exit {proc.returncode}):\n{proc.stdout}"
                         f"{proc.stderr}")
    print(f"  command: {seconds:6.2f} s   {proc.stdout.strip()}")
    return seconds


def time_api(dtype: str) -> float:
    """Wall time of conformance.run("torch") in this process (imports already done)."""
    sys.path.insert(0, str(ROOT))
    import conformance

    conformance.run("torch", dtype=dtype, ops=["step"])          # warm up: imports, first calls
    start = time.perf_counter()
    report = conformance.run("torch", dtype=dtype)
    seconds = time.perf_counter() - start
    print(f"  in-process run: {seconds:6.2f} s   {len(report.results)} checks, "
          f"{len(report.results) / seconds:.0f} checks/s")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    args = parser.parse_args()
    import torch

    print(f"nnspec run --backend torch --dtype {args.dtype}: {os.cpu_count()} cores, "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads")
    commands = [time_command(args.dtype) for _ in range(args.repeat)]
    time_api(args.dtype)
    best, median = min(commands), statistics.median(commands)
    verdict = "meets" if median < TARGET_SECONDS else "MISSES"
    print(f"command: best {best:.2f} s, median {median:.2f} s: {verdict} the target of "
          f"{TARGET_SECONDS:.0f} s")
    return 0 if median < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
