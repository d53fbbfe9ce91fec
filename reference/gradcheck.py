"""Finite-difference gradient checking, written once and used everywhere.

The lecture derives every gradient with the chain rule; the simplest independent check of such a
derivation is the definition of the derivative itself. For a scalar function L of an array x,

    ∂L/∂x_i ≈ (L(x + h e_i) − L(x − h e_i)) / 2h        (central difference, error O(h²))

and for an array-valued f with an upstream gradient G (the vector-Jacobian product that every
``*_backward`` function computes) the scalar is L(x) = Σ G ∘ f(x).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from reference._checks import FloatArray, as_float_array
from reference.tolerance import FINITE_DIFFERENCE, Tolerance, assert_close

__all__ = ["check_gradients", "directional_derivative", "numerical_gradient", "numerical_vjp"]

DEFAULT_STEP = 1e-6


def directional_derivative(f: Callable[[float], float], *, h: float = DEFAULT_STEP) -> float:
    """d/dt f(t) at t = 0 by a central difference, (f(h) − f(−h)) / 2h (error O(h²)).

    With f(t) = L(x + t v) this is the derivative of L along the direction v, which a gradient
    g of L must give as Σ g ∘ v: a check of a whole gradient with two calls of L.
    """
    return (float(f(h)) - float(f(-h))) / (2.0 * h)


def numerical_gradient(
    f: Callable[[FloatArray], float], x: Any, *, h: float = DEFAULT_STEP
) -> FloatArray:
    """∂f/∂x by central differences; f maps an array shaped like x to a scalar.

    x is not modified: each probe perturbs a private copy.

    Shapes: x any shape; returns the same shape.
    """
    x0 = as_float_array("numerical_gradient", "x", x)
    grad = np.zeros_like(x0)
    probe = x0.copy()
    for i in np.ndindex(x0.shape):
        original = probe[i]
        probe[i] = original + h
        up = float(f(probe.copy()))
        probe[i] = original - h
        down = float(f(probe.copy()))
        probe[i] = original
        grad[i] = (up - down) / (2.0 * h)
    return grad


def numerical_vjp(
    f: Callable[..., Any],
    inputs: Mapping[str, Any],
    upstream: Any,
    *,
    h: float = DEFAULT_STEP,
) -> dict[str, FloatArray]:
    """Gradients of Σ upstream ∘ f(**inputs) with respect to every named input.

    ``f`` takes the inputs as keyword arguments and returns an array shaped like ``upstream``
    (or a scalar when upstream is a scalar).
    """
    base = {k: as_float_array("numerical_vjp", k, v) for k, v in inputs.items()}
    g = as_float_array("numerical_vjp", "upstream", upstream)

    def scalar(name: str) -> Callable[[FloatArray], float]:
        def loss(value: FloatArray) -> float:
            args = dict(base)
            args[name] = value
            return float(np.sum(g * np.asarray(f(**args), dtype=np.float64)))

        return loss

    return {k: numerical_gradient(scalar(k), v, h=h) for k, v in base.items()}


def check_gradients(
    f: Callable[..., Any],
    inputs: Mapping[str, Any],
    upstream: Any,
    analytic: Mapping[str, Any],
    *,
    tol: Tolerance = FINITE_DIFFERENCE,
    h: float = DEFAULT_STEP,
) -> None:
    """Assert that ``analytic[k]`` matches the finite-difference gradient for each named input.

    Only the inputs named in ``analytic`` are probed (others are held fixed). Raises
    AssertionError naming the input and the worst element otherwise.
    """
    unknown = set(analytic) - set(inputs)
    if unknown:
        raise ValueError(f"check_gradients: analytic names {sorted(unknown)} are not inputs")
    probed = {k: inputs[k] for k in analytic}
    fixed = {k: v for k, v in inputs.items() if k not in analytic}
    numeric = numerical_vjp(lambda **kw: f(**fixed, **kw), probed, upstream, h=h)
    for name, grad in analytic.items():
        assert_close(grad, numeric[name], tol, what=f"∂/∂{name} against finite differences")
