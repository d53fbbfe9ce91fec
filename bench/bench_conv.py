"""Benchmark: the reference's conv2d and pooling against PyTorch on the CPU (issue: Part II,
"Performance"). A script, not a test::

    python bench/bench_conv.py [--threads N] [--rounds R]

What is timed, in one process, with the same number of threads for both sides (NumPy's BLAS via
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS, set before NumPy is imported, and
``torch.set_num_threads``), alternating ours and torch's call round by round so that both see
the same machine load; the best of R rounds is reported, with the median alongside:

* conv2d forward + backward (dx, dw, db), x [32, 16, 32, 32], w [32, 16, 3, 3], stride 1,
  pad 1; torch: F.conv2d and autograd's backward with the same upstream gradient.
* max pool 2×2 (stride 2) and average pool 2×2, forward + backward, x [32, 32, 32, 32].

Each case has three rows: "float64 api" (the public functions, the headline), "float64 kern" and
"float32 kern" (the dtype-preserving kernels alone, without validation).

Fairness. The public reference functions validate their input and compute in float64 (the
project's convention), so the "api" rows time the public API as a user calls it, validation and
float64 copies included. For float32 the public API would convert to float64; the float32
rows therefore time the dtype-preserving kernels that the public functions delegate to
(``reference.conv._conv2d_forward`` / ``_conv2d_backward``, ``reference.pooling._max_pool`` ...),
which do the same arithmetic without validation, in float32. Our backward functions take
(dy, x, w, ...) and recompute what they need from x (no cache crosses the contract), while
torch's autograd keeps what its forward saved (the max-pool indices, for instance): that cost
is ours and is included. Every result is checked against torch before it is timed.

Targets (the issue): ratio ours/torch ≤ 1.0 in float64, ≤ 2.0 in float32.

Allocator. Each call allocates fresh multi-megabyte arrays (the validated float64 copy of x, dx,
the im2col matrix). With glibc's default, dynamic malloc thresholds such buffers are often
returned to the kernel and faulted in again page by page on the next call, which costs NumPy up
to ~2 ms per call here (torch's own allocator suffers less). The header prints the MALLOC_*
settings in force; to time the arithmetic rather than the page faults, run both sides (same
process, so the same allocator) with fixed thresholds::

    MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=1073741824 \
    MALLOC_TOP_PAD_=134217728 python bench/bench_conv.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for NumPy's BLAS and for torch (default: all cores)")
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds per case")
    return parser.parse_args()


ARGS = _parse()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)   # before NumPy (and its BLAS) is loaded

sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from reference import conv, pooling  # noqa: E402

torch.set_num_threads(ARGS.threads)

TARGET = {np.float64: 1.0, np.float32: 2.0}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def _close(ours: Any, theirs: torch.Tensor, dtype: type, what: str) -> None:
    tol = 1e-9 if dtype is np.float64 else 2e-3
    ref = theirs.detach().numpy()
    err = float(np.max(np.abs(np.asarray(ours, dtype=np.float64) - ref)))
    scale = max(1.0, float(np.max(np.abs(ref))))
    if err > tol * scale:
        raise SystemExit(f"{what}: ours differs from torch by {err:.3g} (scale {scale:.3g})")


def _race(ours: Callable[[], Any], theirs: Callable[[], Any],
          rounds: int) -> tuple[list[float], list[float]]:
    for _ in range(2):                     # warm up both (allocators, thread pools, caches)
        ours()
        theirs()
    a, b = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        ours()
        a.append(time.perf_counter() - t)
        t = time.perf_counter()
        theirs()
        b.append(time.perf_counter() - t)
    return a, b


def bench_conv(dtype: type, api: bool, rounds: int) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(0)
    x: np.ndarray = rng.normal(size=(32, 16, 32, 32)).astype(dtype)
    w: np.ndarray = (rng.normal(size=(32, 16, 3, 3)) / 12).astype(dtype)
    b: np.ndarray = rng.normal(size=32).astype(dtype)
    dy: np.ndarray = rng.normal(size=(32, 32, 32, 32)).astype(dtype)
    geometry = ((1, 1), (1, 1), (32, 32))
    if api:
        def ours() -> Any:
            return conv.conv2d(x, w, b, 1, 1), conv.conv2d_backward(dy, x, w, b, 1, 1)
    else:
        def ours() -> Any:
            return (conv._conv2d_forward(x, w, b, *geometry),
                    conv._conv2d_backward(dy, x, w, *geometry[:2]))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tdy = torch.tensor(dy)

    def theirs() -> Any:
        tx.grad = tw.grad = tb.grad = None
        y = F.conv2d(tx, tw, tb, stride=1, padding=1)
        y.backward(tdy)  # type: ignore[no-untyped-call]
        return y

    y_t = theirs()
    y, (dx, dw, db) = ours()
    for got, want, name in ((y, y_t, "y"), (dx, tx.grad, "dx"), (dw, tw.grad, "dw"),
                            (db, tb.grad, "db")):
        assert want is not None
        _close(got, want, dtype, f"conv2d {np.dtype(dtype).name} {name}")
    return _race(ours, theirs, rounds)


def bench_pool(kind: str, dtype: type, api: bool,
               rounds: int) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(1)
    x: np.ndarray = rng.normal(size=(32, 32, 32, 32)).astype(dtype)
    dy: np.ndarray = rng.normal(size=(32, 32, 16, 16)).astype(dtype)
    public = {"max": (pooling.max_pool2d, pooling.max_pool2d_backward),
              "avg": (pooling.avg_pool2d, pooling.avg_pool2d_backward)}[kind]
    kernels = {"max": (pooling._max_pool, pooling._max_pool_backward),
               "avg": (pooling._avg_pool, pooling._avg_pool_backward)}[kind]
    torch_fn: Any = {"max": F.max_pool2d, "avg": F.avg_pool2d}[kind]
    geometry = ((2, 2), (2, 2), (16, 16))
    if api:
        def ours() -> Any:
            return public[0](x, 2, 2), public[1](dy, x, 2, 2)
    else:
        def ours() -> Any:
            return kernels[0](x, *geometry), kernels[1](dy, x, *geometry)
    tx, tdy = torch.tensor(x, requires_grad=True), torch.tensor(dy)

    def theirs() -> Any:
        tx.grad = None
        y = torch_fn(tx, 2, 2)
        y.backward(tdy)
        return y

    y_t = theirs()
    y, dx = ours()
    assert tx.grad is not None
    _close(y, y_t, dtype, f"{kind} pool y")
    _close(dx, tx.grad, dtype, f"{kind} pool dx")
    return _race(ours, theirs, rounds)


def main() -> None:
    print(f"threads: {ARGS.threads} (NumPy BLAS and torch; os.cpu_count() = {os.cpu_count()}), "
          f"numpy {np.__version__}, torch {torch.__version__}, best of {ARGS.rounds} rounds")
    tuned = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")}
    print(f"glibc malloc settings: {tuned or 'defaults (see the docstring)'}")
    print(f"{'case':<40}{'dtype, ours':<13}{'ours ms':>9}{'torch ms':>10}{'ratio':>7}"
          f"{'(median)':>10}{'target':>8}  met")
    cases: list[tuple[str, Callable[[type, bool, int], tuple[list[float], list[float]]]]] = [
        ("conv2d fwd+bwd x[32,16,32,32] w[32,16,3,3] s1 p1", bench_conv),
        ("max pool 2x2 fwd+bwd x[32,32,32,32]", lambda d, p, r: bench_pool("max", d, p, r)),
        ("avg pool 2x2 fwd+bwd x[32,32,32,32]", lambda d, p, r: bench_pool("avg", d, p, r)),
    ]
    # the public API in float64 (the headline), and the kernels alone in float64 and float32
    for name, fn in cases:
        for dtype, api in ((np.float64, True), (np.float64, False), (np.float32, False)):
            a, b = fn(dtype, api, ARGS.rounds)
            ratio = min(a) / min(b)
            median = statistics.median(a) / statistics.median(b)
            ok = "yes" if ratio <= TARGET[dtype] else "NO"
            how = f"{np.dtype(dtype).name} {'api' if api else 'kern'}"
            print(f"{name[:39]:<40}{how:<13}{min(a) * 1e3:>9.2f}"
                  f"{min(b) * 1e3:>10.2f}{ratio:>7.2f}{median:>10.2f}{TARGET[dtype]:>8.1f}  {ok}")

if __name__ == "__main__":
    main()
