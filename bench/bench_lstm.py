"""Benchmark: the reference LSTM's forward pass + BPTT against torch.nn.LSTM on the CPU.

    python bench/bench_lstm.py [--threads 1] [--rounds 30] [--isa auto|as-installed|avx2|avx512]

One LSTM layer, T = 50, N = 32, D = 64, H = 128, in float64 and float32: out, (h_T, c_T) forward
and the gradients of Σ d_out ∘ out with respect to x, h0, c0 and all four weight/bias arrays. Both
run in this process, alternating round by round on the same inputs and weights, with the same
number of threads (numpy's BLAS and torch's intra-op pool both set to ``--threads``). The script
prints the median time of each and the ratio ours / torch (< 1 means the reference is faster), and
checks that both computed the same numbers. Targets (issue 4): float64 ≤ 1.0, float32 ≤ 1.5;
the exit status is 1 when one is missed (this is a benchmark, not a test: the machine matters).

What is timed on our side
-------------------------
* float64: the public API, ``lstm_forward`` + ``lstm_backward``, input checks included.
* float32: the public API computes in float64 (CONVENTIONS: Numbers), so the float32 run calls the
  same kernel the public API runs after its checks, ``reference.lstm._forward_kernel`` and
  ``_backward_kernel``, which keep the dtype of their inputs.

Instruction sets (``--isa``)
----------------------------
torch's CPU kernels (MKL, oneDNN) use AVX-512 where the CPU has it; the OpenBLAS that ships with
numpy picks its kernels from a table of CPU models and on some CPUs that have AVX-512 (several AMD
EPYC among them) falls back to its AVX2 "Haswell" kernels, about half the float32 GEMM speed. So:

* ``auto`` (default): if the CPU has AVX-512 (F, BW, DQ, VL) and OPENBLAS_CORETYPE is not set,
  set OPENBLAS_CORETYPE=SkylakeX (OpenBLAS's AVX-512 kernels) so that both sides use the same
  instruction set; otherwise leave everything as it is (a preset OPENBLAS_CORETYPE is kept).
* ``as-installed``: change nothing.
* ``avx2``: both sides limited to AVX2 (OPENBLAS_CORETYPE=Haswell, ATEN_CPU_CAPABILITY=avx2,
  DNNL_MAX_CPU_ISA=AVX2).
* ``avx512``: OPENBLAS_CORETYPE=SkylakeX regardless (fails on CPUs without AVX-512).

The settings are environment variables read when the libraries load, so the script sets them
before it imports numpy and torch, and prints what it set.
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

T, N, D, H = 50, 32, 64, 128
TARGETS = {"float64": 1.0, "float32": 1.5}


def _cpu_has_avx512() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8").split()
    except OSError:
        return False
    return all(f in flags for f in ("avx512f", "avx512bw", "avx512dq", "avx512vl"))


def _configure(threads: int, isa: str) -> list[str]:
    """Set the environment before numpy and torch load; return what was set."""
    notes = []
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    settings: dict[str, str] = {}
    if isa == "auto" and "OPENBLAS_CORETYPE" not in os.environ and _cpu_has_avx512():
        settings = {"OPENBLAS_CORETYPE": "SkylakeX"}
    elif isa == "avx512":
        settings = {"OPENBLAS_CORETYPE": "SkylakeX"}
    elif isa == "avx2":
        settings = {"OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2",
                    "DNNL_MAX_CPU_ISA": "AVX2"}
    elif isa == "auto" and "OPENBLAS_CORETYPE" in os.environ:
        notes.append(f"OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} kept from the "
                     f"environment; --isa avx512 overrides it")
    for key, value in settings.items():
        os.environ[key] = value
        notes.append(f"{key}={value} set by --isa {isa}")
    return notes


def _openblas(symbol_suffix: str) -> Any:
    """Ask the OpenBLAS that numpy loaded (best effort, Linux): corename or num_threads."""
    import ctypes

    try:
        maps = Path("/proc/self/maps").read_text(encoding="utf-8").split()
    except OSError:
        return None
    for lib in sorted({p for p in maps if "openblas" in p and ".so" in p}):
        handle = ctypes.CDLL(lib)
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", ""):
                fn = getattr(handle, f"{prefix}{symbol_suffix}{suffix}", None)
                if fn is not None:
                    if symbol_suffix == "get_corename":
                        fn.restype = ctypes.c_char_p
                        return fn().decode()
                    return int(fn())
    return None


def _median_times(fns: dict[str, Callable[[], None]], rounds: int) -> dict[str, float]:
    for fn in fns.values():          # warm up: allocations, lazy initialisation, caches
        for _ in range(3):
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):          # alternate, so that load on a shared machine hits both
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def _compare(dtype_name: str, rounds: int) -> float:
    """Time both on one case in ``dtype_name``, print a line, return the ratio ours / torch."""
    import numpy as np
    import torch

    from reference.lstm import _backward_kernel, _forward_kernel, lstm_backward, lstm_forward

    dtype = np.dtype(dtype_name)
    rng = np.random.default_rng(0)
    k = 1.0 / np.sqrt(H)
    x = rng.normal(size=(T, N, D)).astype(dtype)
    h0, c0 = (rng.normal(0, 0.5, (N, H)).astype(dtype) for _ in range(2))
    W_ih = rng.uniform(-k, k, (4 * H, D)).astype(dtype)
    W_hh = rng.uniform(-k, k, (4 * H, H)).astype(dtype)
    b_ih, b_hh = (rng.uniform(-k, k, 4 * H).astype(dtype) for _ in range(2))
    d_out = rng.normal(size=(T, N, H)).astype(dtype)
    zeros = np.zeros((N, H), dtype=dtype)

    module = torch.nn.LSTM(D, H).to(getattr(torch, dtype_name))
    with torch.no_grad():                      # the same weights, copied in explicitly
        module.weight_ih_l0.copy_(torch.from_numpy(W_ih))
        module.weight_hh_l0.copy_(torch.from_numpy(W_hh))
        module.bias_ih_l0.copy_(torch.from_numpy(b_ih))
        module.bias_hh_l0.copy_(torch.from_numpy(b_hh))
    xt, ht, ct = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, h0[None], c0[None]))
    d_out_t = torch.from_numpy(d_out)
    results: dict[str, Any] = {}

    def run_torch() -> None:
        for p in (xt, ht, ct, *module.parameters()):
            p.grad = None
        out, _ = module(xt, (ht, ct))
        out.backward(d_out_t)
        results["torch"] = (out.detach().numpy(), module.weight_hh_l0.grad.numpy())

    def run_ours_float64() -> None:            # the public API, checks included
        out, _, _, cache = lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
        results["ours"] = (out, lstm_backward(d_out, cache).dW_hh)

    def run_ours_kernel() -> None:             # the kernel behind it, in the inputs' dtype
        out, _, _, cache = _forward_kernel(x, h0, c0, W_ih, W_hh, b_ih + b_hh)
        results["ours"] = (out, _backward_kernel(d_out, zeros, zeros, cache).dW_hh)

    ours = run_ours_float64 if dtype_name == "float64" else run_ours_kernel
    times = _median_times({"ours": ours, "torch": run_torch}, rounds)
    out_diff = float(np.max(np.abs(results["ours"][0] - results["torch"][0])))
    grad_diff = float(np.max(np.abs(results["ours"][1] - results["torch"][1])))
    ratio = times["ours"] / times["torch"]
    verdict = "met" if ratio <= TARGETS[dtype_name] else "NOT met"
    print(f"{dtype_name}: ours {times['ours'] * 1e3:7.2f} ms   torch {times['torch'] * 1e3:7.2f} ms"
          f"   ratio {ratio:.2f} (target ≤ {TARGETS[dtype_name]}: {verdict})   max |Δout| "
          f"{out_diff:.1e}, max |ΔdW_hh| {grad_diff:.1e}")
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for both (default 1)")
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds (default 30)")
    parser.add_argument("--isa", choices=["auto", "as-installed", "avx2", "avx512"],
                        default="auto", help="instruction-set policy (see the module docstring)")
    args = parser.parse_args(argv)
    notes = _configure(args.threads, args.isa)

    import numpy as np
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout
    torch.set_num_threads(args.threads)
    print(f"LSTM forward + BPTT, T={T} N={N} D={D} H={H}")
    print(f"threads: numpy/OpenBLAS {_openblas('get_num_threads') or args.threads}, "
          f"torch {torch.get_num_threads()}")
    print(f"instruction sets: OpenBLAS core {_openblas('get_corename') or '?'}, torch "
          f"{torch.backends.cpu.get_cpu_capability()}"
          + (f" ({'; '.join(notes)})" if notes else ""))
    print(f"numpy {np.__version__}, torch {torch.__version__}")

    failed = []
    for dtype_name in ("float64", "float32"):
        ratio = _compare(dtype_name, args.rounds)
        if ratio > TARGETS[dtype_name]:
            failed.append(dtype_name)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
