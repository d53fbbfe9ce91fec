"""Spec of reference.activations (lecture: "Activation functions", "ReLU Layer").

Claims: act.step, act.sigmoid, act.tanh, act.relu; conventions step-at-zero, relu-at-zero, stable.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

from conformance.strategies import arrays, finite_floats, shapes, wide_floats
from reference import activations as A
from reference.fixtures import slide_case
from reference.gradcheck import numerical_gradient
from reference.tolerance import EXACT, FINITE_DIFFERENCE, assert_close, tolerance
from spec_tests.helpers.oracles import assert_matches_torch
from spec_tests.helpers.symbolic import sigma

F64 = tolerance(np.float64)
GRADS = {"step": A.step_grad, "sigmoid": A.sigmoid_grad, "tanh": A.tanh_grad,
         "relu": A.relu_grad, "identity": A.identity_grad}


# ---------------------------------------------------------------- slides
@pytest.mark.claim("act.step", "convention.step-at-zero")
@pytest.mark.slides
def test_step_is_one_at_and_above_the_threshold_zero() -> None:
    case = slide_case("step_threshold")
    x = case["inputs"]["x"]
    assert_close(A.step(x), case["expected"]["step"], EXACT, what="step(x)")
    assert_close(A.step_grad(x), case["expected"]["step_grad"], EXACT, what="step'(x)")


# ---------------------------------------------------------------- sympy
@pytest.mark.claim("act.sigmoid")
@pytest.mark.sympy
def test_sigmoid_derivative_is_sigma_times_one_minus_sigma_and_at_most_a_quarter() -> None:
    x = sp.Symbol("x", real=True)
    s = sigma(x)
    d = sp.diff(s, x)
    # σ' = σ(1 − σ), as an identity
    assert sp.simplify(d - s * (1 - s)) == 0
    # the only critical point of σ' is x = 0, where σ' = 1/4, and σ' → 0 at ±∞: the maximum
    assert sp.solve(sp.Eq(sp.diff(s * (1 - s), x), 0), x) == [0]
    assert sp.simplify(d.subs(x, 0)) == sp.Rational(1, 4)
    assert sp.limit(d, x, sp.oo) == 0 and sp.limit(d, x, -sp.oo) == 0
    # and the reference agrees with the symbolic derivative at random points
    xs = np.random.default_rng(0).normal(0, 4, 50)
    f = sp.lambdify(x, d, "numpy")
    assert_close(A.sigmoid_grad(xs), f(xs), F64, what="σ'(x) against SymPy")


@pytest.mark.claim("act.tanh")
@pytest.mark.sympy
def test_tanh_derivative_is_one_minus_tanh_squared() -> None:
    x = sp.Symbol("x", real=True)
    assert sp.simplify(sp.diff(sp.tanh(x), x) - (1 - sp.tanh(x) ** 2)) == 0
    xs = np.random.default_rng(1).normal(0, 3, 50)
    f = sp.lambdify(x, sp.diff(sp.tanh(x), x), "numpy")
    assert_close(A.tanh_grad(xs), f(xs), F64, what="tanh'(x) against SymPy")


# ---------------------------------------------------------------- torch
TORCH_ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


@pytest.mark.claim("act.sigmoid", "act.tanh", "act.relu")
@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(TORCH_ACTIVATIONS))
def test_activation_and_its_derivative_match_torch(name: str) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(0, 3, (4, 7))
    x[0, :3] = 0.0  # the kink of relu is part of the case: relu'(0) = 0 in torch too
    g = rng.normal(size=x.shape)
    act = A.ACTIVATIONS[name]
    assert_matches_torch(lambda x: TORCH_ACTIVATIONS[name](x), {"x": x}, act.f(x),
                         {"x": g * act.df(x)}, g, what=name)


# ---------------------------------------------------------------- properties
@pytest.mark.claim("act.sigmoid")
@pytest.mark.property
@given(arrays(shapes()))
def test_sigmoid_is_symmetric_about_one_half(x: np.ndarray) -> None:
    # σ(−x) = 1 − σ(x)
    assert_close(A.sigmoid(-x), 1.0 - A.sigmoid(x), F64, what="σ(−x) vs 1 − σ(x)")


@pytest.mark.claim("act.sigmoid")
@pytest.mark.property
@given(arrays(shapes(), bound=50.0))
def test_sigmoid_derivative_never_exceeds_one_quarter(x: np.ndarray) -> None:
    d = A.sigmoid_grad(x)
    assert np.all((d >= 0) & (d <= 0.25)), f"σ' outside [0, 1/4]: {d.min()}..{d.max()}"
    assert A.sigmoid_grad(0.0) == 0.25


@pytest.mark.claim("act.tanh")
@pytest.mark.property
@given(arrays(shapes()))
def test_tanh_is_odd_bounded_and_a_rescaled_sigmoid(x: np.ndarray) -> None:
    t = A.tanh(x)
    assert_close(A.tanh(-x), -t, F64, what="tanh(−x) vs −tanh(x)")
    assert np.all(np.abs(t) <= 1.0)
    assert_close(t, 2.0 * A.sigmoid(2.0 * x) - 1.0, tolerance(np.float64, terms=4),
                 what="tanh(x) vs 2σ(2x) − 1")


@pytest.mark.claim("act.relu")
@pytest.mark.property
@given(arrays(shapes()))
def test_relu_is_an_idempotent_ramp_with_derivative_zero_or_one(x: np.ndarray) -> None:
    r = A.relu(x)
    assert np.array_equal(A.relu(r), r), "relu(relu(x)) != relu(x)"
    assert np.array_equal(r, np.where(x > 0, x, 0.0)), "relu(x) != max(0, x)"
    assert set(np.unique(A.relu_grad(x))) <= {0.0, 1.0}


@pytest.mark.claim("act.step")
@pytest.mark.property
@given(arrays(shapes()), finite_floats(5.0))
def test_a_bias_moves_the_step_threshold(x: np.ndarray, b: float) -> None:
    # step(x + b) switches on at x = −b: the bias moves the threshold location
    assert np.array_equal(A.step(x + b), (x >= -b).astype(float))


@pytest.mark.claim("act.sigmoid", "act.tanh", "act.relu")
@pytest.mark.property
@given(st.sampled_from(["sigmoid", "tanh", "relu", "identity"]), arrays(shapes(max_dims=2)))
def test_derivatives_match_finite_differences(name: str, x: np.ndarray) -> None:
    act = A.ACTIVATIONS[name]
    if name == "relu":  # a finite difference across the kink is not a derivative
        x = np.where(np.abs(x) < 1e-3, 1e-3, x)
    numeric = numerical_gradient(lambda v: float(np.sum(act.f(v))), x)
    assert_close(act.df(x), numeric, FINITE_DIFFERENCE, what=f"{name}' vs finite differences")


@pytest.mark.claim("convention.stable", "act.sigmoid", "act.tanh")
@pytest.mark.property
@given(arrays(shapes(max_dims=2), elements=wide_floats()))
def test_activations_are_finite_without_warnings_for_huge_inputs(x: np.ndarray) -> None:
    # RuntimeWarnings are errors in this suite (pyproject filterwarnings): an overflow fails here
    for name, act in A.ACTIVATIONS.items():
        out, d = act.f(x), act.df(x)
        assert np.all(np.isfinite(out)) and np.all(np.isfinite(d)), name
    s = A.sigmoid(np.array([-1e4, 1e4, -1e300, 1e300]))
    assert list(s) == [0.0, 1.0, 0.0, 1.0]


@pytest.mark.claim("convention.relu-at-zero")
@pytest.mark.torch
def test_relu_derivative_at_zero_is_zero_as_in_torch() -> None:
    assert A.relu_grad(0.0) == 0.0
    t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    torch.relu(t).sum().backward()
    assert t.grad is not None and float(t.grad[0]) == 0.0


@pytest.mark.claim("convention.float64", "convention.no-mutation")
@pytest.mark.property
@given(st.sampled_from([np.float16, np.float32, np.float64, np.int32, np.int64]),
       st.sampled_from(sorted(A.ACTIVATIONS)))
def test_activations_compute_in_float64_and_leave_their_input_alone(dtype: type,
                                                                    name: str) -> None:
    x = np.array([[-2, -1, 0], [1, 2, 3]], dtype=dtype)
    before = x.copy()
    act = A.ACTIVATIONS[name]
    for out in (act.f(x), act.df(x)):
        assert out.dtype == np.float64
        # a new array the caller owns: writable, no alias of x (identity included)
        assert out.flags.writeable and not np.shares_memory(out, x), name
    assert np.array_equal(x, before) and x.dtype == dtype


# ---------------------------------------------------------------- bad input
@pytest.mark.claim("act.step", "act.sigmoid", "act.tanh", "act.relu", "convention.errors")
@pytest.mark.errors
@pytest.mark.parametrize("fn", [A.step, A.step_grad, A.sigmoid, A.sigmoid_grad, A.tanh,
                                A.tanh_grad, A.relu, A.relu_grad, A.identity, A.identity_grad])
@pytest.mark.parametrize(("bad", "kind", "words"), [
    ("0.5", TypeError, "x must be a real array, got str"),
    (np.array([True, False]), TypeError,
     r"\(integer or floating dtype\), got an array of dtype bool"),
    (np.array([1 + 2j]), TypeError, "dtype complex128"),
    (None, TypeError, "got NoneType"),
    ([[1.0, 2.0], [3.0]], TypeError, "x must be a real array"),
])
def test_activations_refuse_non_real_input_by_name(fn, bad, kind, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(kind, match=rf"^{fn.__name__}: .*{words}"):
        fn(bad)


@pytest.mark.claim("convention.errors")
@pytest.mark.errors
def test_unknown_activation_names_the_choices() -> None:
    with pytest.raises(ValueError, match=r"dense: activation must be one of \['identity', 'relu'"):
        A.activation("dense", "softplus")
    with pytest.raises(TypeError, match="activation must be one of"):
        A.activation("dense", 3)


# ---------------------------------------------------------------- the declarable variants at 0
@pytest.mark.claim("convention.declared-variants", "convention.step-at-zero",
                   "convention.relu-at-zero")
@pytest.mark.torch
def test_step_and_relu_variants_at_zero_as_torch_and_numpy_compute_them() -> None:
    """step(0) = 1 (spec), 0 (torch.heaviside(x, 0)) or ½ (numpy.heaviside(x, 0.5)); relu'(0)
    = 0 (spec, torch.relu), 1 (torch.clamp(x, min=0) passes the gradient at its bound) or ½
    (torch.maximum(x, 0) splits a tie), and every variant agrees away from 0."""
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    t = torch.tensor(x)
    assert A.step(x).tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]
    assert A.step(x, at_zero=0.0).tolist() == torch.heaviside(t, torch.tensor(0.0,
                                                              dtype=torch.float64)).tolist()
    assert A.step(x, at_zero=0.5).tolist() == np.heaviside(x, 0.5).tolist()
    torch_slopes = {0.0: torch.relu, 1.0: lambda v: torch.clamp(v, min=0.0),
                    0.5: lambda v: torch.maximum(v, torch.zeros_like(v))}
    for at_zero, relu in torch_slopes.items():
        v = torch.tensor(x, requires_grad=True)
        relu(v).sum().backward()
        assert v.grad is not None
        assert A.relu_grad(x, at_zero=at_zero).tolist() == v.grad.tolist() == [
            0.0, 0.0, at_zero, 1.0, 1.0]
    with pytest.raises(ValueError, match=r"relu_grad: at_zero must be a slope in \[0, 1\]"):
        A.relu_grad(x, at_zero=2.0)
    with pytest.raises(ValueError, match=r"step: at_zero must be a slope in \[0, 1\].*got bool"):
        A.step(x, at_zero=True)
