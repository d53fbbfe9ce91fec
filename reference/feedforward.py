"""Feed-forward networks (lecture: "Feed Forward Neural Networks", "Feed forward example",
"Hidden-Layer").

    Layers are usually fully connected; numbers of hidden units typically chosen by hand.

Notation
--------
N        batch size (rows of x; the slides' column vectors are the rows here)
D, M     input and output width of a layer
x        layer input [N, D]
W        weights [M, D], in the slide's orientation: z = Wx + b is written ``x @ W.T + b``
b        bias [M]
z        pre-activation [N, M]
a        activation a = f(z) [N, M]
"""

from __future__ import annotations

from typing import Any

from reference._checks import FloatArray, as_float_array, fail
from reference.activations import activation

__all__ = ["dense", "dense_backward"]


def _dense_inputs(func: str, x: Any, W: Any, b: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = as_float_array(func, "x", x, ndim=2)
    W = as_float_array(func, "W", W, ndim=2, finite=True)
    b = as_float_array(func, "b", b, ndim=1, finite=True)
    if W.shape[1] != x.shape[1]:
        raise fail(func, f"W expects {W.shape[1]} inputs but x has {x.shape[1]} "
                         f"(x.shape = {x.shape}, W.shape = {W.shape})")
    if b.shape[0] != W.shape[0]:
        raise fail(func, f"b has {b.shape[0]} entries but W has {W.shape[0]} rows "
                         f"(W.shape = {W.shape}, b.shape = {b.shape})")
    return x, W, b


def dense(x: Any, W: Any, b: Any, f: str = "sigmoid") -> FloatArray:
    """A fully connected layer: a = f(Wx + b).

    Shapes: x [N, D], W [M, D], b [M] → a [N, M]. ``f`` names an activation of
    reference.activations.ACTIVATIONS ("identity" gives the linear layer z = Wx + b).
    """
    act = activation("dense", f)
    x, W, b = _dense_inputs("dense", x, W, b)
    z = x @ W.T + b          # z = Wx + b
    return act.f(z)          # a = f(z)


def dense_backward(
    da: Any, x: Any, W: Any, b: Any, f: str = "sigmoid"
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of a dense layer: δ = ∂L/∂a ∘ f'(z); ∂L/∂x = δW, ∂L/∂W = δᵀx, ∂L/∂b = Σ_n δ.

    Shapes: da [N, M] (the upstream gradient ∂L/∂a), x [N, D], W [M, D], b [M] →
    (dx [N, D], dW [M, D], db [M]). In the slides' column form ∂L/∂W = δ xᵀ summed over examples.
    """
    act = activation("dense_backward", f)
    x, W, b = _dense_inputs("dense_backward", x, W, b)
    da = as_float_array("dense_backward", "da", da, ndim=2)
    if da.shape != (x.shape[0], W.shape[0]):
        raise fail("dense_backward", f"da must have shape {(x.shape[0], W.shape[0])} (N, M), "
                                     f"got {da.shape}")
    z = x @ W.T + b
    delta = da * act.df(z)   # δ = ∂L/∂a ∘ f'(z)
    dx = delta @ W           # ∂L/∂x = Wᵀδ
    dW = delta.T @ x         # ∂L/∂W = δxᵀ
    db = delta.sum(axis=0)   # ∂L/∂b = δ
    return dx, dW, db
