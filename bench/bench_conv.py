"""Benchmark: the reference's conv2d and pooling against PyTorch on the CPU (issue: Part II,
"Performance"). A script, not a test::

    python bench/bench_conv.py [--threads N] [--rounds R] [--isa POLICY] [--allocator POLICY]

Cases, forward + backward each:

* conv2d, x [32, 16, 32, 32], w [32, 16, 3, 3], b [32], stride 1, pad 1 → (y, dx, dw, db); torch:
  F.conv2d and autograd's backward with the same upstream gradient.
* max pool 2×2 (stride 2) and average pool 2×2, x [32, 32, 32, 32] → (y, dx).

Each case has three rows: "float64 api" (the public functions, the headline), "float64 kern" and
"float32 kern" (the dtype-preserving kernels alone, without validation). Targets (issue 14,
the libraries as installed, 2 threads): ratio ours / torch ≤ 1.0 in float64 for conv2d and both
pools; in float32 a regression bar, not a race: conv2d ≤ 3.0, pooling ≤ 2.0. (The float32 conv's
three im2col matrix products alone take 1.4–1.8× as long as torch's whole oneDNN convolution;
the reference stays readable as Σ_p W_p · pixel_p, without Winograd or compiled code.)

The float64 pools at 2 threads, measured on 2026-12-04 evening under load (other work on the 2
cores: load average 3–8, 6–8, 3–6 during the first three runs, 1–3 during the last; the idle
figures are the README's), as installed, 2 threads, this script's median ratios in two runs
before and two after (alternately) the calling thread took blocks itself
and the average pool's backward went into blocks (reference/_blocks.py, reference/pooling.py):
max pool 1.38, 1.30 → 1.32, 0.87 (api) and 1.45, 1.27 → 0.98, 1.16 (kern); average pool 1.23,
1.34 → 1.33, 0.13 (api; in that run torch's best call took 18 ms) and 1.27, 1.07 → 1.00, 1.13
(kern); float32 ≤ 0.80 throughout. At 1 thread every pool stayed at 0.26–0.73. Under that load
the spread of a run (0.82–2.14 for one median of 1.32) is larger than the change; the README's
"Where the second core went" has the same code timed before and after in one process.

Fairness. The public reference functions validate their input and compute in float64 (the
project's convention), so the "api" rows time the public API as a user calls it, validation and
float64 copies included. For float32 the public API would convert to float64; the float32 rows
therefore time the kernels the public functions delegate to (``reference.conv._conv2d_forward``
/ ``_conv2d_backward``, ``reference.pooling._max_pool`` ...), which do the same arithmetic
without validation, in float32. Our backward functions take (dy, x, w, ...) and recompute what
they need from x (no cache crosses the contract), while torch's autograd keeps what its forward
saved (the max-pool indices, for instance): that cost is ours and is included. Every result is
checked against torch before it is timed.

Threads, instruction sets, allocator, timing and the table: bench/_harness.py. By default both
libraries run on the same instruction set ("matched") and, beside it, on the instruction sets as
installed; each with 1 thread and with 2; with a steady allocator; three repetitions, whose
median and spread the table shows. Exit status 1 when a target is missed (as installed, 2
threads).
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Case, Fn, main

TARGET = {("conv2d", "float64"): 1.0, ("conv2d", "float32"): 3.0,     # issue 14's decision
          ("pool", "float64"): 1.0, ("pool", "float32"): 2.0}
VARIANTS = (("float64", True), ("float64", False), ("float32", False))   # (dtype, public API)


def _check(ours: Any, theirs: Any, dtype: str, what: str) -> None:
    import numpy as np

    tol = 1e-9 if dtype == "float64" else 2e-3
    ref = theirs.detach().numpy()
    err = float(np.max(np.abs(np.asarray(ours, dtype=np.float64) - ref)))
    scale = max(1.0, float(np.max(np.abs(ref))))
    if err > tol * scale:
        raise SystemExit(f"{what}: ours differs from torch by {err:.3g} (scale {scale:.3g})")


def _conv(dtype: str, api: bool) -> tuple[Fn, Fn]:
    import numpy as np
    import torch
    import torch.nn.functional as F

    from reference import conv

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 16, 32, 32)).astype(dtype)
    w = (rng.normal(size=(32, 16, 3, 3)) / 12).astype(dtype)
    b = rng.normal(size=32).astype(dtype)
    dy = rng.normal(size=(32, 32, 32, 32)).astype(dtype)
    geometry = ((1, 1), (1, 1), (32, 32))                   # stride, padding, output size

    def public() -> Any:
        return conv.conv2d(x, w, b, 1, 1), conv.conv2d_backward(dy, x, w, b, 1, 1)

    def kernels() -> Any:
        return (conv._conv2d_forward(x, w, b, *geometry),
                conv._conv2d_backward(dy, x, w, *geometry[:2]))

    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tdy = torch.tensor(dy)

    def theirs() -> Any:
        tx.grad = tw.grad = tb.grad = None
        y = F.conv2d(tx, tw, tb, stride=1, padding=1)
        y.backward(tdy)  # type: ignore[no-untyped-call]
        return y

    ours = public if api else kernels
    y_t = theirs()
    y, (dx, dw, db) = ours()
    for got, want, name in ((y, y_t, "y"), (dx, tx.grad, "dx"), (dw, tw.grad, "dw"),
                            (db, tb.grad, "db")):
        _check(got, want, dtype, f"conv2d {dtype} {name}")
    return ours, theirs


def _pool(kind: str, dtype: str, api: bool) -> tuple[Fn, Fn]:
    import numpy as np
    import torch
    import torch.nn.functional as F

    from reference import pooling

    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 32, 32, 32)).astype(dtype)
    dy = rng.normal(size=(32, 32, 16, 16)).astype(dtype)
    forward, backward = {"max": (pooling.max_pool2d, pooling.max_pool2d_backward),
                         "avg": (pooling.avg_pool2d, pooling.avg_pool2d_backward)}[kind]
    kernel, kernel_backward = {"max": (pooling._max_pool, pooling._max_pool_backward),
                               "avg": (pooling._avg_pool, pooling._avg_pool_backward)}[kind]
    torch_fn: Any = {"max": F.max_pool2d, "avg": F.avg_pool2d}[kind]
    geometry = ((2, 2), (2, 2), (16, 16))                   # window, stride, output size

    def public() -> Any:
        return forward(x, 2, 2), backward(dy, x, 2, 2)

    def kernels() -> Any:
        return kernel(x, *geometry), kernel_backward(dy, x, *geometry)

    tx, tdy = torch.tensor(x, requires_grad=True), torch.tensor(dy)

    def theirs() -> Any:
        tx.grad = None
        y = torch_fn(tx, 2, 2)
        y.backward(tdy)
        return y

    ours = public if api else kernels
    y_t = theirs()
    y, dx = ours()
    _check(y, y_t, dtype, f"{kind} pool {dtype} y")
    _check(dx, tx.grad, dtype, f"{kind} pool {dtype} dx")
    return ours, theirs


def cases() -> list[Case]:
    out = [Case("conv2d x[32,16,32,32] w[32,16,3,3] s1 p1", f"{dtype} {'api' if api else 'kern'}",
                TARGET["conv2d", dtype], partial(_conv, dtype, api)) for dtype, api in VARIANTS]
    for kind in ("max", "avg"):
        out += [Case(f"{kind} pool 2x2 x[32,32,32,32]", f"{dtype} {'api' if api else 'kern'}",
                     TARGET["pool", dtype], partial(_pool, kind, dtype, api))
                for dtype, api in VARIANTS]
    return out


if __name__ == "__main__":
    raise SystemExit(main("conv2d and pooling, forward + backward: the reference against torch",
                          cases))
