"""Benchmark: property mode's throughput, in drawn cases per second, against the torch backend.

    python bench/bench_property.py [--examples 200] [--repeat 3] [--dtype float64]

For conv2d and lstm, times conformance.property.property_check("torch", op) in this process
(imports and a warm-up run done first): Hypothesis draws each case, the reference computes its
expected outputs and gradients, torch's forward and vjp are checked against them. A case counts
once however many checks it gets (forward and gradient). The target of the issue is at least 50
conv2d cases per second on this machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 50.0
OPS = ("conv2d", "lstm")


def throughput(op: str, examples: int, dtype: str, repeat: int) -> float:
    """The median cases per second of ``repeat`` property runs of ``op``."""
    from conformance.backends import load_backend
    from conformance.property import property_check

    torch_backend = load_backend("torch")
    reference = load_backend("numpy")
    property_check(torch_backend, op, dtype, examples=10, reference=reference)   # warm up
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        results = property_check(torch_backend, op, dtype, examples=examples,
                                 reference=reference)
        seconds = time.perf_counter() - start
        if any(r.status != "pass" for r in results):
            raise SystemExit(f"torch failed property mode on {op}: "
                             + "; ".join(r.line() for r in results))
        rates.append(results[0].examples / seconds)
    return statistics.median(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import torch

    print(f"property mode against torch ({args.dtype}, {args.examples} examples a run, median "
          f"of {args.repeat}): {os.cpu_count()} cores, torch {torch.__version__} with "
          f"{torch.get_num_threads()} threads")
    rates = {op: throughput(op, args.examples, args.dtype, args.repeat) for op in OPS}
    for op, rate in rates.items():
        print(f"  {op:7} {rate:7.1f} cases/s")
    verdict = "meets" if rates["conv2d"] >= TARGET else "MISSES"
    print(f"conv2d: {rates['conv2d']:.1f} cases/s {verdict} the target of {TARGET:.0f} cases/s")
    return 0 if rates["conv2d"] >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
