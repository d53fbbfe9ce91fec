"""Shared plumbing of the benchmarks in bench/: threads, instruction sets, allocator, timing, and
the result table. A benchmark script lists its cases and calls ``main``; see bench_conv.py.

Both libraries run in one process, with the same number of threads, alternating round by round
(ours, theirs, ours, theirs, ...) so that both see the same machine load; the best of R rounds is
the figure, the median is shown beside it. Every case checks its numbers against torch before it
is timed.

Configurations
--------------
Two things that the benchmark cannot change after NumPy and torch are loaded decide much of a
ratio, so every configuration runs in a fresh child process that sets them first:

* Instruction set (``--isa``). torch's CPU kernels (oneDNN, ATen) use AVX-512 where the CPU has
  it. The OpenBLAS that ships with NumPy chooses its kernels by CPU model, or by
  OPENBLAS_CORETYPE when that is set: this environment pins ``OPENBLAS_CORETYPE=Haswell`` (AVX2),
  so NumPy's matrix products run at up to half the speed torch's can on an AVX-512 CPU.

  - ``matched`` (the default, the headline): both libraries on the best instruction set they can
    both use on this CPU. On an AVX-512 CPU (F, BW, DQ, VL): OPENBLAS_CORETYPE=SkylakeX
    (OpenBLAS's AVX-512 kernels) and torch left at its default (AVX-512); otherwise both held to
    AVX2 as in ``avx2``.
  - ``as-installed``: nothing changed (here: NumPy AVX2, torch AVX-512).
  - ``avx2``: both held to AVX2 (OPENBLAS_CORETYPE=Haswell, ATEN_CPU_CAPABILITY=avx2,
    DNNL_MAX_CPU_ISA=AVX2, MKL_ENABLE_INSTRUCTIONS=AVX2).
  - ``avx512``: OPENBLAS_CORETYPE=SkylakeX, torch at its default (needs an AVX-512 CPU).

  By default a script runs ``matched`` and, when it sets something different, ``as-installed``
  too, and prints both ratios; ``--isa`` with one or more policies runs just those. A miss in
  any configuration is printed as a miss.

* Allocator (``--allocator``). Both libraries allocate their multi-megabyte temporaries with
  glibc's malloc. With glibc's defaults such blocks are mmapped and returned to the kernel when
  freed (the threshold adapts only up to 32 MiB), so every call pays page faults to get fresh
  zeroed pages — up to a few ms per call here, for both sides, and not the arithmetic being
  compared. ``steady`` (the default, for every configuration) sets, via ``mallopt`` at start-up,
  M_MMAP_THRESHOLD = 256 MiB, M_TRIM_THRESHOLD = 1 GiB and M_TOP_PAD = 128 MiB (the same as
  MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=134217728):
  freed memory stays in the heap and the next call reuses it, as in a long-running training
  process. ``glibc`` keeps the defaults. One process, one allocator: the setting applies to both
  libraries alike.

* Threads (``--threads``, default: all cores). OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and
  MKL_NUM_THREADS are set before NumPy is imported, ``torch.set_num_threads`` after; the child
  prints what both libraries report.

The exit status is 1 when a case misses its target in any configuration that was run.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ISA_POLICIES = ("matched", "as-installed", "avx2", "avx512")
ALLOCATORS = ("steady", "glibc")
_CHILD = "_NNSPEC_BENCH_CONFIG"          # set in a child's environment: "isa,allocator"
_STEADY = {-3: 256 << 20, -1: 1 << 30, -2: 128 << 20}  # M_MMAP_THRESHOLD, M_TRIM_, M_TOP_PAD
_TORCH_ISA_VARS = ("ATEN_CPU_CAPABILITY", "DNNL_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")

Fn = Callable[[], object]


@dataclass(frozen=True)
class Case:
    """One timed comparison: ``prepare()`` builds the inputs, checks ours against torch, and
    returns the two calls to time, ``(ours, theirs)``. Imports of numpy and torch belong inside
    ``prepare`` (the child process configures the libraries before it calls it)."""

    name: str
    variant: str
    target: float
    prepare: Callable[[], tuple[Fn, Fn]]


# ---------------------------------------------------------------- configuration (child side)
def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def _has_avx512() -> bool:
    return {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= _cpu_flags()


def _isa_settings(policy: str) -> dict[str, str | None]:
    """Environment changes for an ISA policy (None removes a variable)."""
    if policy == "matched":
        policy = "avx512" if _has_avx512() else "avx2"
    if policy == "avx512":
        return {"OPENBLAS_CORETYPE": "SkylakeX", **dict.fromkeys(_TORCH_ISA_VARS)}
    if policy == "avx2":
        return {"OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2",
                "DNNL_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
    return {}


def _set_allocator(policy: str) -> str:
    if policy == "glibc":
        return "glibc defaults (dynamic mmap threshold)"
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = all(libc.mallopt(param, value) == 1 for param, value in _STEADY.items())
    except (OSError, AttributeError):
        ok = False
    if not ok:
        return "steady requested but mallopt is unavailable: allocator defaults in force"
    return "steady (mallopt: mmap threshold 256 MiB, trim threshold 1 GiB, top pad 128 MiB)"


def _openblas(query: str) -> Any:
    """Ask the OpenBLAS that NumPy loaded for its core name or thread count (Linux only)."""
    try:
        maps = Path("/proc/self/maps").read_text(encoding="utf-8").split()
    except OSError:
        return None
    for lib in sorted({p for p in maps if "openblas" in p and ".so" in p}):
        handle = ctypes.CDLL(lib)
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", ""):
                fn = getattr(handle, f"{prefix}{query}{suffix}", None)
                if fn is not None:
                    if query == "get_corename":
                        fn.restype = ctypes.c_char_p
                        return fn().decode()
                    return int(fn())
    return None


def _configure_child(isa: str, allocator: str, threads: int) -> list[str]:
    """Set threads, instruction sets and allocator; import numpy and torch; describe them."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    changed = []
    for key, value in _isa_settings(isa).items():
        if value is None:
            if os.environ.pop(key, None) is not None:
                changed.append(f"unset {key}")
        else:
            os.environ[key] = value
            changed.append(f"{key}={value}")
    alloc = _set_allocator(allocator)
    sys.path.insert(0, str(ROOT))

    import numpy as np
    import torch

    torch.set_num_threads(threads)
    core, torch_isa = _openblas("get_corename") or "?", torch.backends.cpu.get_cpu_capability()
    avx512 = {"skylakex", "cooperlake", "sapphirerapids"}
    same = (core.lower() in avx512) == torch_isa.upper().startswith("AVX512")
    return [f"instruction sets: NumPy's OpenBLAS core {core}, torch {torch_isa}"
            f"{'' if same else '  (NOT matched)'}"
            + (f"  [{', '.join(changed)}]" if changed else "  [environment unchanged]"),
            f"threads: OpenBLAS {_openblas('get_num_threads') or '?'}, torch "
            f"{torch.get_num_threads()} (os.cpu_count() = {os.cpu_count()})",
            f"allocator: {alloc}",
            f"numpy {np.__version__}, torch {torch.__version__}, "
            f"load average at start {os.getloadavg()[0]:.2f}"]


# ---------------------------------------------------------------- timing
def race(ours: Fn, theirs: Fn, rounds: int, warmup: int = 3) -> tuple[list[float], list[float]]:
    """Seconds per call of each, alternating ours and theirs round by round after a warm-up."""
    for _ in range(warmup):                # allocators, thread pools, lazy initialisation
        ours()
        theirs()
    a, b = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        ours()
        a.append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs()
        b.append(time.perf_counter() - start)
    return a, b


def _run_cases(cases: Sequence[Case], rounds: int) -> list[dict[str, Any]]:
    rows = []
    for case in cases:
        ours, theirs = case.prepare()
        a, b = race(ours, theirs, rounds)
        rows.append({"ours": min(a), "torch": min(b),
                     "median": statistics.median(a) / statistics.median(b)})
    return rows


# ---------------------------------------------------------------- table (parent side)
def _label(isa: str) -> str:
    if isa == "matched":
        return f"matched ISA ({'AVX-512' if _has_avx512() else 'AVX2'} both)"
    return {"as-installed": "ISA as installed", "avx2": "AVX2 both",
            "avx512": "OpenBLAS AVX-512"}[isa]


def _configs(requested: list[str] | None) -> list[str]:
    if requested:
        return list(dict.fromkeys(requested))
    # as-installed only adds information when "matched" changes something
    changes = {k: v for k, v in _isa_settings("matched").items() if os.environ.get(k) != v}
    return ["matched", "as-installed"] if changes else ["matched"]


def _spawn(script: str, isa: str, args: argparse.Namespace) -> tuple[list[str], list[Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        env = {**os.environ, _CHILD: f"{isa},{args.allocator}"}
        proc = subprocess.run([sys.executable, script, "--threads", str(args.threads),
                               "--rounds", str(args.rounds), "--json", str(out)],
                              env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"benchmark child ({isa}) failed:\n{proc.stdout}{proc.stderr}")
        result = json.loads(out.read_text(encoding="utf-8"))
    return result["about"], result["rows"]


def main(title: str, cases: Callable[[], Sequence[Case]], default_rounds: int = 20,
         argv: list[str] | None = None) -> int:
    """Parse the common options, run every configuration in a child, print the table."""
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for NumPy's BLAS and for torch (default: all cores)")
    parser.add_argument("--rounds", type=int, default=default_rounds, help="timed rounds")
    parser.add_argument("--isa", choices=ISA_POLICIES, action="append",
                        help="instruction-set policy, repeatable (default: matched, plus "
                             "as-installed when that differs)")
    parser.add_argument("--allocator", choices=ALLOCATORS, default="steady",
                        help="glibc malloc policy for both libraries (default: steady)")
    parser.add_argument("--json", help=argparse.SUPPRESS)   # a child's result file
    args = parser.parse_args(argv)

    if _CHILD in os.environ:                                 # a child: one configuration
        isa, allocator = os.environ[_CHILD].split(",")
        about = _configure_child(isa, allocator, args.threads)
        rows = _run_cases(cases(), args.rounds)
        about.append(f"load average at end {os.getloadavg()[0]:.2f}")
        Path(args.json).write_text(json.dumps({"about": about, "rows": rows}), encoding="utf-8")
        return 0

    print(title)
    print(f"best of {args.rounds} rounds, ours and torch alternating; ratio = ours / torch "
          f"(below 1: ours is faster); the median ratio in brackets")
    configs = _configs(args.isa)
    results = {}
    for isa in configs:
        about, rows = _spawn(sys.argv[0], isa, args)
        print(f"\n[{_label(isa)}]")
        for line in about:
            print(f"  {line}")
        results[isa] = rows
    listed = cases()
    head = f"{'case':<44}{'variant':<14}{'target':>7}"
    for isa in configs:
        head += f" | {_label(isa)[:31]:<31}"
    sub = " " * 65 + "".join(f" | {'ours ms':>8}{'torch ms':>9}{'ratio':>6}{'(med)':>7}  ok"
                             for _ in configs)
    print(f"\n{head}\n{sub}")
    missed = []
    for k, case in enumerate(listed):
        line = f"{case.name[:43]:<44}{case.variant:<14}{case.target:>7.1f}"
        for isa in configs:
            r = results[isa][k]
            ratio = r["ours"] / r["torch"]
            ok = ratio <= case.target
            if not ok:
                missed.append(f"{case.name} {case.variant} [{_label(isa)}]: {ratio:.2f}")
            line += (f" | {r['ours'] * 1e3:>8.2f}{r['torch'] * 1e3:>9.2f}{ratio:>6.2f}"
                     f"{r['median']:>7.2f}  {'yes' if ok else 'NO '}")
        print(line)
    if missed:
        print("\nmissed targets:\n  " + "\n  ".join(missed))
    return 1 if missed else 0
