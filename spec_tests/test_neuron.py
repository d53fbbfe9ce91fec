"""Spec of reference.neuron (lecture: "Neural Network Basics", "McCulloch-Pitts \"unit\"",
"Activation functions": "Changing the bias weight W_{0,i} moves the threshold location").

Claims: basics.neuron, basics.mcculloch-pitts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

from conformance.strategies import arrays, finite_floats, neuron_cases
from reference import neuron as N
from reference.activations import ACTIVATIONS
from reference.fixtures import slide_case
from reference.gradcheck import check_gradients
from reference.tolerance import EXACT, assert_close, tolerance
from spec_tests.helpers.symbolic import derive, sigma, symbols

F64 = tolerance(np.float64, terms=8)
F64_GRAD = tolerance(np.float64, terms=8, gradient=True)


# ---------------------------------------------------------------- slides
@pytest.mark.claim("basics.neuron")
@pytest.mark.slides
def test_neuron_output_is_the_activation_function_of_the_weighted_sum_plus_bias() -> None:
    case = slide_case("neuron_weighted_sum")
    x, p, e = case["inputs"]["x"], case["params"], case["expected"]
    # "This sum is called the activation of the neuron": with s = identity, o is the sum itself
    assert_close(N.neuron(x, p["w"], p["b"], "identity"), e["activation"], EXACT, what="Σwx + b")
    for s in ("identity", "step", "relu"):
        assert_close(N.neuron(x, p["w"], p["b"], s), e[f"o_{s}"], EXACT, what=f"o with s = {s}")
    # the sigmoid is exact only where the sum is 0: σ(0) = 1/2
    assert N.neuron(x, p["w"], p["b"], "sigmoid")[3] == e["o_sigmoid"][3]
    dx, dw, db = N.neuron_backward(p["do"], x, p["w"], p["b"], "relu")
    back = e["relu_backward"]
    assert_close(dx, back["dx"], EXACT, what="∂o/∂x")
    assert_close(dw, back["dw"], EXACT, what="∂o/∂w")
    assert db == back["db"]


@pytest.mark.claim("basics.mcculloch-pitts")
@pytest.mark.slides
def test_bias_weight_on_the_fixed_input_minus_one_sets_the_threshold_location() -> None:
    case = slide_case("mcculloch_pitts_threshold")
    a, p, e = case["inputs"]["a"], case["params"], case["expected"]
    assert_close(N.mcculloch_pitts(a, p["W"], "identity"), e["in"], EXACT, what="in_i")
    assert_close(N.mcculloch_pitts(a, p["W"]), e["output"], EXACT, what="step unit")
    assert_close(N.threshold_location(p["W"]), e["threshold"], EXACT, what="threshold")
    pairs = case["inputs"]["a_pairs"]
    assert_close(N.mcculloch_pitts(pairs, p["W_and"]), e["output_and"], EXACT, what="AND unit")
    assert_close(N.threshold_location(p["W_and"]), e["threshold_and"], EXACT,
                 what="AND unit's threshold")


@pytest.mark.claim("basics.mcculloch-pitts")
@pytest.mark.slides
def test_changing_the_bias_weight_moves_the_threshold_location() -> None:
    case = slide_case("mcculloch_pitts_threshold")
    a, p, e = case["inputs"]["a"], case["params"], case["expected"]
    assert_close(N.mcculloch_pitts(a, p["W_moved"], "identity"), e["in_moved"], EXACT,
                 what="in_i after W_0 = 4")
    assert_close(N.mcculloch_pitts(a, p["W_moved"]), e["output_moved"], EXACT,
                 what="step unit after W_0 = 4")
    assert_close(N.threshold_location(p["W_moved"]), e["threshold_moved"], EXACT,
                 what="moved threshold")


# ---------------------------------------------------------------- sympy
def _neuron_expression(s: str) -> Any:
    def builder() -> tuple[sp.Expr, dict[str, np.ndarray]]:
        x, w, b, do = symbols("x", (2, 3)), symbols("w", 3), symbols("b", ()), symbols("do", 2)
        f = {"sigmoid": sigma, "tanh": sp.tanh}[s]
        # L = Σ_n do_n · s(Σ_i w_i x_{n,i} + b)
        L = sum(do[n] * f(sum(w[i] * x[n, i] for i in range(3)) + b[()]) for n in range(2))
        return L, {"x": x, "w": w, "b": b, "do": do}
    return builder


_BUILDERS = {s: _neuron_expression(s) for s in ("sigmoid", "tanh")}


@pytest.mark.claim("basics.neuron")
@pytest.mark.sympy
@pytest.mark.parametrize("s", sorted(_BUILDERS))
def test_neuron_forward_and_gradients_match_sympy(s: str) -> None:
    derived = derive(_BUILDERS[s])
    rng = np.random.default_rng(3)
    for _ in range(5):
        x, w, b, do = rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(), rng.normal(size=2)
        value, grads = derived(x=x, w=w, b=b, do=do)
        assert_close(float(do @ N.neuron(x, w, b, s)), value, F64, what=f"Σ do·o ({s})")
        dx, dw, db = N.neuron_backward(do, x, w, b, s)
        assert_close(dx, grads["x"], F64_GRAD, what=f"∂L/∂x ({s})")
        assert_close(dw, grads["w"], F64_GRAD, what=f"∂L/∂w ({s})")
        assert_close(db, grads["b"], F64_GRAD, what=f"∂L/∂b ({s})")


# ---------------------------------------------------------------- properties
@pytest.mark.claim("basics.neuron")
@pytest.mark.property
@given(neuron_cases(), st.sampled_from(["sigmoid", "tanh", "identity"]))
def test_neuron_gradients_match_finite_differences(case: Any, s: str) -> None:
    inputs = {"x": case.x, "w": case.w, "b": case.b}
    dx, dw, db = N.neuron_backward(case.do, case.x, case.w, case.b, s)
    check_gradients(lambda **kw: N.neuron(s=s, **kw), inputs, case.do,
                    {"x": dx, "w": dw, "b": db})


@pytest.mark.claim("basics.neuron")
@pytest.mark.property
@given(neuron_cases())
def test_neuron_backward_with_its_default_s_is_the_gradient_of_neuron_with_its_default(
        case: Any) -> None:
    """Called without ``s``, the pair still agrees: neuron_backward's default activation is
    neuron's (a forward and a backward with different defaults would pass every test that
    names s)."""
    dx, dw, db = N.neuron_backward(case.do, case.x, case.w, case.b)
    check_gradients(lambda **kw: N.neuron(**kw), {"x": case.x, "w": case.w, "b": case.b},
                    case.do, {"x": dx, "w": dw, "b": db})


@pytest.mark.claim("basics.neuron")
@pytest.mark.property
@given(neuron_cases(), st.sampled_from(sorted(ACTIVATIONS)))
def test_neuron_is_s_of_the_weighted_sum_row_by_row(case: Any, s: str) -> None:
    o = N.neuron(case.x, case.w, case.b, s)
    assert o.shape == (case.x.shape[0],)
    for n in range(case.x.shape[0]):
        # one example at a time, with the sum written out term by term
        z = sum(float(wi) * float(xi) for wi, xi in zip(case.w, case.x[n])) + case.b
        assert_close(N.neuron(case.x[n], case.w, case.b, s), ACTIVATIONS[s].f(z),
                     tolerance(np.float64, terms=case.x.shape[1] + 1), what=f"o_{n}")
        assert_close(o[n], N.neuron(case.x[n], case.w, case.b, s), F64,
                     what="batched vs single example")


@pytest.mark.claim("basics.neuron", "convention.no-mutation")
@pytest.mark.property
@given(neuron_cases())
def test_neuron_and_its_backward_leave_their_inputs_alone(case: Any) -> None:
    x, w, do = case.x.copy(), case.w.copy(), case.do.copy()
    N.neuron(case.x, case.w, case.b)
    N.neuron_backward(case.do, case.x, case.w, case.b)
    assert np.array_equal(x, case.x) and np.array_equal(w, case.w)
    assert np.array_equal(do, case.do)


@pytest.mark.claim("basics.mcculloch-pitts")
@pytest.mark.property
@given(st.integers(1, 4).flatmap(lambda J: st.tuples(arrays((5, J)), arrays((J + 1,)))),
       st.sampled_from(sorted(ACTIVATIONS)))
def test_unit_is_g_of_the_weighted_inputs_minus_the_bias_weight(data: Any, g: str) -> None:
    a, W = data
    # a_0 = −1 carries W_0: in = Σ_{j≥1} W_j a_j − W_0
    expected = ACTIVATIONS[g].f(a @ W[1:] - W[0])
    assert_close(N.mcculloch_pitts(a, W, g), expected,
                 tolerance(np.float64, terms=a.shape[1] + 1), what="a_i")


@pytest.mark.claim("basics.mcculloch-pitts")
@pytest.mark.property
@given(st.integers(1, 3).flatmap(lambda J: st.tuples(arrays((4, J)), arrays((J + 1, 3)))))
def test_several_units_are_the_columns_of_W(data: Any) -> None:
    a, W = data
    out = N.mcculloch_pitts(a, W, "tanh")
    assert out.shape == (4, 3)
    for i in range(3):
        assert_close(out[:, i], N.mcculloch_pitts(a, W[:, i], "tanh"), F64, what=f"unit {i}")


@pytest.mark.claim("basics.mcculloch-pitts")
@pytest.mark.property
@given(st.integers(1, 4).flatmap(lambda J: arrays((J + 1,), bound=4.0)), finite_floats(3.0))
def test_threshold_location_is_where_the_unit_switches_and_W0_moves_it(W: np.ndarray,
                                                                       t: float) -> None:
    w = W[1:]
    assume(float(w @ w) >= 1e-2)   # a (nearly) constant unit has no threshold worth locating
    star = N.threshold_location(W)
    assert_close(w @ star, W[0], tolerance(np.float64, terms=8), what="w·a* = W_0")
    # just past a* along w the unit fires, just before it it does not
    step = 1e-6 * w / np.sqrt(w @ w) * max(1.0, float(np.abs(star).max()))
    assert N.mcculloch_pitts(star + step, W) == 1.0
    assert N.mcculloch_pitts(star - step, W) == 0.0
    # raising W_0 by t moves the threshold by t·w/‖w‖²
    moved = N.threshold_location(np.concatenate([[W[0] + t], w]))
    assert_close(moved - star, t * w / (w @ w), tolerance(np.float64, terms=8),
                 what="threshold shift")


# ---------------------------------------------------------------- bad input
@pytest.mark.claim("basics.neuron", "convention.errors")
@pytest.mark.errors
@pytest.mark.parametrize(("args", "kind", "words"), [
    ((np.ones((2, 3, 1)), np.ones(3), 0.0), ValueError, r"x must be 1-D or 2-D, got 3-D"),
    ((np.ones((2, 3)), np.ones((3, 1)), 0.0), ValueError, r"w must be 1-D, got 2-D"),
    ((np.ones((2, 3)), np.ones(4), 0.0), ValueError,
     r"x has 3 inputs but w has 4 weights \(x.shape = \(2, 3\), w.shape = \(4,\)\)"),
    ((np.ones((2, 3)), np.ones(3), [0.0, 1.0]), ValueError, r"b must be 0-D, got 1-D"),
    ((np.ones((2, 3)), np.array([1.0, np.nan, 0.0]), 0.0), ValueError, r"w must be finite"),
    ((np.ones((2, 3)), np.ones(3), np.inf), ValueError, r"b must be finite"),
    ((np.ones((2, 3), dtype=bool), np.ones(3), 0.0), TypeError, r"x must hold real numbers"),
])
def test_neuron_refuses_bad_shapes_and_values(args: tuple[Any, ...], kind: type,
                                              words: str) -> None:
    with pytest.raises(kind, match=rf"^neuron: {words}"):
        N.neuron(*args)
    with pytest.raises(kind, match=rf"^neuron_backward: {words}"):
        N.neuron_backward(np.ones(2), *args)


@pytest.mark.claim("basics.neuron", "convention.errors")
@pytest.mark.errors
def test_neuron_backward_wants_one_upstream_value_per_output_and_a_known_s() -> None:
    with pytest.raises(ValueError, match=r"^neuron_backward: do must have the shape of the "
                                         r"output \(2,\), got \(3,\)"):
        N.neuron_backward(np.ones(3), np.ones((2, 3)), np.ones(3), 0.0)
    with pytest.raises(ValueError, match=r"^neuron: activation must be one of"):
        N.neuron(np.ones((2, 3)), np.ones(3), 0.0, "softplus")


@pytest.mark.claim("basics.mcculloch-pitts", "convention.errors")
@pytest.mark.errors
def test_unit_needs_one_weight_per_input_plus_the_bias_weight() -> None:
    with pytest.raises(ValueError, match=r"^mcculloch_pitts: W must have one row per input plus "
                                         r"the bias row W_0: a has 2 inputs, so W needs 3 rows, "
                                         r"got W.shape = \(2,\)"):
        N.mcculloch_pitts(np.ones((4, 2)), np.ones(2))
    with pytest.raises(ValueError, match=r"^mcculloch_pitts: W must be finite"):
        N.mcculloch_pitts(np.ones((4, 2)), [np.nan, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"^mcculloch_pitts: a must be 1-D or 2-D"):
        N.mcculloch_pitts(np.ones((4, 2, 1)), np.ones(3))
    with pytest.raises(ValueError, match=r"^mcculloch_pitts: activation must be one of"):
        N.mcculloch_pitts(np.ones((4, 2)), np.ones(3), "sign")


@pytest.mark.claim("basics.mcculloch-pitts", "convention.errors")
@pytest.mark.errors
def test_threshold_location_needs_input_weights_that_are_not_all_zero() -> None:
    with pytest.raises(ValueError, match=r"^threshold_location: the input weights are all zero "
                                         r"\(W = \[1.0, 0.0, 0.0\]\): the unit is constant"):
        N.threshold_location([1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"^threshold_location: W must hold the bias weight W_0 "
                                         r"and at least one input weight, got W.shape = \(1,\)"):
        N.threshold_location([1.0])
    with pytest.raises(ValueError, match=r"^threshold_location: W must be 1-D, got 2-D"):
        N.threshold_location(np.ones((3, 2)))
