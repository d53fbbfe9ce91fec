"""The perceptron (lecture: "Expressiveness of perceptrons").

    Consider a perceptron with g = step function (Rosenblatt, 1957, 1960). Can represent AND, OR,
    NOT, majority, etc., but not XOR. Represents a linear separator in input space.

Notation
--------
N        number of examples
D        number of inputs
x, X     inputs [N, D] (x may be a single example [D])
y        targets in {0, 1} [N]
w        weights [D]
b        bias, a scalar: the perceptron fires where w·x + b ≥ 0 (step(0) = 1)
η        learning rate of Rosenblatt's rule

Proof-grade separability
------------------------
"Not linearly separable" is a statement about every (w, b), so no failed training run proves it.
This module decides separability in exact rational arithmetic (fractions.Fraction; every float is
a rational number) and returns a certificate that anyone can check with additions and
multiplications:

* separable: a separator (w, b) with w·x + b ≥ 1 on every positive and ≤ −1 on every negative;
* not separable: multipliers λ ≥ 0, not all zero, with Σ_pos λ_n (x_n, 1) = Σ_neg λ_n (x_n, 1).
  Adding up λ_n times the perceptron's requirements (w·x_n + b ≥ 0 on positives, < 0 on
  negatives) gives the same linear form in (w, b) on both sides, so it would have to be both
  ≥ 0 and < 0: the contradiction 0 < 0 (Farkas' lemma / Motzkin's transposition theorem; for XOR
  every λ_n = 1: (0,1,1) + (1,0,1) = (0,0,1) + (1,1,1)).

For finite sets the two outcomes are exhaustive (Farkas' lemma), and the LP that finds either is
solved by an exact phase-1 simplex with Bland's rule, which always terminates.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np

from reference._checks import (
    FloatArray,
    as_float_array,
    fail,
    positive_int,
    positive_number,
    rng_from,
)
from reference.activations import step
from reference.neuron import _neuron_inputs

__all__ = [
    "GATES",
    "Gate",
    "InfeasibilityCertificate",
    "PerceptronResult",
    "Separability",
    "binary_inputs",
    "is_linearly_separable",
    "perceptron",
    "separability",
    "train_perceptron",
    "xor_infeasibility_certificate",
]


def perceptron(x: Any, w: Any, b: Any) -> FloatArray:
    """A perceptron: o = step(w·x + b), 1 where w·x + b ≥ 0 and 0 elsewhere.

    Shapes: x [N, D] → o [N] (x [D] → a 0-d array); w [D]; b a scalar.
    """
    x, w, b = _neuron_inputs("perceptron", x, w, b)   # the neuron's inputs, checked alike
    return step(x @ w + b)        # o = step(Σ_i w_i x_i + b)


def binary_inputs(n: int) -> FloatArray:
    """All 2ⁿ binary input vectors in counting order (rows 00..0, 00..1, ...): a truth table's rows.

    Shapes: → [2ⁿ, n].
    """
    n = positive_int("binary_inputs", "n", n)
    codes = np.arange(2 ** n)[:, None] >> np.arange(n - 1, -1, -1)    # bit j of row r
    return (codes & 1).astype(np.float64)


class Gate(NamedTuple):
    """A logic gate as a step perceptron: fires where w·x + b ≥ 0."""

    w: tuple[float, ...]
    b: float


GATES: dict[str, Gate] = {
    "AND": Gate(w=(1.0, 1.0), b=-1.5),             # fires when x1 + x2 ≥ 1.5: both on
    "OR": Gate(w=(1.0, 1.0), b=-0.5),              # fires when x1 + x2 ≥ 0.5: any on
    "NOT": Gate(w=(-1.0,), b=0.5),                 # fires when x1 ≤ 0.5: off
    "MAJORITY": Gate(w=(1.0, 1.0, 1.0), b=-1.5),   # fires when x1 + x2 + x3 ≥ 1.5: two of three
}
"""Explicit perceptron weights for the gates the slide names. The thresholds sit half-way between
two integers, so no binary input lands on a threshold."""


# ---------------------------------------------------------------- Rosenblatt's rule
class PerceptronResult(NamedTuple):
    """What train_perceptron returns."""

    w: FloatArray
    b: float
    converged: bool            # an epoch went by without a single mistake
    epochs: int                # epochs run (≤ the limit)
    mistakes: list[int]        # mistakes (= updates) in each epoch


def _labelled(func: str, X: Any, y: Any) -> tuple[FloatArray, FloatArray]:
    X = as_float_array(func, "X", X, ndim=2, finite=True)
    y = as_float_array(func, "y", y, ndim=1)
    if y.shape[0] != X.shape[0]:
        raise fail(func, f"X has {X.shape[0]} examples but y has {y.shape[0]} labels")
    if not np.all((y == 0) | (y == 1)):
        raise fail(func, f"y must hold labels 0 and 1, got {sorted(set(y.tolist()))[:5]}")
    return X, y


def train_perceptron(
    X: Any, y: Any, *, epochs: int, lr: float = 1.0, rng: Any, init_scale: float = 0.01
) -> PerceptronResult:
    """Rosenblatt's learning rule: for each example, w ← w + η (y − ŷ) x and b ← b + η (y − ŷ).

    Weights start as small random values (N(0, init_scale²); 0 gives the textbook zero start).
    Each epoch visits the examples once in a fresh random order; training stops after the first
    epoch without a mistake (``converged``) or after ``epochs`` epochs.

    Shapes: X [N, D], y [N] with labels 0/1 → w [D], b.

    Notes
    -----
    On linearly separable data the rule makes at most (R/γ)² mistakes from a zero start
    (Novikoff, 1962; R = max ‖(x, 1)‖, γ the margin of a unit-norm separator of (x, 1)), so it
    converges. On data that is not separable every epoch makes a mistake (an epoch without one
    would be a separator), so it never settles. The rule is online: one example at a time, so
    the loop over examples is the algorithm, not a missed vectorisation.
    """
    X, y = _labelled("train_perceptron", X, y)
    epochs = positive_int("train_perceptron", "epochs", epochs)
    lr = positive_number("train_perceptron", "lr", lr)
    if not (isinstance(init_scale, (int, float)) and np.isfinite(init_scale) and init_scale >= 0):
        raise fail("train_perceptron", f"init_scale must be a finite number ≥ 0, got "
                                       f"{init_scale!r}")
    gen = rng_from("train_perceptron", rng)
    w = gen.normal(0.0, 1.0, X.shape[1]) * init_scale     # random initial weights
    b = float(gen.normal()) * init_scale
    mistakes: list[int] = []
    for _ in range(epochs):
        wrong = 0
        for n in gen.permutation(X.shape[0]):
            y_hat = 1.0 if X[n] @ w + b >= 0 else 0.0     # ŷ = step(w·x + b)
            if y_hat != y[n]:
                w = w + lr * (y[n] - y_hat) * X[n]        # w ← w + η (y − ŷ) x
                b = b + lr * (y[n] - y_hat)               # b ← b + η (y − ŷ)
                wrong += 1
        mistakes.append(wrong)
        if wrong == 0:
            break
    return PerceptronResult(w=w, b=float(b), converged=mistakes[-1] == 0,
                            epochs=len(mistakes), mistakes=mistakes)


# ---------------------------------------------------------------- exact separability
Matrix = list[list[Fraction]]


def _nonnegative_solution(A: Matrix, rhs: list[Fraction]) -> list[Fraction] | None:
    """A solution u ≥ 0 of A u = rhs in exact arithmetic, or None if there is none.

    Phase 1 of the simplex method: add an artificial variable per row, minimise their sum with
    Bland's rule (smallest index enters and leaves, so no cycling), and read u off the basis.
    """
    m, n = len(A), len(A[0])
    rows = []
    for i in range(m):
        sign = -1 if rhs[i] < 0 else 1                   # make the right-hand side ≥ 0
        rows.append([sign * v for v in A[i]] + [Fraction(int(k == i)) for k in range(m)]
                    + [sign * rhs[i]])
    basis = [n + i for i in range(m)]
    cost = [-sum((r[j] for r in rows), Fraction(0)) for j in range(n)] + [Fraction(0)] * m
    cost.append(-sum((r[-1] for r in rows), Fraction(0)))   # −(sum of artificials)
    while True:
        entering = next((j for j in range(n + m) if cost[j] < 0), None)
        if entering is None:
            break
        candidates = [i for i in range(m) if rows[i][entering] > 0]
        leave = min(candidates, key=lambda i: (rows[i][-1] / rows[i][entering], basis[i]))
        pivot = rows[leave][entering]
        rows[leave] = [v / pivot for v in rows[leave]]
        for r in [*rows[:leave], *rows[leave + 1:], cost]:
            factor = r[entering]
            if factor:
                r[:] = [v - factor * p for v, p in zip(r, rows[leave])]
        basis[leave] = entering
    if cost[-1] != 0:                                     # the artificials cannot all be 0
        return None
    u = [Fraction(0)] * n
    for i, j in enumerate(basis):
        if j < n:
            u[j] = rows[i][-1]
    return u


class Separability(NamedTuple):
    """The exact verdict on a labelled point set, with the certificate that proves it.

    separable: w, b (Fractions) with w·x + b ≥ 1 on positives and ≤ −1 on negatives.
    not separable: multipliers λ_n ≥ 0 (Fractions, one per example, not all zero) with
    Σ_pos λ_n (x_n, 1) = Σ_neg λ_n (x_n, 1).
    """

    separable: bool
    w: tuple[Fraction, ...] | None
    b: Fraction | None
    multipliers: tuple[Fraction, ...] | None


def separability(X: Any, y: Any) -> Separability:
    """Decide exactly whether a perceptron (a hyperplane) separates the 1s of y from the 0s.

    Shapes: X [N, D], y [N] with labels 0/1. Every float is converted to the Fraction it equals,
    so no rounding enters. See the module docstring for the two certificates.
    """
    X, y = _labelled("separability", X, y)
    sign = [1 if t == 1 else -1 for t in y.tolist()]
    # r_n = ±(x_n, 1): separable ⇔ some θ = (w, b) has r_n·θ ≥ 1 for every n
    R = [[s * Fraction(v) for v in [*row, 1.0]] for s, row in zip(sign, X.tolist())]
    k = len(R[0])
    # θ = θ⁺ − θ⁻ (free), slack σ ≥ 0: R θ⁺ − R θ⁻ − σ = 1
    A = [[*r, *(-v for v in r), *(Fraction(-int(i == n)) for i in range(len(R)))]
         for n, r in enumerate(R)]
    u = _nonnegative_solution(A, [Fraction(1)] * len(R))
    if u is not None:
        theta = [u[j] - u[k + j] for j in range(k)]
        return Separability(True, tuple(theta[:-1]), theta[-1], None)
    # Farkas: λ ≥ 0 with Σ λ_n r_n = 0 and Σ λ_n = 1
    dual = [[r[j] for r in R] for j in range(k)] + [[Fraction(1)] * len(R)]
    lam = _nonnegative_solution(dual, [Fraction(0)] * k + [Fraction(1)])
    if lam is None:  # pragma: no cover - Farkas' lemma: exactly one of the two systems is solvable
        raise ArithmeticError("separability: neither a separator nor a certificate was found")
    return Separability(False, None, None, tuple(lam))


def is_linearly_separable(X: Any, y: Any) -> bool:
    """True when some perceptron step(w·x + b) labels every row of X as y does (decided exactly)."""
    return separability(X, y).separable


class InfeasibilityCertificate(NamedTuple):
    """The proof that no perceptron computes XOR.

    Each requirement reads ``coefficients · (w_1, w_2, b)`` ≤ 0 (a positive example, non-strict:
    the coefficients are −(x_1, x_2, 1)) or < 0 (a negative example, strict: (x_1, x_2, 1));
    adding them up with the multipliers gives the zero form on the left, hence 0 < 0.
    """

    points: tuple[tuple[int, int], ...]
    labels: tuple[int, ...]
    coefficients: tuple[tuple[Fraction, ...], ...]
    strict: tuple[bool, ...]
    multipliers: tuple[Fraction, ...]


def xor_infeasibility_certificate() -> InfeasibilityCertificate:
    """The Farkas certificate that XOR is not linearly separable, in exact fractions.

    The four requirements on (w_1, w_2, b) of a perceptron computing XOR are
        (0, 0) ↦ 0:  b < 0            (1, 1) ↦ 0:  w_1 + w_2 + b < 0
        (0, 1) ↦ 1:  w_2 + b ≥ 0      (1, 0) ↦ 1:  w_1 + b ≥ 0
    Written as c·θ < 0 (strict) and −c·θ ≤ 0 (non-strict), and added with multipliers 1, 1, 1, 1,
    the left-hand sides cancel to 0 while the sum of a strict and non-strict inequalities is
    strict: 0 < 0. It is computed by ``separability`` on the XOR table, not written in by hand.
    """
    X = binary_inputs(2)
    y = np.array([0.0, 1.0, 1.0, 0.0])               # XOR of the rows 00, 01, 10, 11
    lam = separability(X, y).multipliers
    if lam is None:  # pragma: no cover - would mean a separator of XOR exists
        raise ArithmeticError("xor_infeasibility_certificate: XOR came out separable")
    scale = 1 / min(v for v in lam if v > 0)         # smallest nonzero multiplier → 1
    points = tuple((int(p[0]), int(p[1])) for p in X)
    labels = tuple(int(t) for t in y)
    # positives: w·x + b ≥ 0 ⇔ −(x, 1)·θ ≤ 0;  negatives: (x, 1)·θ < 0
    coefficients = tuple(
        tuple(Fraction((-1 if t else 1) * v) for v in (*p, 1)) for p, t in zip(points, labels)
    )
    return InfeasibilityCertificate(points, labels, coefficients,
                                    tuple(not t for t in labels),
                                    tuple(v * scale for v in lam))

