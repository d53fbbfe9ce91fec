"""Benchmark: the reference LSTM's forward pass + BPTT against torch.nn.LSTM on the CPU (issue:
Part III, "Performance"). A script, not a test::

    python bench/bench_lstm.py [--threads N] [--rounds R] [--isa POLICY] [--allocator POLICY]

One LSTM layer, T = 50, N = 32, D = 64, H = 128, in float64 and float32: out, (h_T, c_T) forward
and the gradients of Σ d_out ∘ out with respect to x, h0, c0 and all four weight/bias arrays, on
the same inputs and weights (copied into the torch module), checked against torch before timing.
Targets (issue 14, the libraries as installed, 2 threads): ratio ours / torch ≤ 1.0 in float64;
in float32 a regression bar, not a race, ≤ 2.5 (an LSTM step is a few small matrix products and
a dozen small elementwise operations that NumPy cannot fuse, while torch runs each step as one
fused oneDNN kernel; the reference stays readable, without compiled code).

What is timed on our side:

* float64: the public API, ``lstm_forward`` + ``lstm_backward``, input checks included.
* float32: the public API computes in float64 (CONVENTIONS: Numbers), so the float32 row calls
  the kernels the public API runs after its checks, ``reference.lstm._forward_kernel`` and
  ``_backward_kernel``, which keep the dtype of their inputs.

On torch's side, torch.nn.LSTM on the CPU runs oneDNN's fused RNN kernels. Most of both sides'
time is matrix products (the input projection, one recurrent product per step and direction, the
weight gradients), so the instruction set the two BLAS libraries use decides much of the ratio.

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

T, N, D, H = 50, 32, 64, 128
TARGET = {"float64": 1.0, "float32": 2.5}                    # issue 14's decision


def _lstm(dtype: str) -> tuple[Fn, Fn]:
    import numpy as np
    import torch

    from reference.lstm import _backward_kernel, _forward_kernel, lstm_backward, lstm_forward

    rng = np.random.default_rng(0)
    k = 1.0 / np.sqrt(H)
    x = rng.normal(size=(T, N, D)).astype(dtype)
    h0, c0 = (rng.normal(0, 0.5, (N, H)).astype(dtype) for _ in range(2))
    W_ih = rng.uniform(-k, k, (4 * H, D)).astype(dtype)
    W_hh = rng.uniform(-k, k, (4 * H, H)).astype(dtype)
    b_ih, b_hh = (rng.uniform(-k, k, 4 * H).astype(dtype) for _ in range(2))
    d_out = rng.normal(size=(T, N, H)).astype(dtype)
    zeros = np.zeros((N, H), dtype=dtype)

    module = torch.nn.LSTM(D, H).to(getattr(torch, dtype))
    params = dict(module.named_parameters())
    with torch.no_grad():                      # the same weights, copied in explicitly
        for name, value in (("weight_ih_l0", W_ih), ("weight_hh_l0", W_hh),
                            ("bias_ih_l0", b_ih), ("bias_hh_l0", b_hh)):
            params[name].copy_(torch.from_numpy(value))
    xt, ht, ct = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, h0[None], c0[None]))
    d_out_t = torch.from_numpy(d_out)

    def theirs() -> Any:
        for p in (xt, ht, ct, *module.parameters()):
            p.grad = None
        out, _ = module(xt, (ht, ct))
        out.backward(d_out_t)
        return out

    def public() -> Any:                       # the public API, checks included
        out, _, _, cache = lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
        return out, lstm_backward(d_out, cache)

    def kernels() -> Any:                      # the kernels behind it, in the inputs' dtype
        out, _, _, cache = _forward_kernel(x, h0, c0, W_ih, W_hh, b_ih + b_hh)
        return out, _backward_kernel(d_out, zeros, zeros, cache)

    ours = public if dtype == "float64" else kernels
    out_t = theirs()
    out, grads = ours()
    tol = 1e-10 if dtype == "float64" else 2e-4
    for name, got, want in (("out", out, out_t), ("dx", grads.dx, xt.grad),
                            ("dW_ih", grads.dW_ih, params["weight_ih_l0"].grad),
                            ("dW_hh", grads.dW_hh, params["weight_hh_l0"].grad),
                            ("db_hh", grads.db_hh, params["bias_hh_l0"].grad)):
        assert want is not None
        ref = want.detach().numpy()
        err = float(np.max(np.abs(got - ref))) / max(1.0, float(np.max(np.abs(ref))))
        if err > tol:
            raise SystemExit(f"lstm {dtype} {name}: ours differs from torch by {err:.3g}")
    return ours, theirs


def cases() -> list[Case]:
    return [Case(f"LSTM T={T} N={N} D={D} H={H} fwd+BPTT", variant, TARGET[dtype],
                 partial(_lstm, dtype))
            for dtype, variant in (("float64", "float64 api"), ("float32", "float32 kern"))]


if __name__ == "__main__":
    raise SystemExit(main("LSTM forward + backpropagation through time: the reference against "
                          "torch.nn.LSTM", cases))
