"""Shared plumbing of the benchmarks in bench/: threads, instruction sets, allocator, timing, and
the result table. A benchmark script lists its cases and calls ``main``; see bench_conv.py.

Both libraries run in one process, with the same number of threads, alternating in blocks of
three calls with a short pause before each block (see ``race``: otherwise one library's
still-spinning thread pool slows the other down) so that both see the same machine load; the
best call is the figure, the ratio of the medians is shown beside it. Every case checks its
numbers against torch before it is timed.

Configurations
--------------
Three settings decide much of a ratio. The instruction sets can only be chosen before the
libraries load, so every configuration runs in a fresh child process that sets all three first
and prints what the libraries report back:

* Instruction set (``--isa``). On this AVX-512 CPU, torch's conv2d and LSTM (oneDNN) and its
  elementwise kernels (ATen) use AVX-512 (its MKL matrix products run AVX2 code on this AMD CPU
  whatever is set). The OpenBLAS that ships with NumPy chooses its kernels by CPU model, or by
  OPENBLAS_CORETYPE when that is set: this environment pins ``OPENBLAS_CORETYPE=Haswell``
  (AVX2), which halves NumPy's float32 matrix-product speed here (an LSTM's products: 4.4 ms
  with Haswell kernels, 2.4 ms with SkylakeX ones, one thread).

  - ``matched`` (the default, the headline): both libraries on the best instruction set they can
    both use on this CPU, so that neither is held below what the CPU offers. On an AVX-512 CPU
    (F, BW, DQ, VL): OPENBLAS_CORETYPE=SkylakeX (OpenBLAS's AVX-512 kernels) and torch at its
    default (AVX-512); otherwise both held to AVX2 as in ``avx2``.
  - ``as-installed``: nothing changed (here: NumPy's BLAS AVX2, torch AVX-512).
  - ``avx2``: both held to AVX2 (OPENBLAS_CORETYPE=Haswell, ATEN_CPU_CAPABILITY=avx2,
    DNNL_MAX_CPU_ISA=AVX2, MKL_ENABLE_INSTRUCTIONS=AVX2).
  - ``avx512``: OPENBLAS_CORETYPE=SkylakeX, torch at its default (needs an AVX-512 CPU).

  By default a script runs ``as-installed`` (the configuration the targets are stated for)
  and, when ``matched`` changes the environment, ``matched`` too, and prints both ratios;
  ``--isa`` (repeatable) runs just the policies given.

* Allocator (``--allocator``). Both libraries allocate their multi-megabyte temporaries with
  glibc's malloc. With glibc's defaults, blocks above the mmap threshold (which adapts, up to
  32 MiB) are mmapped and handed back to the kernel when freed, so the next call pays page faults
  for fresh zeroed pages. On this virtual machine faults are expensive and erratic, for both
  sides, and they are not the arithmetic being compared: torch's float64 conv2d forward +
  backward took 15 ms with ``steady`` and 25–35 ms with the defaults, its 2×2 pools 2.6 ms and at
  times 24 ms. ``steady`` (the default, for every configuration) sets, via ``mallopt`` at
  start-up, M_MMAP_THRESHOLD = 256 MiB, M_TRIM_THRESHOLD = 1 GiB and M_TOP_PAD = 128 MiB (as
  MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=134217728
  would): freed memory stays in the heap and the next call reuses it, as in a long-running
  training process. ``glibc`` keeps the defaults. One process, one allocator: the setting
  applies to both libraries alike.

* Threads (``--threads``, repeatable; by default each configuration runs with 1 thread and with
  2). Both libraries get the same number: OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and
  MKL_NUM_THREADS are set before NumPy is imported, ``torch.set_num_threads`` after, and the
  child prints what both report. Both counts are shown because they answer different questions:
  with one thread the two libraries' kernels are compared; with 2 (all cores of the development
  machine), also how much of each side's work runs in parallel (torch's elementwise and pooling
  kernels do; of ours, the matrix products do, and conv2d, max pooling and the average pool's
  forward pass run blocks of images on the threads, see reference/_blocks.py, but the LSTM's
  elementwise steps run on one core).

Repetitions and the verdict
---------------------------
Every configuration runs ``--repeat`` times (default 3), each time in a fresh child, the
configurations taking turns (all of them once, then all again ...) so that a change in machine
load falls on all of them. A repetition's ratio is ours' best call over torch's best call; the
table shows the median of the repetitions' ratios and their spread, min–max (and the median of
the repetitions' ratios of median calls, "(med)"). The targets are the project's decision
(issue 14) and are stated for the libraries as installed at 2 threads: a case meets its target
when the median ratio in that configuration ("as installed, 2 threads") is at most the target.
The other configurations are shown for information, their verdict in parentheses. The exit
status is 1 when a case misses its target there, 0 otherwise (also when that configuration was
not among those run, which the script then says).
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
JUDGED = ("as-installed", 2)             # the configuration the targets are stated for (issue 14)

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


def _numpy_openblas() -> dict[str, Any]:
    """threadpoolctl's description of the OpenBLAS that NumPy loaded ({} if there is none): its
    ``architecture`` (the core name) and ``num_threads``."""
    from threadpoolctl import threadpool_info

    libs = [lib for lib in threadpool_info() if lib["internal_api"] == "openblas"]
    return next((lib for lib in libs if "numpy" in lib["filepath"]), libs[0] if libs else {})


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
    openblas = _numpy_openblas()
    core, torch_isa = openblas.get("architecture") or "?", torch.backends.cpu.get_cpu_capability()
    avx512 = {"skylakex", "cooperlake", "sapphirerapids"}
    same = (core.lower() in avx512) == torch_isa.upper().startswith("AVX512")
    return [f"instruction sets: NumPy's OpenBLAS core {core}, torch {torch_isa}"
            f"{'' if same else '  (NOT matched)'}"
            + (f"  [{', '.join(changed)}]" if changed else "  [environment unchanged]"),
            f"threads: OpenBLAS {openblas.get('num_threads') or '?'}, torch "
            f"{torch.get_num_threads()} (os.cpu_count() = {os.cpu_count()})",
            f"allocator: {alloc}",
            f"numpy {np.__version__}, torch {torch.__version__}, "
            f"load average at start {os.getloadavg()[0]:.2f}"]


# ---------------------------------------------------------------- timing
def race(ours: Fn, theirs: Fn, rounds: int, block: int = 3, pause: float = 0.1,
         warmup: int = 2) -> tuple[list[float], list[float]]:
    """Seconds per call of each: ``rounds`` rounds of ``block`` calls of ours, then ``block``
    calls of theirs, each block after a ``pause``; first a warm-up (allocators, thread pools,
    lazy initialisation).

    Alternating spreads any change in machine load over both. The pause and the blocks are
    there because each library's thread pool keeps spinning for a while after its last call
    (OpenBLAS's idle workers for up to ~0.1 s, torch's OpenMP team briefly): on a machine with
    as many cores as threads, calls made meanwhile by the other library compete with those
    spinning threads for the cores. Measured at 2 threads on 2 cores: alternating single calls
    without a pause made ours up to 4× slower, and torch's median 2× its best; with the pause
    both medians are within a few percent of the best. The best of all calls is the figure.
    """
    for _ in range(warmup):
        ours()
        theirs()
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        for fn, times in ((ours, a), (theirs, b)):
            time.sleep(pause)
            for _ in range(block):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
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
@dataclass(frozen=True)
class _Config:
    isa: str
    threads: int

    def label(self) -> str:
        isa = {"matched": f"matched ({'AVX-512' if _has_avx512() else 'AVX2'} both)",
               "as-installed": "as installed", "avx2": "AVX2 both",
               "avx512": "OpenBLAS AVX-512"}[self.isa]
        return f"{isa}, {self.threads} thread{'s' if self.threads > 1 else ''}"

    def judged(self) -> bool:
        """Whether the targets are stated for this configuration (JUDGED)."""
        return (self.isa, self.threads) == JUDGED


def _configs(isas: list[str] | None, threads: list[int] | None) -> list[_Config]:
    if not isas:   # matched only adds information when it changes something
        changes = [k for k, v in _isa_settings("matched").items() if os.environ.get(k) != v]
        isas = ["matched", "as-installed"] if changes else ["as-installed"]
    counts = threads or [1, JUDGED[1]]
    return [_Config(isa, n) for isa in dict.fromkeys(isas) for n in dict.fromkeys(counts)]


def _summary(reps: list[dict[str, float]]) -> dict[str, float]:
    """One case in one configuration over its repetitions: the medians of the best calls, the
    median ratio of the best calls with its min and max, and the median ratio of the medians."""
    ratios = [r["ours"] / r["torch"] for r in reps]
    return {"ours": statistics.median(r["ours"] for r in reps),
            "torch": statistics.median(r["torch"] for r in reps),
            "ratio": statistics.median(ratios), "low": min(ratios), "high": max(ratios),
            "median": statistics.median(r["median"] for r in reps)}


def _spawn(script: str, config: _Config, args: argparse.Namespace) -> tuple[list[str], list[Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        env = {**os.environ, _CHILD: f"{config.isa},{args.allocator}"}
        proc = subprocess.run([sys.executable, script, "--threads", str(config.threads),
                               "--rounds", str(args.rounds), "--json", str(out)],
                              env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"benchmark child ({config.label()}) failed:\n{proc.stdout}"
                             f"{proc.stderr}")
        result = json.loads(out.read_text(encoding="utf-8"))
    return result["about"], result["rows"]


def main(title: str, cases: Callable[[], Sequence[Case]], default_rounds: int = 10,
         argv: list[str] | None = None) -> int:
    """Parse the common options, run every configuration ``--repeat`` times in children, print
    the table; 1 when a case misses its target in the judged configuration (JUDGED)."""
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--threads", type=int, action="append",
                        help=f"threads for NumPy's BLAS and for torch, repeatable (default: 1 "
                             f"and {JUDGED[1]})")
    parser.add_argument("--rounds", type=int, default=default_rounds,
                        help=f"timed rounds of 3 calls each (default {default_rounds})")
    parser.add_argument("--repeat", type=int, default=3,
                        help="repetitions of every configuration, each in a fresh process "
                             "(default 3): the table shows their median and spread")
    parser.add_argument("--isa", choices=ISA_POLICIES, action="append",
                        help="instruction-set policy, repeatable (default: as-installed, plus "
                             "matched when that differs)")
    parser.add_argument("--allocator", choices=ALLOCATORS, default="steady",
                        help="glibc malloc policy for both libraries (default: steady)")
    parser.add_argument("--json", help=argparse.SUPPRESS)   # a child's result file
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.rounds < 1:
        parser.error("--repeat and --rounds must be at least 1")

    if _CHILD in os.environ:                                 # a child: one configuration
        isa, allocator = os.environ[_CHILD].split(",")
        about = _configure_child(isa, allocator, (args.threads or [1])[0])
        rows = _run_cases(cases(), args.rounds)
        about.append(f"load average at end {os.getloadavg()[0]:.2f}")
        Path(args.json).write_text(json.dumps({"about": about, "rows": rows}), encoding="utf-8")
        return 0

    print(title)
    print(f"{args.repeat} repetitions (fresh processes) of the best of {args.rounds} rounds of 3 "
          f"calls each, ours and torch alternating; ratio = ours / torch (below 1: ours is "
          f"faster), the median over the repetitions, then their min–max; (med) = the ratio "
          f"of the median calls, median over the repetitions; ms = median of the best calls")
    print(f"load average before the run: {' '.join(f'{v:.2f}' for v in os.getloadavg())} "
          f"(1, 5, 15 min; later figures include this benchmark's own threads)")
    configs = _configs(args.isa, args.threads)
    runs: list[list[list[dict[str, float]]]] = [[] for _ in configs]  # [config][repetition][case]
    for rep in range(args.repeat):                           # the configurations take turns
        for config, done in zip(configs, runs):
            about, rows = _spawn(sys.argv[0], config, args)
            print(f"\n[{config.label()}, repetition {rep + 1} of {args.repeat}]")
            for line in about:
                print(f"  {line}", flush=True)
            done.append(rows)
    listed = cases()
    width = max(len(f"{case.name}, {case.variant}") for case in listed) + 2
    print(f"\n{'case':<{width}}{'target':>6}  {'configuration':<34}{'ours ms':>9}{'torch ms':>9}"
          f"{'ratio':>7}  {'min–max':<11}{'(med)':>6}  ok")
    missed = []
    for k, case in enumerate(listed):
        for j, (config, reps) in enumerate(zip(configs, runs)):
            r = _summary([rows[k] for rows in reps])
            ok = r["ratio"] <= case.target
            verdict = "yes" if ok else "NO"
            if not config.judged():
                verdict = f"({verdict.lower()})"
            elif not ok:
                missed.append(f"{case.name}, {case.variant} [{config.label()}]: {r['ratio']:.2f} "
                              f"({r['low']:.2f}–{r['high']:.2f}) > {case.target}")
            name = f"{case.name}, {case.variant}" if j == 0 else ""
            target = f"{case.target:>6.1f}" if j == 0 else " " * 6
            spread = f"{r['low']:.2f}–{r['high']:.2f}"
            print(f"{name:<{width}}{target}  {config.label():<34}{r['ours'] * 1e3:>9.2f}"
                  f"{r['torch'] * 1e3:>9.2f}{r['ratio']:>7.2f}  {spread:<11}{r['median']:>6.2f}"
                  f"  {verdict}")
    judged = _Config(*JUDGED)
    if not any(config.judged() for config in configs):
        print(f"\nthe targets are stated for {judged.label()}, which was not run: nothing judged")
        return 0
    print(f"\ntargets judged in {judged.label()} (median ratio ≤ target); the other "
          f"configurations' verdicts, in parentheses, are for information")
    if missed:
        print("missed targets:\n  " + "\n  ".join(missed))
        return 1
    print("every target met")
    return 0
