"""Benchmark: property mode's throughput, in drawn cases per second, against the torch backend.

    python bench/bench_property.py [--examples 200] [--repeat 5] [--dtype float64] [--threads N]
                                   [--cpu] [--profile]

For conv2d and lstm, times conformance.property.property_check("torch", op) in this process
(imports and a warm-up run done first): a seeded random generator draws each case through the
case builders Hypothesis's strategies use (conformance.strategies.draws), the reference computes its
expected outputs and gradients, torch's forward and vjp are checked against them. A case counts
once however many checks it gets (forward and gradient). Each op runs ``--repeat`` times; the
median rate is the figure, the spread (min–max) is printed beside it. The targets of issue 14 are
at least 1,000 conv2d and 500 lstm cases per second on this 2-core machine, idle.

``--profile`` adds where a case's time goes, from timers around the parts of one more run:

* drawing: drawing the case (conformance.strategies.ops.op_case on RandomDraws);
* reference: the reference computing the expected outputs and gradients (cases.complete);
* backend: the backend's forward and gradient calls, its adapter's conversions included
  (Bound.values);
* judging: comparing what came back with what is expected (checks._judge);
* check bookkeeping: the rest of each check (conformance.checks.check_case: tolerance, inputs
  copied in the run's dtype, the guarded call of conformance.isolation, Result objects);
* engine: the rest, property mode's own loop (Hypothesis's engine before session 18: see below).

What it found (issue 14; float64, torch at 1 thread, ``--cpu``: CPU ms per case, two runs each,
before and after alternating in the same minutes on the shared 2-core machine under a load
average of 10–12, so the absolute figures are inflated; the shares are the point):

                         conv2d                    lstm
                     before       after        before       after
  drawing            3.3–4.3     1.0–1.5       8.8–10.8     1.6–1.7
  engine             3.5–4.3     1.8–2.6       4.5–5.9      2.0–2.3
  reference          0.6–0.8     0.6–0.8       0.8–1.1      1.0
  backend            1.0–1.1     0.8–1.2       4.5–5.5      3.4–3.9
  judging            0.6–0.7     0.5–0.7       1.2–1.5      1.2–1.3
  check bookkeeping  0.7–0.9     0.5–0.9       1.0–1.2      0.9–1.1
  total              9.7–12.1    5.2–7.7       20.7–26.1    10.1–11.4
  cases per CPU-s    90–94       113–157       40–54        78–127

Before, Hypothesis took 64–71 % of a case (drawing and its engine): hnp.arrays drew elements one
by one, and the case strategies built their parts' strategy objects anew at every draw, each
validated again. Now an array is one byte-string choice (conformance.strategies.packed_arrays)
and the strategies are built once (strategies.basic.once); the torch adapter builds its
RNN/LSTM/GRU module once per size. What is left is mostly Hypothesis's own work per example
(engine: seeding the global random generators, its record of the choices, choosing the next
example: about 2 ms a case here), which no setting turns off, and the two libraries'
arithmetic on small arrays. Checking several cases per Hypothesis example would spread the
engine's cost, but Hypothesis builds new examples by copying parts of earlier ones: with 8 cases
an example only 101 of 200 drawn conv2d cases were distinct (all 200 with one), so the same
number of examples would check fewer different cases; that was not done.

Without the timers (``--cpu --threads 1``, three rounds alternating, load average 6–9), cases per
CPU-second: conv2d 107–162 before, 200–255 after; lstm 56–86 before, 137–148 after.

Then (the same day, evening): the engine's 1.55 ms of Hypothesis per case alone exceeded the 1 ms
that 1,000 cases/s allow, so the search stopped being a Hypothesis run. The case builders are
written once against conformance.strategies.draws.Draws; property mode draws with RandomDraws (a
seeded random.Random recording each choice as Hypothesis records it) and hands the first failing
case's choices to Hypothesis to replay and shrink. With the check path made cheaper too (one
tolerance per question, fewer passes when comparing, one SIGALRM handler per run), idle, torch at
1 thread, ms per case (conv2d / lstm): drawing 0.09 / 0.15, loop 0.02 / 0.02, reference 0.16 /
0.31, backend 0.25 / 0.95, judging 0.21 / 0.36, check bookkeeping 0.10 / 0.13; total 0.83 /
1.92. The default run (wall time, torch's own 2 threads, 5 runs of 200): conv2d 1,202 cases/s
(1,195–1,231), lstm 521 (510–527). Under load, torch at 2 threads falls apart on these tiny ops
(conv2d 31 cases/s at a load average of 3, against 1,236 at 1 thread): its OpenMP team waits for
a thread the machine has given away, so measure idle or compare ``--threads 1``.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"conv2d": 1000.0, "lstm": 500.0}
"""Cases per second property mode should check against torch (issue 14), by op."""
OPS = tuple(TARGETS)
clock = time.perf_counter
"""The clock of the timings: wall time; ``--cpu`` makes it this process's CPU time, steadier on a
loaded machine (with torch at 1 thread, about the wall time the same work takes on an idle one)."""
PARTS = ("drawing", "reference", "backend", "judging", "check bookkeeping", "engine")


def rates(op: str, examples: int, dtype: str, repeat: int) -> list[float]:
    """Cases per second of ``repeat`` property runs of ``op`` (after a warm-up run)."""
    from conformance.backends import load_backend
    from conformance.property import property_check

    torch_backend = load_backend("torch")
    reference = load_backend("numpy")
    property_check(torch_backend, op, dtype, examples=10, reference=reference)   # warm up
    found = []
    for _ in range(repeat):
        start = clock()
        results = property_check(torch_backend, op, dtype, examples=examples,
                                 reference=reference)
        seconds = clock() - start
        if any(r.status != "pass" for r in results):
            raise SystemExit(f"torch failed property mode on {op}: "
                             + "; ".join(r.line() for r in results))
        found.append(results[0].examples / seconds)
    return found


@contextmanager
def _timed(owner: Any, name: str, spent: dict[str, float], part: str) -> Iterator[None]:
    """``owner.name`` replaced, for the block, by a wrapper adding its time to spent[part]."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        try:
            return original(*args, **kwargs)
        finally:
            spent[part] += clock() - start

    setattr(owner, name, wrapper)
    try:
        yield
    finally:
        setattr(owner, name, original)


def breakdown(op: str, examples: int, dtype: str) -> dict[str, float]:
    """Milliseconds per case spent in each of PARTS in one property run of ``op``."""
    import conformance.checks as checks
    import conformance.property as prop
    from conformance.backends import Bound, load_backend

    torch_backend = load_backend("torch")
    reference = load_backend("numpy")
    spent = dict.fromkeys((*PARTS, "check"), 0.0)
    prop.property_check(torch_backend, op, dtype, examples=10, reference=reference)  # warm up
    with (_timed(prop, "op_case", spent, "drawing"),
          _timed(prop, "complete", spent, "reference"),
          _timed(prop, "check_case", spent, "check"),
          _timed(Bound, "values", spent, "backend"),
          _timed(checks, "_judge", spent, "judging")):
        start = clock()
        results = prop.property_check(torch_backend, op, dtype, examples=examples,
                                      reference=reference)
        total = clock() - start
    spent["check bookkeeping"] = spent["check"] - spent["backend"] - spent["judging"]
    spent["engine"] = total - spent["drawing"] - spent["reference"] - spent["check"]
    n = results[0].examples
    return {part: spent[part] / n * 1e3 for part in PARTS} | {"total": total / n * 1e3}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--threads", type=int, default=None,
                        help="torch's threads (default: torch's own choice, all cores)")
    parser.add_argument("--cpu", action="store_true",
                        help="time by this process's CPU time, not wall time (a loaded machine)")
    parser.add_argument("--profile", action="store_true",
                        help="also print where a case's time goes (one more run per op)")
    args = parser.parse_args()
    global clock
    if args.cpu:
        clock = time.process_time
    sys.path.insert(0, str(ROOT))
    import torch

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(f"property mode against torch ({args.dtype}, {args.examples} examples a run, "
          f"{args.repeat} runs): {os.cpu_count()} cores, torch {torch.__version__} with "
          f"{torch.get_num_threads()} threads, {'CPU' if args.cpu else 'wall'} time, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    missed = []
    for op in OPS:
        found = rates(op, args.examples, args.dtype, args.repeat)
        median = statistics.median(found)
        verdict = "meets" if median >= TARGETS[op] else "MISSES"
        print(f"  {op:7} {median:7.1f} cases/s (min–max {min(found):.1f}–{max(found):.1f}): "
              f"{verdict} the target of {TARGETS[op]:.0f} cases/s")
        if median < TARGETS[op]:
            missed.append(op)
    if args.profile:
        parts = {op: breakdown(op, args.examples, args.dtype) for op in OPS}
        print("where a case's time goes, ms per case (one timed run; the timers add a little):")
        print(f"  {'':18}" + "".join(f"{op:>10}" for op in OPS))
        for part in (*PARTS, "total"):
            print(f"  {part:18}" + "".join(f"{parts[op][part]:10.3f}" for op in OPS))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
