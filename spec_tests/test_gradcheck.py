"""The finite-difference helper (reference.gradcheck), checked on functions with known gradients."""

from __future__ import annotations

import numpy as np
import pytest

from reference.gradcheck import (
    check_gradients,
    directional_derivative,
    numerical_gradient,
    numerical_vjp,
)

pytestmark = pytest.mark.infrastructure


def test_numerical_gradient_of_a_quadratic_is_exact_enough_and_leaves_x_alone() -> None:
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    g = numerical_gradient(lambda v: float(np.sum(v ** 2)), x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-8)
    assert np.array_equal(x, before)


def test_each_probe_is_a_private_copy_even_for_an_f_that_writes_into_its_argument() -> None:
    """The docstring: "each probe perturbs a private copy". An f that clobbers the array it is
    given must still get, at every call, x with one entry moved by ±h: the gradient of Σ v²
    is 2x."""
    x = np.array([[1.0, -2.0], [0.5, 3.0]])

    def clobbering(v: np.ndarray) -> float:
        value = float(np.sum(v ** 2))
        v[...] = 0.0                                  # a careless f
        return value

    np.testing.assert_allclose(numerical_gradient(clobbering, x), 2 * x, rtol=1e-8)


def test_directional_derivative_is_the_central_difference() -> None:
    """(f(h) − f(−h))/2h is exact for a quadratic: f(t) = 3t + 5t² gives 3 (to rounding)."""
    assert abs(directional_derivative(lambda t: 3.0 * t + 5.0 * t * t) - 3.0) < 1e-8
    assert abs(directional_derivative(lambda t: 3.0 * t + 5.0 * t * t, h=0.5) - 3.0) < 1e-12


def test_numerical_vjp_weights_the_outputs_by_the_upstream_gradient() -> None:
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    up = np.array([2.0, 5.0])
    grads = numerical_vjp(lambda a, b: a * b, {"a": a, "b": b}, up)
    np.testing.assert_allclose(grads["a"], up * b, rtol=1e-8)
    np.testing.assert_allclose(grads["b"], up * a, rtol=1e-8)


def test_check_gradients_accepts_the_right_gradient_and_rejects_a_wrong_one() -> None:
    x, w = np.array([0.3, -0.7]), np.array([1.5, 2.0])
    f = lambda x, w: np.tanh(x * w)  # noqa: E731
    up = np.ones(2)
    right = up * (1 - np.tanh(x * w) ** 2) * w
    check_gradients(f, {"x": x, "w": w}, up, {"x": right})
    with pytest.raises(AssertionError, match="∂/∂x against finite differences"):
        check_gradients(f, {"x": x, "w": w}, up, {"x": 1.01 * right})
    with pytest.raises(ValueError, match=r"analytic names \['v'\] are not inputs"):
        check_gradients(f, {"x": x, "w": w}, up, {"v": right})


def test_check_gradients_checks_every_gradient_it_is_given() -> None:
    """A right ∂/∂x must not cover for a wrong ∂/∂w (nor the other way round)."""
    x, w = np.array([0.3, -0.7]), np.array([1.5, 2.0])
    f = lambda x, w: np.tanh(x * w)  # noqa: E731
    up = np.array([1.0, -2.0])
    dx, dw = (up * (1 - np.tanh(x * w) ** 2) * v for v in (w, x))
    check_gradients(f, {"x": x, "w": w}, up, {"x": dx, "w": dw})
    with pytest.raises(AssertionError, match="∂/∂w against finite differences"):
        check_gradients(f, {"x": x, "w": w}, up, {"x": dx, "w": -dw})
    with pytest.raises(AssertionError, match="∂/∂x against finite differences"):
        check_gradients(f, {"x": x, "w": w}, up, {"w": dw, "x": 2 * dx})
