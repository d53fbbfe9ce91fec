"""Generate the golden cases (fixtures/golden/) from the reference, checked against PyTorch.

    python -m conformance.golden            # regenerate in memory, compare with the stored files
    python -m conformance.golden --write    # regenerate and write them (only if torch agrees)

Each case draws its values from its own seed (recorded in the manifest), rounds every float input
and upstream gradient to a float32 number (so float32 runs see the very inputs the expected values
come from), computes the expected outputs and gradients with the reference (the ``numpy``
backend) in float64, and is written only when PyTorch (the ``torch`` backend) agrees on every case
within the tolerance policy.

The cases are designed to expose bugs, not just to exist: asymmetric multi-channel kernels (a
symmetric kernel cannot tell convolution from correlation), distinct random weights for every gate
(equal gates hide a swapped gate order), non-square inputs, kernels and strides, repeated token
ids, edge shapes (N = 1, T = 1, C = 1, 1×1 kernels, kernel = input size), ties only where ties
are the point (step(0), relu'(0), the max-pool tie rule), and a case for every promise of
stability: |x| from 30 to 1e4 for sigmoid and tanh, rows spanning ±800 and ±1e4 for softmax and
cross-entropy, saturated gates (RNN: tanh) for the recurrent ops (spec_tests/mutant_corpus/
holds the realistic mistakes each of them kills).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from conformance.backends import Bound, load_backend
from conformance.cases import GOLDEN_FORMAT, Case, complete, f32, golden_cases
from conformance.contract import OPS, op_spec
from conformance.runner import run_case
from reference import SPEC_VERSION
from reference.fixtures import fixtures_dir
from reference.tolerance import compare, tolerance

__all__ = ["PLANS", "SEED", "Draft", "Planner", "build_cases", "main", "plans",
           "stored_mismatches", "write"]

SEED = 20_240_517
"""The master seed; case i of op k draws from ``SEED + 1000·k + i``."""


@dataclass(frozen=True)
class Draft:
    """A golden case before its expected values: what it is about, its inputs and attributes."""

    about: str
    inputs: dict[str, np.ndarray]
    attrs: dict[str, Any] = field(default_factory=dict)


Rng = np.random.Generator


@dataclass(frozen=True)
class Planner:
    """How many golden cases an op has and how to draft the i-th from its own generator."""

    count: int
    draft: Callable[[Rng, int], Draft]


def _normal(rng: Rng, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    return f32(rng.normal(0.0, scale, shape))


# ---------------------------------------------------------------- one planner per family
def _elementwise(op: str) -> Planner:
    plans = [
        ("a vector with exact zeros (the convention at x = 0)", (9,), 3.0, True),
        ("a 2-D array including large |x| (saturation)", (3, 4), 12.0, False),
        ("a 3-D array", (2, 3, 5), 2.0, False),
        ("a single element (N = 1)", (1,), 1.0, False),
    ]

    def plan(rng: Rng, i: int) -> Draft:
        if i == len(plans):                              # sigmoid and tanh: stability
            return Draft(f"{op}: |x| from 30 to 1e4 (exp overflows beyond 88.7 in float32 and "
                         f"709.8 in float64): stable for any finite x",
                         {"x": _huge_elementwise(rng)})
        about, shape, scale, zeros = plans[i]
        x = _normal(rng, shape, scale)
        if zeros:
            x[::3] = 0.0
        return Draft(f"{op}: {about}", {"x": x})
    return Planner(len(plans) + (op in ("sigmoid", "tanh")), plan)


def _huge_elementwise(rng: Rng) -> np.ndarray:
    """±1e4, ±800, ±100 and ±30, each a little off its round number, in a random order, and a
    moderate value: every exp(±x) of a naive formula overflows in float32 (beyond 88.7) and all
    but ±100 and ±30 in float64 (beyond 709.8), so a sigmoid or tanh that is not written
    stably gives inf or nan on them (CONVENTIONS: stable for any finite x)."""
    magnitudes = np.repeat([1e4, 800.0, 100.0, 30.0], 2) * np.tile([1.0, -1.0], 4)
    values = np.append(magnitudes + rng.uniform(-0.5, 0.5, 8), rng.normal())
    return f32(rng.permutation(values).reshape(3, 3))


def _linear(rng: Rng, i: int) -> Draft:
    n, d, m = [(1, 1, 1), (4, 3, 5), (2, 7, 3), (6, 16, 8)][i]
    return Draft(f"linear: N={n}, D={d}, M={m} (w [M, D] is not square unless M = D)",
                 {"x": _normal(rng, (n, d)), "w": _normal(rng, (m, d), 0.5),
                  "b": _normal(rng, (m,))})


def _huge_logits(rng: Rng, n: int, c: int) -> np.ndarray:
    """Rows around +1e4, −1e4 and ±800, a few units apart: exp overflows in float64 (beyond
    ≈ 709) and float32 (≈ 88.7) unless the row's maximum is subtracted first (CONVENTIONS:
    stable for |x| up to 1e4), while the results stay far from one-hot."""
    centres = np.resize([1e4, -1e4, 800.0, -800.0], n)[:, None]
    return f32(centres + rng.normal(0.0, 2.0, (n, c)))


def _spread_logits(rng: Rng, n: int, c: int) -> np.ndarray:
    """Rows spanning −800 … 800 (and one −1e4 … 1e4): the max shift is the only safe one; a
    shift by the row's mean or first element leaves exp(≥ 800) to overflow, and the smaller
    classes' probabilities underflow to exactly 0 (the results are one-hot)."""
    spans = np.resize([800.0, 1e4], n)[:, None]
    ends = np.tile(np.linspace(-1.0, 1.0, c), (n, 1)) * spans
    return f32(rng.permuted(ends + rng.normal(0.0, 1.0, (n, c)), axis=1))


def _softmax(rng: Rng, i: int) -> Draft:
    if i == 4:
        return Draft("softmax: huge logits (|x| ≈ 1e4 and 800): exp overflows without the max "
                     "shift", {"x": _huge_logits(rng, 4, 5)})
    if i == 5:
        return Draft("softmax: rows spanning −800 … 800 and −1e4 … 1e4: one-hot results; only "
                     "the max shift keeps exp finite", {"x": _spread_logits(rng, 3, 4)})
    about, shape, scale = [
        ("one class (C = 1): y = 1, no gradient", (1, 1), 1.0),
        ("a batch of rows", (3, 5), 2.0),
        ("a 3-D array, softmax over the last axis only", (2, 3, 4), 2.0),
        ("large logits (|x| ≈ 40): the max shift matters", (4, 6), 40.0),
    ][i]
    return Draft(f"softmax: {about}", {"x": _normal(rng, shape, scale)})


def _cross_entropy(rng: Rng, i: int) -> Draft:
    if i == 4:
        return Draft("cross_entropy: huge logits (|x| ≈ 1e4 and 800): log-sum-exp overflows "
                     "without the max shift", {"logits": _huge_logits(rng, 4, 5),
                                               "targets": rng.integers(0, 5, 4)})
    if i == 5:
        logits = _spread_logits(rng, 3, 4)
        targets = rng.integers(0, 4, 3)
        targets[:2] = logits[:2].argmin(axis=1)          # confidently wrong on two rows
        return Draft("cross_entropy: rows spanning −800 … 800 and −1e4 … 1e4, the target the "
                     "smallest logit on two rows: its probability underflows to 0, the loss "
                     "(≈ 1600 per row) stays finite only by log-sum-exp",
                     {"logits": logits, "targets": targets})
    about, n, c, scale = [
        ("N = 1, C = 1: loss 0", 1, 1, 1.0),
        ("a batch, the mean over N", 4, 5, 2.0),
        ("more rows than classes", 7, 3, 1.0),
        ("large logits (|x| ≈ 30), log-sum-exp", 3, 10, 30.0),
    ][i]
    return Draft(f"cross_entropy: {about}", {"logits": _normal(rng, (n, c), scale),
                                             "targets": rng.integers(0, c, n)})


def _max_margin(rng: Rng, i: int) -> Draft:
    if i == 4:                       # the kink Δ + s_c − s = 0 exactly, in float32 arithmetic too
        s_c = rng.integers(-16, 17, 8) / 8.0                # multiples of 1/8: s_c + 1 is exact
        s = np.where(np.arange(8) % 2 == 0, s_c + 1.0, s_c + rng.choice([-1.5, 2.5], 8))
        return Draft("max_margin: windows on the kink Δ + s_c − s = 0 (the subgradient there is "
                     "0, the convention max_margin_kink)", {"s": s, "s_c": s_c}, {"delta": 1.0})
    about, shape, delta = [
        ("one window (a scalar)", (), 1.0),
        ("several windows, Δ = 1", (8,), 1.0),
        ("a 2-D batch, Δ = 1", (3, 4), 1.0),
        ("a smaller margin Δ = 0.5", (6,), 0.5),
    ][i]
    s, s_c = _normal(rng, shape, 1.5), _normal(rng, shape, 1.5)
    near = np.abs(delta + s_c - s) < 0.05               # keep away from the kink J = 0
    s = np.where(near, s + 0.5, s)
    return Draft(f"max_margin: {about}", {"s": f32(s), "s_c": s_c}, {"delta": delta})


def _conv2d(rng: Rng, i: int) -> Draft:
    about, (n, c, h, w), (k, fh, fw), stride, padding = [
        ("asymmetric 3×2 kernels over 3 channels, non-square input", (2, 3, 5, 7), (4, 3, 2),
         (1, 1), (0, 0)),
        ("one channel, one kernel, padding 1 keeps 5×5 (the slide's geometry)", (1, 1, 5, 5),
         (1, 3, 3), (1, 1), (1, 1)),
        ("stride (2, 1) and padding (1, 0): per-axis settings", (2, 2, 7, 6), (3, 3, 3),
         (2, 1), (1, 0)),
        ("1×1 kernels (a per-pixel linear map over channels)", (3, 4, 4, 3), (2, 1, 1),
         (1, 1), (0, 0)),
        ("kernel = input size: one output pixel", (2, 3, 4, 5), (2, 4, 5), (1, 1), (0, 0)),
        ("stride 3 with padding 1 on 7×7", (1, 2, 7, 7), (2, 3, 3), (3, 3), (1, 1)),
        ("3×5 kernels, stride (1, 2), padding (2, 1)", (2, 3, 8, 9), (5, 3, 5), (1, 2),
         (2, 1)),
        ("a 1×3 kernel (grid size need not be square)", (1, 1, 3, 6), (2, 1, 3), (1, 1),
         (0, 1)),
        ("8 channels, 6 kernels, padding 1: a longer window sum", (2, 8, 10, 10), (6, 3, 3),
         (1, 1), (1, 1)),
    ][i]
    return Draft(f"conv2d: {about}",
                 {"x": _normal(rng, (n, c, h, w)), "w": _normal(rng, (k, c, fh, fw), 0.5),
                  "b": _normal(rng, (k,))}, {"stride": stride, "padding": padding})


def _conv1d(rng: Rng, i: int) -> Draft:
    about, (n, c, length), (k, f), stride, padding = [
        ("word vectors of width 4 over 9 positions, 3 kernels of 3 words, padding 1",
         (2, 4, 9), (3, 3), 1, 1),
        ("kernel = sequence length, one channel", (1, 1, 5), (1, 5), 1, 0),
        ("stride 2", (3, 2, 10), (4, 2), 2, 0),
        ("width-1 kernels", (1, 6, 7), (2, 1), 1, 0),
        ("stride 3 with padding 2", (2, 3, 12), (5, 4), 3, 2),
    ][i]
    return Draft(f"conv1d: {about}",
                 {"x": _normal(rng, (n, c, length)), "w": _normal(rng, (k, c, f), 0.5),
                  "b": _normal(rng, (k,))}, {"stride": stride, "padding": padding})


_POOLS = [
    ("2×2 windows, stride 2", (2, 3, 4, 4), (2, 2), (2, 2)),
    ("non-square 2×3 windows and strides on a non-square map", (1, 1, 4, 6), (2, 3), (2, 3)),
    ("overlapping 3×3 windows, stride 1", (2, 2, 5, 5), (3, 3), (1, 1)),
    ("window = input size (3×5)", (1, 2, 3, 5), (3, 5), (1, 1)),
    ("1×1 windows (identity)", (3, 1, 4, 3), (1, 1), (1, 1)),
    ("2×3 windows, stride (1, 2)", (2, 2, 6, 7), (2, 3), (1, 2)),
]


def _pool(op: str) -> Planner:
    def plan(rng: Rng, i: int) -> Draft:
        if i == len(_POOLS):                            # max pooling only: the tie rule
            x = np.array([[1, 3, 3, 0], [3, 3, 1, 1], [2, 2, 5, 5], [2, 2, 5, 5]], float)
            return Draft("max_pool2d: tied maxima in every window: the gradient goes to the "
                         "first maximum in row-major order", {"x": x[None, None]},
                         {"kernel_size": (2, 2), "stride": (2, 2)})
        about, shape, kernel, stride = _POOLS[i]
        return Draft(f"{op}: {about}", {"x": _normal(rng, shape)},
                     {"kernel_size": kernel, "stride": stride})
    return Planner(len(_POOLS) + (op == "max_pool2d"), plan)


def _recurrent(op: str, gates: int) -> Planner:
    sizes = [
        ("one step (T = 1)", 1, 2, 3, 4),
        ("a short sequence, N = 2", 5, 2, 3, 4),
        ("T = 12, N = 3: errors compound over time", 12, 3, 4, 5),
        ("one sequence (N = 1), one input feature (D = 1)", 4, 1, 1, 3),
    ]

    def plan(rng: Rng, i: int) -> Draft:
        if i == len(sizes):
            return _saturated(rng, op, gates)
        about, t, n, d, h = sizes[i]
        g = gates * h
        inputs = {"x": _normal(rng, (t, n, d)), "h0": _normal(rng, (n, h), 0.5)}
        if op == "lstm":
            inputs["c0"] = _normal(rng, (n, h), 0.5)
        inputs |= {"w_ih": _normal(rng, (g, d), 0.6), "w_hh": _normal(rng, (g, h), 0.6),
                   "b_ih": _normal(rng, (g,), 0.5), "b_hh": _normal(rng, (g,), 0.5)}
        weights = "every gate its own random weights" if gates > 1 else "random weights"
        return Draft(f"{op}: {about}; {weights}", inputs)   # (an RNN has no gates)
    return Planner(len(sizes) + 1, plan)


def _saturated(rng: Rng, op: str, gates: int) -> Draft:
    """One input feature at ±1e4 at step 0 and ±800 at step 1 drives the gates'
    pre-activations to thousands and hundreds (either sign), the later steps are ordinary: σ
    and tanh must saturate to exactly 0, 1 or ±1 without inf or nan (CONVENTIONS: stable for
    any finite x), and the gradient of the ordinary steps still flows back through the
    saturated ones."""
    t, n, d, h = 5, 2, 3, 4
    g = gates * h
    x = _normal(rng, (t, n, d))
    x[0, :, 0] = [1e4, -1e4]
    x[1, :, 0] = [-800.0, 800.0]
    inputs = {"x": x, "h0": _normal(rng, (n, h), 0.5)}
    if op == "lstm":
        inputs["c0"] = _normal(rng, (n, h), 0.5)
    inputs |= {"w_ih": _normal(rng, (g, d), 0.6), "w_hh": _normal(rng, (g, h), 0.6),
               "b_ih": _normal(rng, (g,), 0.5), "b_hh": _normal(rng, (g,), 0.5)}
    saturated = "saturated gates" if gates > 1 else "a saturated tanh"
    return Draft(f"{op}: {saturated}: an input of ±1e4 at step 0 and ±800 at step 1 "
                 f"(pre-activations in the thousands and hundreds), ordinary steps after", inputs)


def _embedding(rng: Rng, i: int) -> Draft:
    about, v, d, ids_shape = [
        ("ids [T, N] with repeated ids (their gradients add up)", 5, 3, (4, 2)),
        ("one token (V = 1) used three times", 1, 4, (3,)),
        ("D = 1", 10, 1, (6,)),
        ("3-D ids", 7, 5, (2, 3, 2)),
    ][i]
    ids = rng.integers(0, v, ids_shape)
    ids.flat[-1] = ids.flat[0]                          # at least one repeat
    return Draft(f"embedding: {about}", {"ids": ids, "E": _normal(rng, (v, d))})


PLANS: dict[str, Planner] = {
    **{op: _elementwise(op) for op in ("step", "sigmoid", "tanh", "relu")},
    "linear": Planner(4, _linear),
    "softmax": Planner(6, _softmax),
    "cross_entropy": Planner(6, _cross_entropy),
    "max_margin": Planner(5, _max_margin),
    "conv2d": Planner(9, _conv2d),
    "conv1d": Planner(5, _conv1d),
    **{op: _pool(op) for op in ("max_pool2d", "avg_pool2d", "lp_pool2d")},
    "rnn": _recurrent("rnn", 1),
    "lstm": _recurrent("lstm", 4),
    "gru": _recurrent("gru", 3),
    "embedding": Planner(4, _embedding),
}
"""op → its planner: ``count`` cases, the i-th drafted by ``draft(rng, i)``."""


def plans(op: str) -> list[tuple[int, Draft]]:
    """The seeded drafts of an op's golden cases: (seed, draft)."""
    k = list(OPS).index(op)
    planner = PLANS[op]
    seeds = [SEED + 1000 * k + i for i in range(planner.count)]
    return [(seed, planner.draft(np.random.default_rng(seed), i)) for i, seed in enumerate(seeds)]


def build_cases(ops: Iterable[str], reference: Bound) -> list[Case]:
    """The golden cases of ``ops``, expected values from ``reference``."""
    cases = []
    for op in ops:
        spec = op_spec(op)
        for i, (seed, draft) in enumerate(plans(op)):
            rng = np.random.default_rng([seed, 1])
            bare = Case(op=op, source="golden", name=f"{i + 1:02d}", inputs=draft.inputs,
                        attrs=draft.attrs, about=draft.about, claims=spec.claims, seed=seed)
            forward = complete(bare, reference)           # the outputs, to shape the upstream
            outs = forward.expected or {}
            upstream = {name: _normal(rng, np.shape(v)) for name, v in outs.items()}
            cases.append(complete(replace(forward, upstream=upstream), reference))  # + gradients
    return cases


def _disagreements(cases: list[Case], torch_backend: Bound) -> list[str]:
    problems = []
    for case in cases:
        for result in run_case(torch_backend, case, np.float64, required=True):
            if result.status != "pass":
                problems.append(result.line())
    return problems


def write(cases: list[Case]) -> None:
    """Write the manifest and one .npz per op to fixtures/golden/."""
    folder = fixtures_dir() / "golden"
    folder.mkdir(exist_ok=True)
    entries = []
    by_op: dict[str, dict[str, np.ndarray]] = {}
    for case in cases:
        spec = op_spec(case.op)
        arrays = by_op.setdefault(case.op, {})
        sections = (("in", case.inputs), ("up", case.upstream), ("out", case.expected or {}),
                    ("grad", case.expected_grads or {}))
        for part, values in sections:
            for key, value in values.items():
                arr = np.asarray(value)
                arrays[f"{case.name}/{part}/{key}"] = (
                    arr.astype(np.int64) if np.issubdtype(arr.dtype, np.integer)
                    else arr.astype(np.float64))
        entries.append({"op": case.op, "name": case.name, "about": case.about,
                        "seed": case.seed, "claims": list(spec.claims),
                        "attrs": {k: list(v) if isinstance(v, tuple) else v
                                  for k, v in case.attrs.items()},
                        "shapes": {k: list(np.shape(v)) for k, v in case.inputs.items()}})
    for op, arrays in by_op.items():
        np.savez_compressed(folder / f"{op}.npz", **arrays)   # type: ignore[arg-type]
    manifest = {
        "format": GOLDEN_FORMAT, "spec_version": SPEC_VERSION, "seed": SEED,
        "generated_by": "python -m conformance.golden --write",
        "checked_against": f"torch {load_backend('torch').version}, float64",
        "about": "Golden conformance cases: inputs, attributes, upstream gradients, expected "
                 "outputs and gradients (arrays in <op>.npz under <case>/<in|up|out|grad>/"
                 "<name>). Generated from the reference; PyTorch agreed on every case.",
        "cases": entries,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False)
                                          + "\n", encoding="utf-8")


def stored_mismatches(fresh: list[Case]) -> list[str]:
    """How the stored golden cases differ from ``fresh`` ones (inputs and expected values)."""
    stored = {c.id: c for c in golden_cases()}
    problems = [f"{c.id}: not stored" for c in fresh if c.id not in stored]
    problems += [f"{i}: stored but no longer generated" for i in stored.keys() -
                 {c.id for c in fresh}]
    exact = tolerance(np.float64)
    for case in fresh:
        old = stored.get(case.id)
        if old is None:
            continue
        for part in ("inputs", "upstream", "expected", "expected_grads"):
            new_values, old_values = getattr(case, part) or {}, getattr(old, part) or {}
            for key, value in new_values.items():
                if key not in old_values or not compare(old_values[key], value, exact).ok:
                    problems.append(f"{case.id}: {part} {key} differs")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.golden",
        description="Regenerate the golden cases from the reference; compare them with the "
                    "stored ones, or write them if PyTorch agrees on every case.")
    parser.add_argument("--write", action="store_true",
                        help="write fixtures/golden/ (refused unless torch agrees)")
    args = parser.parse_args(argv)
    reference = load_backend("numpy")
    ops = [op for op in OPS if reference.forward_fn(op) is not None]
    missing = [op for op in OPS if op not in ops]
    if missing:
        print(f"the reference has no {', '.join(missing)} yet: no golden cases for them")
    cases = build_cases(ops, reference)
    if args.write:
        problems = _disagreements(cases, load_backend("torch"))
        if problems:
            print("PyTorch disagrees with the reference; nothing written:\n  "
                  + "\n  ".join(problems), file=sys.stderr)
            return 1
        write(cases)
        print(f"wrote {len(cases)} golden cases of {len(ops)} ops to {fixtures_dir() / 'golden'}"
              f" (torch agrees on all of them)")
        return 0
    problems = stored_mismatches(cases)
    if problems:
        print("the stored golden cases differ from the reference's:\n  "
              + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"the {len(cases)} stored golden cases match the reference")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
