"""Spec of reference.losses (lecture: "How to learn the weights", "Objective for a single window",
"Punchline"): squared error, binary cross-entropy with a sigmoid, softmax cross-entropy and the
max-margin objective, each with its gradient.

Claims: window.margin, gd.loop (the loss and its gradient), backprop.punchline (the (ŷ − y) of
binary cross-entropy); conventions stable, ce-mean, margin-delta, errors, no-mutation, float64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from conformance.strategies import (
    ClassificationCase,
    arrays,
    classification_cases,
    shapes,
    wide_floats,
)
from reference import losses as L
from reference.activations import sigmoid
from reference.fixtures import slide_case
from reference.gradcheck import check_gradients
from reference.tolerance import EXACT, assert_close, tolerance
from spec_tests.helpers.oracles import assert_matches_torch
from spec_tests.helpers.symbolic import derive, elementwise, sigma, symbols

F64 = tolerance(np.float64)


# ---------------------------------------------------------------- slides
@pytest.mark.claim("window.margin", "convention.margin-delta")
@pytest.mark.slides
def test_margin_objective_is_zero_once_the_true_window_wins_by_delta_by_hand() -> None:
    case = slide_case("window_margin_cases")
    s, s_c, exp = case["inputs"]["s"], case["inputs"]["s_c"], case["expected"]
    assert case["params"]["delta"] == 1
    # "J = max(1 + s_c − s, 0)": Δ = 1 is the default
    assert_close(L.max_margin(s, s_c), exp["J"], EXACT, what="J = max(0, 1 + s_c − s)")
    ds, ds_c = L.max_margin_backward(s, s_c)
    assert_close(ds, exp["dJ_ds"], EXACT, what="∂J/∂s")
    assert_close(ds_c, exp["dJ_ds_c"], EXACT, what="∂J/∂s_c")
    # "J = max(s_c − s, 0) ... does not attempt to create a margin of safety"
    assert_close(L.max_margin(s, s_c, delta=0.0), exp["J_no_margin"], EXACT, what="no margin")
    ds, ds_c = L.max_margin_backward(s, s_c, delta=0.0)
    assert_close(ds, exp["dJ_ds_no_margin"], EXACT, what="∂J/∂s without a margin")
    assert_close(ds_c, exp["dJ_ds_c_no_margin"], EXACT, what="∂J/∂s_c without a margin")


# ---------------------------------------------------------------- sympy
TARGETS = np.array([2, 0])


def _softmax_cross_entropy() -> tuple[sp.Expr, dict[str, np.ndarray]]:
    z = symbols("z", (2, 3))
    # J = −(1/N) Σ_n log softmax(z_n)[t_n], written from the definition (no max shift)
    J = -sum(z[n, t] - sp.log(sum(sp.exp(z[n, c]) for c in range(3)))
             for n, t in enumerate(TARGETS)) / 2
    return J, {"z": z}


def _binary_cross_entropy() -> tuple[sp.Expr, dict[str, np.ndarray]]:
    z, y = symbols("z", (2, 2)), symbols("y", (2, 2))
    p = elementwise(sigma, z)
    J = -sum(y[i] * sp.log(p[i]) + (1 - y[i]) * sp.log(1 - p[i]) for i in np.ndindex(2, 2)) / 4
    return J, {"z": z, "y": y}


def _squared_error() -> tuple[sp.Expr, dict[str, np.ndarray]]:
    y_hat, y = symbols("y_hat", (3, 2)), symbols("y", (3, 2))
    return sum((y_hat[i] - y[i]) ** 2 for i in np.ndindex(3, 2)) / (2 * 3), {"y_hat": y_hat,
                                                                              "y": y}


def _margin() -> tuple[sp.Expr, dict[str, np.ndarray]]:
    s, s_c = symbols("s", 1), symbols("s_c", 1)
    return sp.Max(0, 1 + s_c[0] - s[0]), {"s": s, "s_c": s_c}


@pytest.mark.claim("convention.ce-mean", "convention.stable")
@pytest.mark.sympy
def test_softmax_cross_entropy_and_its_gradient_match_sympy() -> None:
    derived = derive(_softmax_cross_entropy)
    z_sym = symbols("z", 3)
    soft = sp.lambdify(list(z_sym), [sp.exp(v) / sum(sp.exp(u) for u in z_sym) for v in z_sym])
    rng = np.random.default_rng(30)
    for _ in range(4):
        z = rng.normal(0, 3, (2, 3))
        J, grads = derived(z=z)
        assert_close(L.cross_entropy(z, TARGETS), J, tolerance(terms=3), what="J")
        assert_close(L.cross_entropy_backward(z, TARGETS), grads["z"],
                     tolerance(terms=3, gradient=True), what="∂J/∂z = (softmax − onehot)/N")
        for row in z:
            assert_close(L.softmax(row), soft(*row), tolerance(terms=3), what="softmax")
            assert_close(L.log_softmax(row), np.log(soft(*row)), tolerance(terms=3),
                         what="log softmax")


@pytest.mark.claim("backprop.punchline", "gd.loop")
@pytest.mark.sympy
def test_binary_cross_entropy_and_squared_error_gradients_match_sympy() -> None:
    bce, se = derive(_binary_cross_entropy), derive(_squared_error)
    rng = np.random.default_rng(31)
    tol, gtol = tolerance(terms=4), tolerance(terms=4, gradient=True)
    for _ in range(4):
        z, y = rng.normal(0, 3, (2, 2)), rng.uniform(size=(2, 2))
        J, grads = bce(z=z, y=y)
        assert_close(L.binary_cross_entropy_with_logits(z, y), J, tol, what="BCE")
        assert_close(L.binary_cross_entropy_with_logits_backward(z, y), grads["z"], gtol,
                     what="∂BCE/∂z = (σ(z) − y)/n")
        y_hat, y = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
        J, grads = se(y_hat=y_hat, y=y)
        assert_close(L.squared_error(y_hat, y), J, tol, what="½ mean ‖ŷ − y‖²")
        assert_close(L.squared_error_backward(y_hat, y), grads["y_hat"], gtol,
                     what="∂J/∂ŷ = (ŷ − y)/N")


@pytest.mark.claim("window.margin")
@pytest.mark.sympy
def test_max_margin_and_its_gradient_match_sympy_on_both_sides_of_the_kink() -> None:
    derived = derive(_margin)
    for s, s_c in [(4.0, 2.0), (4.0, 3.5), (2.0, 3.0), (-1.5, -1.0), (0.25, -2.0)]:
        J, grads = derived(s=[s], s_c=[s_c])
        assert float(L.max_margin(s, s_c)) == J
        ds, ds_c = L.max_margin_backward(s, s_c)
        assert (float(ds), float(ds_c)) == (grads["s"][0], grads["s_c"][0]), (s, s_c)


# ---------------------------------------------------------------- torch
@pytest.mark.claim("convention.ce-mean")
@pytest.mark.torch
@pytest.mark.parametrize(("n", "c"), [(1, 1), (1, 4), (6, 5)])
def test_cross_entropy_is_torchs_default_mean_reduction(n: int, c: int) -> None:
    rng = np.random.default_rng(32)
    z, t = rng.normal(0, 3, (n, c)), rng.integers(0, c, n)
    g = rng.normal()
    assert_matches_torch(lambda z, t: F.cross_entropy(z, t) * g, {"z": z, "t": t},
                         g * L.cross_entropy(z, t), {"z": L.cross_entropy_backward(z, t, g)},
                         terms=c, what="cross_entropy")


@pytest.mark.claim("backprop.punchline", "gd.loop")
@pytest.mark.torch
def test_binary_cross_entropy_and_squared_error_match_torch() -> None:
    rng = np.random.default_rng(33)
    z, y = rng.normal(0, 4, (5, 3)), rng.uniform(size=(5, 3))
    assert_matches_torch(lambda z, y: F.binary_cross_entropy_with_logits(z, y), {"z": z, "y": y},
                         L.binary_cross_entropy_with_logits(z, y),
                         {"z": L.binary_cross_entropy_with_logits_backward(z, y)}, terms=15,
                         what="binary cross-entropy")
    y_hat, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    # J = 1/(2N) Σ ‖ŷ_n − y_n‖² is torch's summed MSE over 2N
    dy_hat = L.squared_error_backward(y_hat, y)     # ∂J/∂ŷ = (ŷ − y)/N, and ∂J/∂y = −∂J/∂ŷ
    assert_matches_torch(lambda y_hat, y: F.mse_loss(y_hat, y, reduction="sum") / (2 * 5),
                         {"y_hat": y_hat, "y": y}, L.squared_error(y_hat, y),
                         {"y_hat": dy_hat, "y": -dy_hat}, terms=15, what="squared error")


@pytest.mark.claim("convention.stable")
@pytest.mark.torch
@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_and_log_softmax_match_torch_even_for_huge_logits(axis: int) -> None:
    rng = np.random.default_rng(34)
    z = rng.normal(0, 3, (4, 5))
    z[0, 0], z[1, 2], z[2, 4] = 1e4, -1e4, 1e300
    for ours, theirs in ((L.softmax, F.softmax), (L.log_softmax, F.log_softmax)):
        assert_matches_torch(lambda z, f=theirs: f(z, dim=axis), {"z": z}, ours(z, axis=axis),
                             terms=5, what=f"{ours.__name__}(axis={axis})")


@pytest.mark.claim("window.margin")
@pytest.mark.torch
def test_max_margin_and_its_gradient_match_torch_relu() -> None:
    rng = np.random.default_rng(35)
    s, s_c, up = rng.normal(size=9), rng.normal(size=9), rng.normal(size=9)
    for delta in (1.0, 0.0, 2.5):
        ds, ds_c = L.max_margin_backward(s, s_c, delta, up)
        assert_matches_torch(lambda s, s_c, d=delta: F.relu(d + s_c - s), {"s": s, "s_c": s_c},
                             L.max_margin(s, s_c, delta), {"s": ds, "s_c": ds_c}, up,
                             what=f"max_margin(Δ = {delta})")


# ---------------------------------------------------------------- properties
_dyadic = st.integers(-400, 400).map(lambda k: k / 8)   # sums of these are exact in float64


@pytest.mark.claim("window.margin", "convention.margin-delta")
@pytest.mark.property
@given(st.lists(st.tuples(_dyadic, _dyadic), min_size=1, max_size=6),
       st.integers(0, 40).map(lambda k: k / 8))
def test_margin_objective_is_zero_exactly_when_s_beats_s_c_by_delta(
        pairs: list[tuple[float, float]], delta: float) -> None:
    s, s_c = np.array(pairs).T
    J = L.max_margin(s, s_c, delta)
    wins = s - s_c >= delta
    assert np.array_equal(J == 0, wins), f"J = {J} but s − s_c ≥ Δ is {wins}"
    assert np.array_equal(J[~wins], (delta + s_c - s)[~wins])
    ds, ds_c = L.max_margin_backward(s, s_c, delta)
    assert np.array_equal(ds, np.where(wins, 0.0, -1.0))
    assert np.array_equal(ds_c, np.where(wins, 0.0, 1.0))
    assert np.array_equal(L.max_margin(s, s_c), L.max_margin(s, s_c, 1.0))   # Δ = 1 by default


@pytest.mark.claim("convention.stable")
@pytest.mark.property
@given(classification_cases(elements=wide_floats()))
def test_softmax_cross_entropy_is_finite_for_any_finite_logits(case: ClassificationCase) -> None:
    # RuntimeWarnings are errors in this suite: an overflow anywhere fails here
    z, t = case.logits, case.targets
    p, logp = L.softmax(z), L.log_softmax(z)
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(logp)) and np.all(logp <= 0)
    assert_close(p.sum(axis=1), np.ones(len(z)), tolerance(terms=z.shape[1]), what="Σ softmax")
    J = L.cross_entropy(z, t)
    assert np.isfinite(J) and J >= 0
    assert np.all(np.isfinite(L.cross_entropy_backward(z, t)))
    y = (z > 0).astype(float)
    assert np.isfinite(L.binary_cross_entropy_with_logits(z, 1 - y))
    assert np.all(np.isfinite(L.binary_cross_entropy_with_logits_backward(z, y)))


@pytest.mark.claim("convention.stable")
@pytest.mark.property
@given(st.floats(1e3, 1e300))
def test_losses_at_huge_logits_give_the_exact_limits(big: float) -> None:
    # beyond |z| ≈ 745, e^−|z| is 0 in float64: the exact limits, with no overflow warning
    assert list(L.softmax([big, 0.0])) == [1.0, 0.0]
    assert list(L.log_softmax([big, 0.0, -big])) == [0.0, -big, -2 * big]
    assert L.cross_entropy([[big, -big]], [0]) == 0.0
    assert L.cross_entropy([[big, -big]], [1]) == 2 * big
    assert L.binary_cross_entropy_with_logits([big, -big], [1.0, 0.0]) == 0.0
    assert L.binary_cross_entropy_with_logits([big, -big], [0.0, 1.0]) == big
    assert list(L.binary_cross_entropy_with_logits_backward([big, -big], [0.0, 0.0])) == [0.5, 0]


@pytest.mark.claim("convention.ce-mean")
@pytest.mark.property
@given(classification_cases())
def test_cross_entropy_is_the_mean_over_the_batch(case: ClassificationCase) -> None:
    z, t = case.logits, case.targets
    rows = [L.cross_entropy(z[n:n + 1], t[n:n + 1]) for n in range(len(z))]
    tol = tolerance(terms=z.shape[1] * len(z))
    assert_close(L.cross_entropy(z, t), np.mean(rows), tol, what="J = mean of per-row J")
    # the mean, not the sum: the batch twice over has the same loss and half the gradient
    zz, tt = np.concatenate([z, z]), np.concatenate([t, t])
    assert_close(L.cross_entropy(zz, tt), L.cross_entropy(z, t), tol, what="J of z twice")
    assert_close(L.cross_entropy_backward(zz, tt)[: len(z)], L.cross_entropy_backward(z, t) / 2,
                 tol, what="∂J/∂z of z twice")
    # each row of the gradient sums to 0 (softmax − onehot), and a shift per row changes nothing
    assert_close(L.cross_entropy_backward(z, t).sum(axis=1), np.zeros(len(z)), tol, what="Σ_c")
    assert_close(L.softmax(z + 7.0), L.softmax(z), tol, what="softmax(z + c)")


@pytest.mark.claim("gd.loop", "backprop.punchline", "convention.ce-mean")
@pytest.mark.property
@given(shapes(max_dims=2, max_side=4), st.data())
def test_loss_gradients_match_finite_differences(shape: tuple[int, ...],
                                                 data: st.DataObject) -> None:
    a = data.draw(arrays(shape, bound=4.0), label="prediction or logits")
    b = data.draw(arrays(shape, bound=4.0), label="target")
    y = sigmoid(b)   # soft targets in (0, 1)
    check_gradients(L.squared_error, {"y_hat": a, "y": b}, 1.0,
                    {"y_hat": L.squared_error_backward(a, b)})
    check_gradients(L.binary_cross_entropy_with_logits, {"z": a, "y": y}, 1.0,
                    {"z": L.binary_cross_entropy_with_logits_backward(a, y)})
    z2 = a.reshape(a.shape[0], -1)
    t = data.draw(st.lists(st.integers(0, z2.shape[1] - 1), min_size=len(z2),
                           max_size=len(z2)), label="targets")
    check_gradients(lambda logits: L.cross_entropy(logits, t), {"logits": z2}, 1.0,
                    {"logits": L.cross_entropy_backward(z2, t)})


@pytest.mark.claim("backprop.punchline", "convention.punchline-loss")
@pytest.mark.property
@given(arrays(shapes(max_dims=2)), st.data())
def test_binary_cross_entropy_gradient_is_y_hat_minus_y_over_n(z: np.ndarray,
                                                               data: st.DataObject) -> None:
    y = data.draw(arrays(z.shape, elements=st.floats(0, 1)), label="y")
    assume(z.size > 0)
    expected = (sigmoid(z) - y) / z.size                 # (ŷ − y)/n: the punchline's factor
    assert_close(L.binary_cross_entropy_with_logits_backward(z, y), expected, F64,
                 what="∂BCE/∂z")


@pytest.mark.claim("convention.float64", "convention.no-mutation")
@pytest.mark.property
@given(st.sampled_from([np.int32, np.int64, np.float32]))
def test_losses_compute_in_float64_and_leave_their_inputs_alone(dtype: type) -> None:
    a = np.array([[1, -2, 0], [3, 0, 1]], dtype=dtype)
    b = np.array([[0, 1, 1], [1, 0, 0]], dtype=dtype)
    t = np.array([2, 0])
    before = (a.copy(), b.copy(), t.copy())
    outs = [L.squared_error_backward(a, b), L.binary_cross_entropy_with_logits_backward(a, b),
            L.softmax(a), L.log_softmax(a), L.cross_entropy_backward(a, t),
            L.max_margin(a, b), *L.max_margin_backward(a, b)]
    assert all(o.dtype == np.float64 for o in outs)
    assert isinstance(L.cross_entropy(a, t), float) and isinstance(L.squared_error(a, b), float)
    assert all(np.array_equal(x, y) and x.dtype == y.dtype for x, y in zip((a, b, t), before))


# ---------------------------------------------------------------- bad input
_z, _t = np.zeros((3, 4)), np.array([0, 1, 3])
BAD_CALLS = [
    (lambda: L.squared_error(np.zeros(3), np.zeros(4)), ValueError,
     r"^squared_error: y_hat and y must have the same shape, got \(3,\) and \(4,\)"),
    (lambda: L.squared_error_backward("a", np.zeros(4)), TypeError,
     r"^squared_error_backward: y_hat must be a real array"),
    (lambda: L.binary_cross_entropy_with_logits(np.zeros((2, 2)), np.zeros(2)), ValueError,
     r"^binary_cross_entropy_with_logits: z and y must have the same shape"),
    (lambda: L.binary_cross_entropy_with_logits_backward(np.zeros(2), [True, False]), TypeError,
     r"^binary_cross_entropy_with_logits_backward: y must hold real numbers"),
    (lambda: L.softmax(np.zeros(3), axis=1), ValueError,
     r"^softmax: axis 1 is out of range for z of shape \(3,\)"),
    (lambda: L.softmax(np.zeros(3), axis=0.5), TypeError, r"^softmax: axis must be an int"),
    (lambda: L.log_softmax(np.zeros((2, 0))), ValueError,
     r"^log_softmax: z must have at least one class along axis -1"),
    (lambda: L.cross_entropy(np.zeros(4), [0]), ValueError,
     r"^cross_entropy: logits must be 2-D, got 1-D"),
    (lambda: L.cross_entropy(_z, [0, 1]), ValueError,
     r"^cross_entropy: targets has 2 entries but logits has 3 rows"),
    (lambda: L.cross_entropy(_z, [0, 1, 4]), ValueError,
     r"^cross_entropy: targets holds id 4, outside \[0, 4\)"),
    (lambda: L.cross_entropy(_z, [0.0, 1.0, 2.0]), TypeError,
     r"^cross_entropy: targets must hold integer ids"),
    (lambda: L.cross_entropy(np.zeros((3, 0)), _t), ValueError,
     r"^cross_entropy: logits must have at least one class"),
    (lambda: L.cross_entropy(np.zeros((0, 2)), np.zeros(0, dtype=int)), ValueError,
     r"^cross_entropy: logits must hold at least one row"),
    (lambda: L.cross_entropy_backward(_z, _t[:, None]), ValueError,
     r"^cross_entropy_backward: targets must be 1-D"),
    (lambda: L.max_margin(np.zeros(2), np.zeros(3)), ValueError,
     r"^max_margin: s and s_c must have the same shape"),
    (lambda: L.max_margin(0.0, 1.0, delta=np.nan), ValueError,
     r"^max_margin: delta must be a finite margin ≥ 0, got nan"),
    (lambda: L.max_margin(0.0, 1.0, delta=True), TypeError,
     r"^max_margin: delta must be a real number, got bool"),
    (lambda: L.max_margin_backward(np.zeros(2), np.zeros(2), grad=np.ones(3)), ValueError,
     r"^max_margin_backward: grad must be a scalar or have J's shape \(2,\), got shape \(3,\)"),
    # the upstream gradient of a scalar loss is a real, finite scalar, named by the function
    (lambda: L.squared_error_backward(np.zeros(2), np.zeros(2), grad="a"), TypeError,
     r"^squared_error_backward: grad must be a real array, got str 'a'"),
    (lambda: L.squared_error_backward(np.zeros(2), np.zeros(2), grad=np.ones(2)), ValueError,
     r"^squared_error_backward: grad must be a scalar \(the loss is a scalar\), got shape "
     r"\(2,\)"),
    (lambda: L.binary_cross_entropy_with_logits_backward(np.zeros(2), np.zeros(2), grad=np.inf),
     ValueError, r"^binary_cross_entropy_with_logits_backward: grad must be finite, got inf"),
    (lambda: L.binary_cross_entropy_with_logits_backward(np.zeros(2), np.zeros(2), grad=1j),
     TypeError, r"^binary_cross_entropy_with_logits_backward: grad must hold real numbers"),
    (lambda: L.cross_entropy_backward(_z, _t, grad=np.ones(5)), ValueError,
     r"^cross_entropy_backward: grad must be a scalar \(the loss is a scalar\), got shape "
     r"\(5,\)"),
    (lambda: L.cross_entropy_backward(_z, _t, grad=np.nan), ValueError,
     r"^cross_entropy_backward: grad must be finite, got nan"),
    (lambda: L.cross_entropy_backward(_z, _t, grad=None), TypeError,
     r"^cross_entropy_backward: grad must be a real array, got NoneType"),
    (lambda: L.max_margin_backward(np.zeros(2), np.zeros(2), grad=[1.0, np.nan]), ValueError,
     r"^max_margin_backward: grad must be finite, got nan at index \(1,\)"),
    (lambda: L.max_margin_backward(np.zeros(2), np.zeros(2), grad="1"), TypeError,
     r"^max_margin_backward: grad must be a real array"),
    # max_margin_backward checks its own arguments under its own name
    (lambda: L.max_margin_backward(np.zeros(2), np.zeros(3)), ValueError,
     r"^max_margin_backward: s and s_c must have the same shape"),
    (lambda: L.max_margin_backward(0.0, 1.0, delta=-1.0), ValueError,
     r"^max_margin_backward: delta must be a finite margin ≥ 0, got -1.0"),
    (lambda: L.max_margin_backward(0.0, 1.0, delta="1"), TypeError,
     r"^max_margin_backward: delta must be a real number, got str"),
    (lambda: L.max_margin_backward("s", 1.0), TypeError,
     r"^max_margin_backward: s must be a real array"),
]


@pytest.mark.claim("convention.errors", "window.margin", "convention.ce-mean")
@pytest.mark.errors
@pytest.mark.parametrize(("call", "kind", "words"), BAD_CALLS)
def test_losses_refuse_bad_input_by_name(call: Callable[[], Any], kind: type,
                                         words: str) -> None:
    with pytest.raises(kind, match=words):
        call()


# ---------------------------------------------------------------- the declarable variants
@pytest.mark.claim("convention.declared-variants", "convention.ce-mean")
@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_mean_and_sum_match_torchs_reductions(reduction: str) -> None:
    rng = np.random.default_rng(41)
    z, t = rng.normal(0, 3, (6, 4)), rng.integers(0, 4, 6)
    g = rng.normal()
    assert_matches_torch(lambda z, t: F.cross_entropy(z, t, reduction=reduction) * g,
                         {"z": z, "t": t}, g * L.cross_entropy(z, t, reduction),
                         {"z": L.cross_entropy_backward(z, t, g, reduction)}, terms=4,
                         what=f"cross_entropy, reduction={reduction}")
    # the sum is N times the mean, and so is its gradient
    assert_close(L.cross_entropy(z, t, "sum"), 6 * L.cross_entropy(z, t), tolerance(terms=6))
    with pytest.raises(ValueError, match=r"cross_entropy: reduction must be one of 'mean', "
                                         r"'sum', got str 'max'"):
        L.cross_entropy(z, t, "max")


@pytest.mark.claim("convention.declared-variants", "window.margin")
@pytest.mark.torch
def test_max_margin_kink_slopes_zero_one_half_as_torch_relu_clamp_and_maximum() -> None:
    """At the kink Δ + s_c − s = 0 (windows 0 and 2 here) the slope is 0 (spec: torch.relu), 1
    (torch.clamp(·, min=0)) or ½ (torch.maximum(·, 0) splits a tie); elsewhere all agree."""
    s, s_c = np.array([1.5, 0.0, 2.25, 3.0]), np.array([0.5, 0.25, 1.25, 0.0])  # u: 0, 1.25, 0, −2
    for at_kink, margin in ((0.0, torch.relu), (1.0, lambda u: torch.clamp(u, min=0.0)),
                            (0.5, lambda u: torch.maximum(u, torch.zeros_like(u)))):
        ts = torch.tensor(s, requires_grad=True)
        tc = torch.tensor(s_c, requires_grad=True)
        margin(1.0 + tc - ts).sum().backward()
        ds, ds_c = L.max_margin_backward(s, s_c, 1.0, at_kink=at_kink)
        assert ts.grad is not None and tc.grad is not None
        assert ds.tolist() == ts.grad.tolist() == [-at_kink, -1.0, -at_kink, 0.0]
        assert ds_c.tolist() == tc.grad.tolist() == [at_kink, 1.0, at_kink, 0.0]
