"""Spec of reference.perceptron (lecture: "Expressiveness of perceptrons").

    Consider a perceptron with g = step function (Rosenblatt, 1957, 1960). Can represent AND, OR,
    NOT, majority, etc., but not XOR. Represents a linear separator in input space.

Claims: perceptron.gates, perceptron.xor, perceptron.learning.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from conformance.strategies import LabelledPoints, labelled_points, separable_points
from reference import perceptron as P
from reference.activations import step
from reference.fixtures import slide_case
from reference.neuron import neuron
from reference.tolerance import EXACT, assert_close

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])
GATE_FIXTURES = {"AND": "perceptron_gate_and", "OR": "perceptron_gate_or",
                 "NOT": "perceptron_gate_not", "MAJORITY": "perceptron_gate_majority"}


def _truth_table(name: str) -> tuple[np.ndarray, np.ndarray]:
    case = slide_case(GATE_FIXTURES[name])
    return np.array(case["inputs"]["x"]), np.array(case["expected"]["o"])


def _check_certificate(X: np.ndarray, y: np.ndarray, verdict: P.Separability) -> None:
    """Check a verdict of P.separability with nothing but exact rational arithmetic."""
    points = [[Fraction(v) for v in row] for row in X.tolist()]
    if verdict.separable:
        assert verdict.w is not None and verdict.b is not None
        for x, t in zip(points, y):
            s = sum((wi * xi for wi, xi in zip(verdict.w, x)), Fraction(0)) + verdict.b
            assert (s >= 1) if t == 1 else (s <= -1), f"separator fails at {x}: {s}"
    else:
        lam = verdict.multipliers
        assert lam is not None and all(v >= 0 for v in lam) and any(v > 0 for v in lam)
        # Σ_pos λ (x, 1) = Σ_neg λ (x, 1): one point in both convex hulls
        for j in range(X.shape[1] + 1):
            pos = sum((v * ([*x, 1][j]) for v, x, t in zip(lam, points, y) if t == 1),
                      Fraction(0))
            neg = sum((v * ([*x, 1][j]) for v, x, t in zip(lam, points, y) if t == 0),
                      Fraction(0))
            assert pos == neg, f"coordinate {j}: {pos} ≠ {neg}"


# ---------------------------------------------------------------- slides
@pytest.mark.claim("perceptron.gates")
@pytest.mark.slides
@pytest.mark.parametrize("name", sorted(GATE_FIXTURES))
def test_step_perceptron_computes_the_gate_truth_table(name: str) -> None:
    case = slide_case(GATE_FIXTURES[name])
    x, w, b = case["inputs"]["x"], case["params"]["w"], case["params"]["b"]
    # the module's GATES are the hand-checked weights of the fixture
    assert P.GATES[name] == P.Gate(tuple(w), b)
    # its linear part, the weighted sum w·x + b (a neuron with s = identity), by hand; the
    # gate is the step of it
    total = case["expected"]["sum"]
    assert_close(neuron(x, w, b, "identity"), total, EXACT, what=f"{name}: w·x + b")
    assert_close(step(total), case["expected"]["o"], EXACT, what=f"{name}: step(w·x + b)")
    assert_close(P.perceptron(x, w, b), case["expected"]["o"], EXACT, what=f"{name} gate")
    # its truth-table rows are binary_inputs' counting order
    assert_close(P.binary_inputs(len(w)), x, EXACT, what="binary_inputs")


# ---------------------------------------------------------------- sympy
@pytest.mark.claim("perceptron.xor")
@pytest.mark.sympy
def test_xor_certificate_adds_the_four_requirements_up_to_zero_less_than_zero() -> None:
    cert = P.xor_infeasibility_certificate()
    w1, w2, b = sp.symbols("w1 w2 b", real=True)
    theta = (w1, w2, b)
    # the requirements written by hand from the XOR table, as "form ≥ 0" or "form < 0"
    by_hand = {(0, 0): (b, "<"), (0, 1): (w2 + b, ">="), (1, 0): (w1 + b, ">="),
               (1, 1): (w1 + w2 + b, "<")}
    assert cert.points == ((0, 0), (0, 1), (1, 0), (1, 1)) and cert.labels == (0, 1, 1, 0)
    total = sp.Integer(0)
    for point, coeffs, strict, lam in zip(cert.points, cert.coefficients, cert.strict,
                                          cert.multipliers):
        form, relation = by_hand[point]
        lhs = sum(sp.Rational(c.numerator, c.denominator) * t for c, t in zip(coeffs, theta))
        # each row says lhs < 0 (strict) or lhs ≤ 0 and is the hand requirement rearranged
        assert strict == (relation == "<")
        assert sp.expand(lhs - (form if strict else -form)) == 0
        assert lam >= 0
        total += sp.Rational(lam.numerator, lam.denominator) * lhs
    # Σ λ_k lhs_k is identically 0, yet it is < 0 because a strict row has λ > 0: 0 < 0
    assert sp.expand(total) == 0
    assert any(lam > 0 and strict for lam, strict in zip(cert.multipliers, cert.strict))
    # (SymPy's own LP solver, sympy.solvers.simplex, is no oracle here: SymPy 1.14's phase 1 can
    # loop or accept infeasible systems, sympy/sympy#28089.)


def _fourier_motzkin_feasible(rows: list[tuple[list[Fraction], Fraction]]) -> bool:
    """An independent exact oracle: is {θ : a·θ ≥ c for every (a, c) in rows} non-empty?

    Fourier-Motzkin elimination, one variable at a time: every pair of a row bounding θ_j from
    below and one bounding it from above is added up (scaled) into a row without θ_j. What is
    left when no variable remains reads 0 ≥ c, feasible exactly when every such c ≤ 0.
    """
    for j in range(len(rows[0][0]) if rows else 0):
        keep = [(a, c) for a, c in rows if a[j] == 0]
        lower = [(a, c) for a, c in rows if a[j] > 0]
        upper = [(a, c) for a, c in rows if a[j] < 0]
        for ap, cp in lower:
            for an, cn in upper:
                sp_, sn = 1 / ap[j], -1 / an[j]
                keep.append(([sp_ * u + sn * v for u, v in zip(ap, an)], sp_ * cp + sn * cn))
        rows = list({(tuple(a), c): (a, c) for a, c in keep}.values())   # drop repeats
    return all(c <= 0 for _, c in rows)


# ---------------------------------------------------------------- properties
@pytest.mark.claim("perceptron.learning")
@pytest.mark.property
@given(separable_points())
def test_rosenblatt_rule_converges_within_novikoffs_mistake_bound(case: LabelledPoints) -> None:
    assert case.separator is not None
    w_star, b_star = case.separator
    aug = np.hstack([case.X, np.ones((len(case.y), 1))])
    R2 = float(np.max(np.sum(aug ** 2, axis=1)))
    gamma = float(np.min(np.abs(case.X @ w_star + b_star))) / np.sqrt(w_star @ w_star
                                                                     + b_star ** 2)
    bound = R2 / gamma ** 2                              # (R/γ)², from a zero start
    result = P.train_perceptron(case.X, case.y, epochs=int(bound) + 2, rng=0, init_scale=0.0)
    assert result.converged, f"no convergence in {result.epochs} epochs"
    assert sum(result.mistakes) <= bound, f"{sum(result.mistakes)} mistakes > bound {bound}"
    assert np.array_equal(P.perceptron(case.X, result.w, result.b), case.y)
    # it stops after the first epoch without a mistake: that epoch is the last one run
    assert 0 not in result.mistakes[:-1] and result.epochs == len(result.mistakes), result


@pytest.mark.claim("perceptron.learning")
@pytest.mark.property
@given(labelled_points())
def test_training_settles_exactly_when_the_data_are_separable(case: LabelledPoints) -> None:
    separable = P.is_linearly_separable(case.X, case.y)
    result = P.train_perceptron(case.X, case.y, epochs=300, rng=1)
    if result.converged:
        # an epoch without a mistake: the weights are a separator, so one exists
        assert separable
        assert np.array_equal(P.perceptron(case.X, result.w, result.b), case.y)
    if not separable:
        # every epoch makes at least one mistake: the rule never settles
        assert not result.converged and result.epochs == 300 and min(result.mistakes) >= 1


@pytest.mark.claim("perceptron.xor")
@pytest.mark.property
@given(labelled_points(max_n=6, max_d=2))
def test_exact_separability_agrees_with_fourier_motzkin_and_proves_itself(
        case: LabelledPoints) -> None:
    # separable ⇔ some θ = (w, b) has ±(x_n, 1)·θ ≥ 1 for every n (+ for label 1, − for 0)
    rows = [([Fraction((1 if t == 1 else -1) * v) for v in (*x, 1.0)], Fraction(1))
            for x, t in zip(case.X.tolist(), case.y)]
    verdict = P.separability(case.X, case.y)
    assert verdict.separable == _fourier_motzkin_feasible(rows)
    assert P.is_linearly_separable(case.X, case.y) == verdict.separable
    _check_certificate(case.X, case.y, verdict)


@pytest.mark.claim("perceptron.learning")
@pytest.mark.property
@given(labelled_points(), st.sampled_from([k for k in range(-6, 7) if k]),
       st.integers(0, 2 ** 32 - 1))
def test_rosenblatt_rule_from_zero_scales_with_the_learning_rate(case: LabelledPoints, k: int,
                                                                 seed: int) -> None:
    # from w = 0, b = 0 every update adds ±η (x, 1), so (w, b) stays η times the run with η = 1
    # and every decision sign(w·x + b) is the same; η = 2^k keeps the arithmetic on the integer
    # grid exact, so the comparison is exact
    eta = 2.0 ** k
    one = P.train_perceptron(case.X, case.y, epochs=20, lr=1.0, rng=seed, init_scale=0.0)
    scaled = P.train_perceptron(case.X, case.y, epochs=20, lr=eta, rng=seed, init_scale=0.0)
    assert scaled.mistakes == one.mistakes, (scaled.mistakes, one.mistakes)
    assert np.array_equal(scaled.w, eta * one.w), (scaled.w, eta * one.w)
    assert scaled.b == eta * one.b, (scaled.b, eta * one.b)


# ---------------------------------------------------------------- behaviour
@pytest.mark.claim("perceptron.gates", "perceptron.learning")
@pytest.mark.behaviour
@pytest.mark.parametrize("name", sorted(GATE_FIXTURES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rosenblatt_rule_learns_each_gate_from_its_truth_table(name: str, seed: int) -> None:
    """Seeds 0-2, η = 1, at most 100 epochs: converged, and the truth table is reproduced."""
    X, y = _truth_table(name)
    result = P.train_perceptron(X, y, epochs=100, lr=1.0, rng=seed)
    assert result.converged and result.epochs <= 100, result.mistakes
    assert np.array_equal(P.perceptron(X, result.w, result.b), y)


@pytest.mark.claim("perceptron.xor", "perceptron.learning")
@pytest.mark.behaviour
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rosenblatt_rule_never_settles_on_xor(seed: int) -> None:
    """Seeds 0-2, 500 epochs: never converged, every epoch makes a mistake, and the final weights
    get at least one of the four XOR rows wrong (as the certificate says any weights must)."""
    result = P.train_perceptron(XOR_X, XOR_Y, epochs=500, rng=seed)
    assert not result.converged and result.epochs == 500
    assert min(result.mistakes) >= 1
    assert not np.array_equal(P.perceptron(XOR_X, result.w, result.b), XOR_Y)
    assert not P.is_linearly_separable(XOR_X, XOR_Y)


@pytest.mark.claim("perceptron.learning")
@pytest.mark.behaviour
def test_rosenblatt_rule_separates_a_random_separable_cloud() -> None:
    """200 points in 2-D, labelled by a line with margin ≥ 0.1 around it, seed 3: the rule
    converges within 200 epochs and separates every point."""
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (600, 2))
    s = X @ np.array([0.8, -0.6]) + 0.1
    keep = np.abs(s) >= 0.1
    X, y = X[keep][:200], (s[keep][:200] > 0).astype(float)
    result = P.train_perceptron(X, y, epochs=200, rng=3)
    assert result.converged, f"{result.epochs} epochs, mistakes {result.mistakes[-5:]}"
    assert np.array_equal(P.perceptron(X, result.w, result.b), y)


@pytest.mark.claim("perceptron.learning")
@pytest.mark.behaviour
def test_each_seed_visits_the_examples_in_its_own_random_order() -> None:
    """30 points of a separable 2-D cloud (seed 4), zero start, 50 epochs: the rule converges for
    seeds 0-5 (Novikoff), the same seed repeats the run exactly, and the six seeds end on at least
    three different (w, b, mistakes): from a zero start only the visiting order depends on the
    seed, so a fixed order would make all six runs identical."""
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, (120, 2))
    s = X @ np.array([0.8, -0.6]) + 0.1
    keep = np.abs(s) >= 0.1
    X, y = X[keep][:30], (s[keep][:30] > 0).astype(float)
    assert 5 <= y.sum() <= 25, "both classes must be well represented"
    runs = [P.train_perceptron(X, y, epochs=50, rng=seed, init_scale=0.0) for seed in range(6)]
    assert all(r.converged for r in runs), [r.mistakes for r in runs]
    again = P.train_perceptron(X, y, epochs=50, rng=2, init_scale=0.0)
    assert np.array_equal(again.w, runs[2].w) and again.b == runs[2].b
    assert again.mistakes == runs[2].mistakes
    outcomes = {(tuple(r.w.tolist()), r.b, tuple(r.mistakes)) for r in runs}
    assert len(outcomes) >= 3, f"only {len(outcomes)} different runs from six seeds"


# ---------------------------------------------------------------- bad input
@pytest.mark.claim("perceptron.gates", "convention.errors")
@pytest.mark.errors
def test_perceptron_refuses_bad_shapes_and_values() -> None:
    with pytest.raises(ValueError, match=r"^perceptron: x has 2 inputs but w has 3 weights"):
        P.perceptron(np.ones((4, 2)), np.ones(3), 0.0)
    with pytest.raises(ValueError, match=r"^perceptron: w must be finite"):
        P.perceptron(np.ones((4, 2)), [np.inf, 1.0], 0.0)
    with pytest.raises(ValueError, match=r"^perceptron: b must be 0-D"):
        P.perceptron(np.ones((4, 2)), np.ones(2), [0.0])
    with pytest.raises(TypeError, match=r"^perceptron: x must be a real array"):
        P.perceptron("0110", np.ones(2), 0.0)
    with pytest.raises(ValueError, match=r"^binary_inputs: n must be at least 1, got 0"):
        P.binary_inputs(0)


@pytest.mark.claim("perceptron.learning", "convention.errors")
@pytest.mark.errors
@pytest.mark.parametrize(("kwargs", "kind", "words"), [
    ({"y": [0, 1, 2, 0]}, ValueError, r"y must hold labels 0 and 1, got \[0.0, 1.0, 2.0\]"),
    ({"y": [0, 1, 1]}, ValueError, r"X has 4 examples but y has 3 labels"),
    ({"X": np.ones(4)}, ValueError, r"X must be 2-D, got 1-D"),
    ({"X": np.full((4, 2), np.nan)}, ValueError, r"X must be finite"),
    ({"epochs": 0}, ValueError, r"epochs must be at least 1, got 0"),
    ({"epochs": 2.5}, TypeError, r"epochs must be an integer"),
    ({"lr": 0.0}, ValueError, r"lr must be a finite number > 0, got 0.0"),
    ({"init_scale": -1.0}, ValueError, r"init_scale must be a finite number ≥ 0, got -1.0"),
    ({"rng": "seed"}, TypeError, r"rng must be a numpy.random.Generator or an int seed"),
])
def test_train_perceptron_refuses_bad_data_and_settings(kwargs: dict[str, Any], kind: type,
                                                        words: str) -> None:
    args: dict[str, Any] = {"X": XOR_X, "y": XOR_Y, "epochs": 5, "lr": 1.0, "rng": 0} | kwargs
    with pytest.raises(kind, match=rf"^train_perceptron: {words}"):
        P.train_perceptron(**args)


@pytest.mark.claim("perceptron.xor", "convention.errors")
@pytest.mark.errors
def test_separability_wants_binary_labels_one_per_point() -> None:
    with pytest.raises(ValueError, match=r"^separability: y must hold labels 0 and 1"):
        P.separability(XOR_X, [0.0, 0.5, 1.0, 0.0])
    with pytest.raises(ValueError, match=r"^separability: X has 4 examples but y has 2 labels"):
        P.is_linearly_separable(XOR_X, [0.0, 1.0])
    with pytest.raises(ValueError, match=r"^separability: X must be finite"):
        P.is_linearly_separable([[np.inf, 0.0]], [1.0])
