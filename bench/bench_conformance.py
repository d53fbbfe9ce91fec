"""Benchmark: how long a default ``nnspec run`` takes, as a user meets it.

    python bench/bench_conformance.py [--repeat 5] [--jax-repeat 3] [--no-jax] [--no-torch]
                                      [--torch-threads N]

Every figure is a whole command in a fresh interpreter, repeated; the median and the spread
(lowest–highest) are printed, with the targets and whether the median meets them:

* ``nnspec run --backend torch``: the time its summary line reports for the checks (read
  unrounded from its ``--json`` report), target ≤ 0.2 s; and its wall time against that of
  ``python -c "import torch"``, measured alternately in the same repetitions, target at most
  0.5 s above it (a run that passes need not import what only a diagnosis needs).
* ``nnspec run --backend jax``, per dtype: the checks' time and the wall time of the first run
  with an empty compilation cache (``NNSPEC_JAX_CACHE`` pointed at a new temporary folder:
  every program is compiled and stored) and of the later runs that find the programs there,
  target ≤ 4 s for the checks after the first run. The user's own cache is never touched.

The machine's load average is printed before and after: on a loaded machine every figure is
inflated, so compare figures taken in the same minute. torch's thread pool suffers most: on the
2-core machine at a load average of 8, the torch run's checks took 2.4–3.9 s with torch's 2
threads and 0.4 s with 1. ``--torch-threads 1`` (OMP_NUM_THREADS for both the run and the import
it is compared with) shows what the harness costs when the machine is not idle.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKS_TARGET = 0.2        # s: the torch run's checks (its summary line)
ABOVE_IMPORT_TARGET = 0.5  # s: the torch run's wall time above `python -c "import torch"`
JAX_TARGET = 4.0           # s: the jax run's checks per dtype, once its programs are cached


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def wall(command: Sequence[str], env: dict[str, str] | None = None) -> float:
    """Seconds the command takes in a fresh interpreter; a failing command ends the benchmark."""
    start = time.perf_counter()
    proc = subprocess.run(list(command), cwd=ROOT, capture_output=True, text=True, check=False,
                          env=env or _env())
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {proc.returncode}):\n{proc.stdout}"
                         f"{proc.stderr}")
    return seconds


def nnspec_run(backend: str, dtype: str, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(the checks' seconds as the summary line reports them, the wall seconds) of one run."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        seconds = wall([sys.executable, "-m", "conformance", "run", "--backend", backend,
                        "--dtype", dtype, "-q", "--json", str(report)], env)
        checks = float(json.loads(report.read_text(encoding="utf-8"))["seconds"])
    return checks, seconds


def spread(values: Sequence[float]) -> str:
    """``median (lowest–highest)`` in seconds."""
    return (f"{statistics.median(values):.2f} s ({min(values):.2f}–{max(values):.2f}, "
            f"n = {len(values)})")


def verdict(value: float, target: float) -> str:
    return "meets" if value <= target else "MISSES"


def bench_torch(repeat: int, dtype: str, threads: int | None = None) -> list[str]:
    """Time the torch run and torch's import alternately; return the missed targets."""
    env = _env() if threads is None else _env(OMP_NUM_THREADS=str(threads))
    imports, walls, checks = [], [], []
    for _ in range(repeat):
        imports.append(wall([sys.executable, "-c", "import torch"], env))
        check, seconds = nnspec_run("torch", dtype, env)
        checks.append(check)
        walls.append(seconds)
    above = [w - i for w, i in zip(walls, imports)]
    print(f"\nnnspec run --backend torch --dtype {dtype}, {repeat} runs, each after a "
          f"`python -c \"import torch\"`"
          f"{'' if threads is None else f', OMP_NUM_THREADS={threads}'}:")
    print(f"  checks (summary line):    {spread(checks)}")
    print(f"  wall time:                {spread(walls)}")
    print(f"  python -c 'import torch': {spread(imports)}")
    print(f"  wall above import torch:  {spread(above)}")
    missed = []
    check_median, above_median = statistics.median(checks), statistics.median(above)
    print(f"  target: checks ≤ {CHECKS_TARGET} s: {verdict(check_median, CHECKS_TARGET)}; "
          f"wall ≤ import torch + {ABOVE_IMPORT_TARGET} s: "
          f"{verdict(above_median, ABOVE_IMPORT_TARGET)}")
    if check_median > CHECKS_TARGET:
        missed.append(f"torch checks {check_median:.2f} s > {CHECKS_TARGET} s")
    if above_median > ABOVE_IMPORT_TARGET:
        missed.append(f"torch wall {above_median:.2f} s above import > {ABOVE_IMPORT_TARGET} s")
    return missed


def bench_jax(repeat: int, dtypes: Sequence[str]) -> list[str]:
    """Time the jax run per dtype, first with an empty cache, then warm; return the misses."""
    missed = []
    for dtype in dtypes:
        with tempfile.TemporaryDirectory() as cache:
            env = _env(NNSPEC_JAX_CACHE=cache)
            first = nnspec_run("jax", dtype, env)
            later = [nnspec_run("jax", dtype, env) for _ in range(repeat)]
            entries = sum(1 for p in Path(cache).rglob("*") if p.is_file())
        median = statistics.median(c for c, _ in later)
        print(f"\nnnspec run --backend jax --dtype {dtype} ({entries} files in the cache):")
        print(f"  first run (empty cache): checks {first[0]:.2f} s, wall {first[1]:.2f} s")
        print(f"  later runs:  checks {spread([c for c, _ in later])}")
        print(f"               wall   {spread([w for _, w in later])}")
        print(f"  target: checks ≤ {JAX_TARGET} s after the first run: "
              f"{verdict(median, JAX_TARGET)}")
        if median > JAX_TARGET:
            missed.append(f"jax {dtype} checks {median:.2f} s > {JAX_TARGET} s")
    return missed


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="torch runs (default 5)")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"],
                        help="the torch run's dtype (default float64)")
    parser.add_argument("--jax-repeat", type=int, default=3,
                        help="jax runs per dtype after the first (default 3)")
    parser.add_argument("--torch-threads", type=int, default=None, metavar="N",
                        help="OMP_NUM_THREADS for the torch run and import (default: torch's "
                             "own choice, as a user runs it)")
    parser.add_argument("--no-torch", action="store_true", help="skip the torch run")
    parser.add_argument("--no-jax", action="store_true", help="skip the jax runs")
    args = parser.parse_args(argv)

    print(f"{os.cpu_count()} cores; load average {load()} (1, 5, 15 min); median "
          f"(lowest–highest) of fresh interpreters")
    missed = []
    if not args.no_torch:
        missed += bench_torch(args.repeat, args.dtype, args.torch_threads)
    if not args.no_jax:
        missed += bench_jax(args.jax_repeat, ["float64", "float32"])
    print(f"\nload average at the end {load()}")
    if missed:
        print("missed targets:\n  " + "\n  ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
