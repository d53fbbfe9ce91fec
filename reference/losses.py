"""Loss functions and their gradients (lecture: "How to learn the weights", "Objective for a
single window", "Punchline").

Notation
--------
N        batch size
C        number of classes
ŷ, y     prediction and target
z        logits (pre-activations of the output layer)
s, s_c   the score of the true window and of a corrupt window
Δ        the margin of the window objective (1 by default)

Conventions (CONVENTIONS.md)
----------------------------
* cross_entropy over [N, C] logits and integer targets [N] is the mean over N (PyTorch's default).
* softmax, log_softmax, cross-entropy and binary cross-entropy are computed with the max shift /
  log-sum-exp, so any finite input gives a finite, warning-free result.
* max_margin's gradient at the kink Δ + s_c − s = 0 is taken as 0 (like relu'(0) = 0).

Every ``*_backward`` returns the gradient of the loss times the upstream scalar ``grad``
(1 by default) with respect to the forward's array arguments, in their order. ``grad`` comes
last and is optional, since a loss usually ends the chain; the layers' backward functions
(dense_backward, conv2d_backward, rnn_backward, ...) take their upstream gradient first.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from reference._checks import (
    FloatArray,
    IntArray,
    as_float_array,
    as_index_array,
    fail,
    one_of,
    subgradient,
)
from reference.activations import sigmoid

__all__ = [
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_backward",
    "cross_entropy",
    "cross_entropy_backward",
    "log_softmax",
    "max_margin",
    "max_margin_backward",
    "softmax",
    "squared_error",
    "squared_error_backward",
]


def _same_shape(func: str, a: FloatArray, b: FloatArray, names: str) -> None:
    if a.shape != b.shape:
        first, second = names.split(",")
        raise fail(func, f"{first} and {second} must have the same shape, got {a.shape} and "
                         f"{b.shape}")


def _batch(shape: tuple[int, ...]) -> int:
    return shape[0] if shape else 1


def _upstream_scalar(func: str, grad: Any) -> float:
    """The upstream gradient ∂L/∂J of a scalar loss J: a real, finite scalar, or a clear error."""
    g = as_float_array(func, "grad", grad, finite=True)
    if g.shape != ():
        raise fail(func, f"grad must be a scalar (the loss is a scalar), got shape {g.shape}")
    return float(g)


# ---------------------------------------------------------------- squared error
def squared_error(y_hat: Any, y: Any) -> float:
    """J = 1/(2N) Σ_n ‖ŷ_n − y_n‖², the mean over the batch of half the squared error.

    Shapes: y_hat, y [N] or [N, K] (or a scalar, N = 1).
    """
    y_hat = as_float_array("squared_error", "y_hat", y_hat)
    y = as_float_array("squared_error", "y", y)
    _same_shape("squared_error", y_hat, y, "y_hat,y")
    return float(0.5 * np.sum((y_hat - y) ** 2) / _batch(y.shape))


def squared_error_backward(y_hat: Any, y: Any, grad: float = 1.0) -> FloatArray:
    """∂J/∂ŷ = (ŷ − y)/N."""
    y_hat = as_float_array("squared_error_backward", "y_hat", y_hat)
    y = as_float_array("squared_error_backward", "y", y)
    _same_shape("squared_error_backward", y_hat, y, "y_hat,y")
    g = _upstream_scalar("squared_error_backward", grad)
    return g * (y_hat - y) / _batch(y.shape)


# ---------------------------------------------------------------- binary cross-entropy
def binary_cross_entropy_with_logits(z: Any, y: Any) -> float:
    """J = −mean[y log σ(z) + (1 − y) log(1 − σ(z))], the mean over every element.

    Computed as max(z, 0) − z·y + log(1 + e^−|z|), which equals the line above and never
    overflows. Shapes: z, y any shape, equal; y in [0, 1].
    """
    z = as_float_array("binary_cross_entropy_with_logits", "z", z)
    y = as_float_array("binary_cross_entropy_with_logits", "y", y)
    _same_shape("binary_cross_entropy_with_logits", z, y, "z,y")
    per_element = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(per_element))


def binary_cross_entropy_with_logits_backward(z: Any, y: Any, grad: float = 1.0) -> FloatArray:
    """∂J/∂z = (σ(z) − y)/n = (ŷ − y)/n: the "(ŷ − y)" of the lecture's punchline, with
    n = z.size (J is the mean over every element, where squared_error's is over the N rows)."""
    z = as_float_array("binary_cross_entropy_with_logits_backward", "z", z)
    y = as_float_array("binary_cross_entropy_with_logits_backward", "y", y)
    _same_shape("binary_cross_entropy_with_logits_backward", z, y, "z,y")
    g = _upstream_scalar("binary_cross_entropy_with_logits_backward", grad)
    return g * (sigmoid(z) - y) / max(z.size, 1)


# ---------------------------------------------------------------- softmax cross-entropy
def _class_axis(func: str, z: FloatArray, axis: Any) -> None:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{func}: axis must be an int, got {axis!r}")
    if not -z.ndim <= int(axis) < z.ndim:
        raise fail(func, f"axis {axis} is out of range for z of shape {z.shape}")
    if z.shape[int(axis)] == 0:
        raise fail(func, f"z must have at least one class along axis {axis}, got shape {z.shape}")


def softmax(z: Any, axis: int = -1) -> FloatArray:
    """softmax(z)_k = e^{z_k − max z} / Σ_j e^{z_j − max z} along ``axis`` (the max shift)."""
    z = as_float_array("softmax", "z", z)
    _class_axis("softmax", z, axis)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z: Any, axis: int = -1) -> FloatArray:
    """log softmax(z)_k = z_k − m − log Σ_j e^{z_j − m}, m = max z (log-sum-exp)."""
    z = as_float_array("log_softmax", "z", z)
    _class_axis("log_softmax", z, axis)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _logits_and_targets(func: str, logits: Any, targets: Any) -> tuple[FloatArray, IntArray]:
    z = as_float_array(func, "logits", logits, ndim=2)
    if z.shape[1] < 1:
        raise fail(func, f"logits must have at least one class, got shape {z.shape}")
    t = as_index_array(func, "targets", targets, ndim=1, size=z.shape[1])
    if t.shape[0] != z.shape[0]:
        raise fail(func, f"targets has {t.shape[0]} entries but logits has {z.shape[0]} rows "
                         f"(logits.shape = {z.shape})")
    if z.shape[0] == 0:
        raise fail(func, "logits must hold at least one row (N ≥ 1), got shape (0, C)")
    return z, t


REDUCTIONS = ("mean", "sum")
"""How cross_entropy reduces over the batch: the mean (the spec's, PyTorch's default) or the sum
(the variant a backend may declare, the convention cross_entropy_reduction)."""


def cross_entropy(logits: Any, targets: Any, reduction: str = "mean") -> float:
    """J = −(1/N) Σ_n log softmax(z_n)[t_n], the mean over the batch (``reduction="sum"``:
    J = −Σ_n log softmax(z_n)[t_n]).

    Shapes: logits [N, C], targets [N] integer class ids in [0, C).
    """
    reduction = one_of("cross_entropy", "reduction", reduction, REDUCTIONS)
    z, t = _logits_and_targets("cross_entropy", logits, targets)
    logp = log_softmax(z)
    J = -np.sum(logp[np.arange(z.shape[0]), t])
    return float(J / z.shape[0] if reduction == "mean" else J)


def cross_entropy_backward(logits: Any, targets: Any, grad: float = 1.0,
                           reduction: str = "mean") -> FloatArray:
    """∂J/∂z = (softmax(z) − onehot(t))/N (``reduction="sum"``: without the 1/N).
    Shapes: as cross_entropy; returns [N, C]."""
    reduction = one_of("cross_entropy_backward", "reduction", reduction, REDUCTIONS)
    z, t = _logits_and_targets("cross_entropy_backward", logits, targets)
    g = _upstream_scalar("cross_entropy_backward", grad)
    dz = softmax(z)
    dz[np.arange(z.shape[0]), t] -= 1.0
    return g * dz / z.shape[0] if reduction == "mean" else g * dz


# ---------------------------------------------------------------- max-margin objective
def _margin_inputs(func: str, s: Any, s_c: Any, delta: Any) -> tuple[FloatArray, FloatArray, float]:
    s = as_float_array(func, "s", s)
    s_c = as_float_array(func, "s_c", s_c)
    _same_shape(func, s, s_c, "s,s_c")
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real):
        raise TypeError(f"{func}: delta must be a real number, got {type(delta).__name__}")
    if not np.isfinite(float(delta)) or delta < 0:
        raise fail(func, f"delta must be a finite margin ≥ 0, got {delta}")
    return s, s_c, float(delta)


def max_margin(s: Any, s_c: Any, delta: float = 1.0) -> FloatArray:
    """J = max(0, Δ + s_c − s), elementwise (the window objective; Δ = 0 has no margin).

    Shapes: s, s_c any shape, equal (scalars for a single window).
    """
    s, s_c, delta = _margin_inputs("max_margin", s, s_c, delta)
    return np.maximum(0.0, delta + s_c - s)


def max_margin_backward(
    s: Any, s_c: Any, delta: float = 1.0, grad: Any = 1.0, at_kink: float = 0.0
) -> tuple[FloatArray, FloatArray]:
    """(∂J/∂s, ∂J/∂s_c) = (−1, +1) where J > 0, and (0, 0) where J = 0 (no update needed).

    ``grad`` is ∂L/∂J: a finite scalar or an array of J's shape (one per window). At the kink
    Δ + s_c − s = 0 any slope a in [0, 1] is a subgradient, (−a, +a): ``at_kink`` = 0 is the
    spec's (the window needs no update), 1 (torch's clamp) and ½ (jnp.maximum) are the variants
    a backend may declare (the convention max_margin_kink).
    """
    func = "max_margin_backward"
    at_kink = subgradient(func, "at_kink", at_kink)
    s, s_c, delta = _margin_inputs(func, s, s_c, delta)
    u = delta + s_c - s                                  # J = max(0, u)
    active = np.where(u == 0, at_kink, u > 0).astype(np.float64)
    g = as_float_array(func, "grad", grad, finite=True)
    if g.shape not in ((), u.shape):
        raise fail(func, f"grad must be a scalar or have J's shape {u.shape}, "
                         f"got shape {g.shape}")
    return -active * g, active * g
