"""Vanishing gradients (lecture: "Vanishing Gradients").

    ∂J/∂W(1) = (ŷ − y) · W(3) · σ'(z(3)) · W(2) · σ'(z(2)) · X
    Remember: σ'(z) = σ(z)(1 − σ(z)) ≤ .25
    As we have more layers, the gradient gets very small at the early layers. [...] For this
    reason, other activations (such as ReLU) have become more common.

Backpropagation multiplies the gradient by W_lᵀ and by f'(z_l) at every layer it passes. With the
sigmoid, each factor f' is at most 1/4, so ‖δ_{l−1}‖ ≤ ‖W_l‖₂ · ¼ · ‖δ_l‖: unless the weights
grow to compensate, the gradient reaching the first layers shrinks geometrically with depth.
ReLU's derivative is 1 on the active units, so with weights of the usual scale (He, gain √2) the
gradient keeps its size across layers.

Notation
--------
N        batch size
D        input width
L        number of layers; layer l has W_l [M_l, D_l], b_l [M_l], activation f_l
x, y     inputs [N, D] and regression targets [N, M_L]
J        the loss ½‖a_L − y‖² averaged over the batch (reference.losses.squared_error)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from reference._checks import FloatArray, as_float_array, fail, positive_int, rng_from
from reference.feedforward import init_mlp, mlp_backward, mlp_forward
from reference.losses import squared_error_backward

__all__ = ["SIGMOID_GRAD_BOUND", "SideBySide", "layer_gradient_norms", "sigmoid_vs_relu"]

SIGMOID_GRAD_BOUND = 0.25
"""max_z σ'(z) = σ'(0) = 1/4: the most a sigmoid layer lets through of the gradient per unit."""


def layer_gradient_norms(x: Any, y: Any, Ws: Sequence[Any], bs: Sequence[Any],
                         fs: str | Sequence[str]) -> FloatArray:
    """‖∂J/∂W_l‖ (Frobenius) for every layer l = 1..L of the network mlp_forward(x, Ws, bs, fs),
    with J = 1/(2N) Σ_n ‖a_L − y‖².

    Shapes: x [N, D], y [N, M_L], Ws/bs/fs as in mlp_forward → [L], first layer first.
    """
    a, cache = mlp_forward(x, Ws, bs, fs)
    y = as_float_array("layer_gradient_norms", "y", y, ndim=2)
    if y.shape != a.shape:
        raise fail("layer_gradient_norms", f"y must have the network output's shape {a.shape}, "
                                           f"got {y.shape}")
    grads = mlp_backward(squared_error_backward(a, y), cache)    # ∂J/∂a_L = (a_L − y)/N
    return np.array([np.linalg.norm(dW) for dW in grads.dWs])


class SideBySide(NamedTuple):
    """‖∂J/∂W_l‖ per layer (first layer first) of the same network with sigmoid and ReLU."""

    sigmoid: FloatArray
    relu: FloatArray


def sigmoid_vs_relu(depth: int, width: int, rng: Any, *, n: int = 16) -> SideBySide:
    """The gradient norm per layer of one deep network, once with sigmoid and once with ReLU.

    Both use the same random weights (He scale, W_l ~ N(0, 2/D_l), zero biases), the same
    inputs x ~ N(0, 1) [n, width] and targets y ~ N(0, 1) [n, 1]; ``depth`` hidden layers of
    ``width`` units are followed by a linear output unit. Only the hidden activation differs.
    """
    depth = positive_int("sigmoid_vs_relu", "depth", depth)
    width = positive_int("sigmoid_vs_relu", "width", width)
    n = positive_int("sigmoid_vs_relu", "n", n)
    gen = rng_from("sigmoid_vs_relu", rng)
    net = init_mlp([width] * (depth + 1) + [1], "identity", gen, gain=float(np.sqrt(2.0)))
    x = gen.normal(size=(n, width))
    y = gen.normal(size=(n, 1))
    norms = {f: layer_gradient_norms(x, y, net.Ws, net.bs, (f,) * depth + ("identity",))
             for f in ("sigmoid", "relu")}
    return SideBySide(norms["sigmoid"], norms["relu"])
