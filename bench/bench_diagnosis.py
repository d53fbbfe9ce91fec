"""Benchmark: how long the diagnosis of one failing check takes on the default cases.

    python bench/bench_diagnosis.py [--repeat 3] [--target 0.5]

A failing run must not become slow. For each of the purpose-built mistaken backends of
spec_tests/conformance_mistakes.py (one well-known mistake each, in torch or NumPy), every failing
check of the slide and golden cases is found with the diagnosis off, then diagnosed on its own:
self-consistency (which calls the backend again), the anatomy of every failing array and the
catalogue of named mistakes. Each diagnosis is timed ``--repeat`` times and its best is kept;
the table lists, per mistake, the number of failing checks and the median and largest of
those times. The target of the diagnosis issue: every diagnosis of a golden or slide check
within 0.5 s on this machine. The exit status is 1 when one misses it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# the mistaken backends and the op each is written for
MISTAKES = {
    "flipped_kernel": "conv2d", "conv_padding_swapped": "conv2d", "one_sided_padding": "conv2d",
    "stride_ignored": "conv2d", "conv1d_reversed": "conv1d",
    "linear_weight_transposed": "linear", "gradients_swapped": "linear",
    "float32_linear": "linear", "lstm_onnx_gate_order": "lstm",
    "lstm_final_states_dropped": "lstm", "gru_keras_gate_order": "gru",
    "gru_update_swapped": "gru", "rnn_h_n_dropped": "rnn", "l2_pool_without_sqrt": "lp_pool2d",
    "avg_pool_not_divided": "avg_pool2d", "max_pool_ties_split": "max_pool2d",
    "pool_window_swapped": "max_pool2d", "cross_entropy_summed": "cross_entropy",
    "embedding_overwritten": "embedding", "gradient_doubled": "relu",
}


def diagnosis_times(name: str, op: str, repeat: int) -> list[float]:
    """The best of ``repeat`` diagnoses of each failing check of ``name``'s backend."""
    import numpy as np

    from conformance.backends import load_backend
    from conformance.diagnosis import diagnose
    from conformance.runner import run
    from spec_tests import conformance_mistakes

    backend = load_backend(getattr(conformance_mistakes, name))
    reference = load_backend("numpy")
    report = run(backend, ops=[op], diagnose=False)
    times = []
    for failure in report.failures():
        got = _values(backend, failure)
        if got is None:                       # it raised: nothing to diagnose
            continue
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            diagnose(failure.case, failure.check, got, np.float64,
                     failure.tolerance or failure.case.tolerance_for(failure.check, "float64"),
                     reference, target=backend)
            best = min(best, time.perf_counter() - start)
        times.append(best)
    return times


def _values(backend: Any, failure: Any) -> Any:
    from conformance.isolation import call

    case = failure.case
    outcome = call(backend, case.op, failure.check, dict(case.inputs), case.attrs,
                   dict(case.upstream) if failure.check == "gradient" else {}, None)
    return outcome.values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target", type=float, default=0.5)
    args = parser.parse_args()
    print(f"diagnosis of one failing check (best of {args.repeat}), {os.cpu_count()} cores; "
          f"target {args.target} s")
    print(f"{'mistake':28} {'op':13} {'checks':>6} {'median':>8} {'max':>8}")
    worst = 0.0
    for name, op in MISTAKES.items():
        times = diagnosis_times(name, op, args.repeat)
        if not times:
            continue
        worst = max(worst, max(times))
        print(f"{name:28} {op:13} {len(times):6d} {statistics.median(times):8.3f} "
              f"{max(times):8.3f}")
    verdict = "meets" if worst <= args.target else "MISSES"
    print(f"slowest diagnosis {worst:.3f} s: {verdict} the target of {args.target} s")
    return 0 if worst <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
