"""Benchmark: what the second core gives each library's 2×2 pools, alone in its process, called
back to back or in the comparison benchmarks' rhythm (issue 14: the float64 pools at 2 threads).
A script, not a test::

    python bench/bench_threads.py [--rounds R] [--repeat N]

bench_conv.py times the reference's pools against torch's in blocks of three calls, each block
after a pause of 0.1 s (bench/_harness.py, ``race``). On the development machine (a 2-core
virtual machine) the reference's float64 pools missed their ratio of 1.0 there at 2 threads
while they are 2–4× faster than torch's on one thread. This script separates the question from
the race between the two libraries: each library runs alone in a fresh process (as installed,
steady allocator, as bench_conv.py), with 1 and with 2 threads, and

* ``back to back``: the calls one after another, no pause;
* ``paused``: the comparison's rhythm, 0.1 s of sleep before each block of three calls.

torch also runs with ``OMP_WAIT_POLICY=PASSIVE``: its OpenMP threads then sleep as soon as they
are idle, as the reference's block threads do (a Python thread waiting for work sleeps), instead
of spinning for a while first (libgomp's default). The table gives each configuration's best and
median call (ms, forward + backward of x [32, 32, 32, 32], the medians over the repetitions) and
the gain of the second thread, best call on one thread over best call on two (1.0: no gain).

Measured on 2026-12-04 (idle, load average below 1): see the README, "Where the second core went".
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Fn, _configure_child

RHYTHMS = {"back to back": 0.0, "paused": 0.1}
SIDES = (("reference", ""), ("torch", ""), ("torch", "PASSIVE"))   # (library, OMP_WAIT_POLICY)


def _calls(library: str, kind: str) -> Fn:
    import numpy as np

    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 32, 32, 32))
    dy = rng.normal(size=(32, 32, 16, 16))
    if library == "reference":
        from reference import pooling

        forward, backward = {"max": (pooling.max_pool2d, pooling.max_pool2d_backward),
                             "avg": (pooling.avg_pool2d, pooling.avg_pool2d_backward)}[kind]
        return lambda: (forward(x, 2, 2), backward(dy, x, 2, 2))
    import torch
    import torch.nn.functional as F

    pool: Any = {"max": F.max_pool2d, "avg": F.avg_pool2d}[kind]
    tx, tdy = torch.tensor(x, requires_grad=True), torch.tensor(dy)

    def call() -> None:
        tx.grad = None
        pool(tx, 2, 2).backward(tdy)

    return call


def _time(call: Fn, rounds: int, pause: float) -> list[float]:
    for _ in range(2):                                   # warm-up
        call()
    times = []
    for _ in range(rounds):
        time.sleep(pause)
        for _ in range(3):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
    return times


def _child(library: str, threads: int, rounds: int, out: str) -> None:
    _configure_child("as-installed", "steady", threads)
    result = {f"{kind} {rhythm}": _time(_calls(library, kind), rounds, pause)
              for kind in ("max", "avg") for rhythm, pause in RHYTHMS.items()}
    Path(out).write_text(json.dumps(result), encoding="utf-8")


def _spawn(library: str, policy: str, threads: int, rounds: int) -> dict[str, list[float]]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        subprocess.run([sys.executable, __file__, "--child", library, str(threads), str(rounds),
                        str(out)], env=env, check=True)
        return json.loads(out.read_text(encoding="utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="blocks of 3 calls (default 10)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="fresh processes per configuration, taking turns (default 3)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        library, threads, rounds, out = args.child
        _child(library, int(threads), int(rounds), out)
        return 0
    print(f"load average before the run: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    runs: dict[tuple[str, str, int], list[dict[str, list[float]]]] = {}
    for _ in range(args.repeat):
        for library, policy in SIDES:
            for threads in (1, 2):
                runs.setdefault((library, policy, threads), []).append(
                    _spawn(library, policy, threads, args.rounds))
    print(f"{'pool, rhythm':<18}{'library':<24}{'1 thread best/med':>19}"
          f"{'2 threads best/med':>20}{'gain':>7}")
    for key in runs[SIDES[0] + (1,)][0]:
        for library, policy in SIDES:
            best, med = {}, {}
            for threads in (1, 2):
                reps = runs[library, policy, threads]
                best[threads] = statistics.median(min(r[key]) for r in reps) * 1e3
                med[threads] = statistics.median(statistics.median(r[key]) for r in reps) * 1e3
            name = library + (f" (OMP {policy.lower()})" if policy else "")
            print(f"{key:<18}{name:<24}{best[1]:>9.2f} /{med[1]:>6.2f}  {best[2]:>9.2f} /"
                  f"{med[2]:>6.2f}{best[1] / best[2]:>9.2f}")
    print(f"load average after the run: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
