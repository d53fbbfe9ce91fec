"""Activation functions and their derivatives (lecture: "Activation functions", "ReLU Layer").

    (a) is a step function or threshold function
    (b) is a sigmoid function 1/(1 + e^−x)
    ReLU f(x) = max(0, x), "also known as a ramp function"; tanh and the sigmoid are also used.

Notation
--------
x      pre-activation (the neuron's "activation" Σ w_i x_i + b in the lecture's words), any shape
f(x)   the activation function, elementwise, same shape as x
f'(x)  its derivative with respect to x, elementwise, same shape as x

Conventions (CONVENTIONS.md)
----------------------------
* step(x) = 1 where x ≥ 0, else 0; its derivative is taken as 0 everywhere.
* relu'(0) = 0, as in PyTorch and JAX.
* sigmoid is computed from e^−|x| so that no input overflows: σ(−1e4) = 0, σ(1e4) = 1, no
  warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from reference._checks import FloatArray, as_float_array, subgradient

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "activation",
    "identity",
    "identity_grad",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "step",
    "step_grad",
    "tanh",
    "tanh_grad",
]


def step(x: Any, at_zero: float = 1.0) -> FloatArray:
    """Threshold function: step(x) = 1 if x > 0, 0 if x < 0, and step(0) = ``at_zero``: 1 in the
    spec (the threshold sits at 0, step(x) = 1 where x ≥ 0); 0 or ½ are the variants a backend
    may declare (the convention step_at_zero)."""
    at_zero = subgradient("step", "at_zero", at_zero)
    x = as_float_array("step", "x", x)
    return np.where(x == 0, at_zero, x > 0).astype(np.float64)


def step_grad(x: Any) -> FloatArray:
    """step'(x) = 0 (taken as 0 at the jump too: the step passes no gradient)."""
    x = as_float_array("step_grad", "x", x)
    return np.zeros_like(x)


def sigmoid(x: Any) -> FloatArray:
    """σ(x) = 1 / (1 + e^−x), stable for any input.

    Notes
    -----
    With e = e^−|x| ≤ 1: σ(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0, the same function
    written so that the exponential never overflows.
    """
    x = as_float_array("sigmoid", "x", x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x: Any) -> FloatArray:
    """σ'(x) = σ(x)(1 − σ(x)) ≤ 1/4, with the maximum 1/4 at x = 0."""
    s = sigmoid(as_float_array("sigmoid_grad", "x", x))
    return s * (1.0 - s)


def tanh(x: Any) -> FloatArray:
    """tanh(x) = (e^x − e^−x)/(e^x + e^−x)."""
    x = as_float_array("tanh", "x", x)
    return np.tanh(x)


def tanh_grad(x: Any) -> FloatArray:
    """tanh'(x) = 1 − tanh²(x)."""
    t = tanh(as_float_array("tanh_grad", "x", x))
    return 1.0 - t * t


def relu(x: Any) -> FloatArray:
    """ReLU, the ramp: f(x) = max(0, x)."""
    x = as_float_array("relu", "x", x)
    return np.maximum(x, 0.0)


def relu_grad(x: Any, at_zero: float = 0.0) -> FloatArray:
    """f'(x) = 1 where x > 0, 0 where x < 0, and relu'(0) = ``at_zero``: 0 in the spec (as in
    PyTorch and JAX); any slope in [0, 1] is a subgradient there, 1 and ½ are the variants a
    backend may declare (the convention relu_grad_at_zero)."""
    at_zero = subgradient("relu_grad", "at_zero", at_zero)
    x = as_float_array("relu_grad", "x", x)
    return np.where(x == 0, at_zero, x > 0).astype(np.float64)


def identity(x: Any) -> FloatArray:
    """f(x) = x: a linear unit (the output layer of a regression network).

    Returns a new writable array, never an alias of ``x`` (as every other activation does).
    """
    return np.array(as_float_array("identity", "x", x))      # a copy: writable, x untouched


def identity_grad(x: Any) -> FloatArray:
    """f'(x) = 1."""
    return np.ones_like(as_float_array("identity_grad", "x", x))


@dataclass(frozen=True)
class Activation:
    """An activation function f together with its derivative f' (both of the pre-activation)."""

    name: str
    f: Callable[[Any], FloatArray]
    df: Callable[[Any], FloatArray]


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("step", step, step_grad),
        Activation("sigmoid", sigmoid, sigmoid_grad),
        Activation("tanh", tanh, tanh_grad),
        Activation("relu", relu, relu_grad),
        Activation("identity", identity, identity_grad),
    )
}


def activation(func: str, name: Any) -> Activation:
    """The activation called ``name`` (an entry of ACTIVATIONS), or a clear error for ``func``."""
    if not isinstance(name, str):
        raise TypeError(
            f"{func}: activation must be one of {sorted(ACTIVATIONS)}, got {type(name).__name__}"
        )
    if name not in ACTIVATIONS:
        raise ValueError(f"{func}: activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]
