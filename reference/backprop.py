"""The backpropagation "punchline" for the 3-layer sigmoid network (lecture: "Feedforward Neural
Network", "Forward Propagation", "Calculus to the Rescue", "Punchline").

    ∂J/∂W(3) = (ŷ − y) · a(3)
    ∂J/∂W(2) = (ŷ − y) · W(3) · σ'(z(3)) · a(2)
    ∂J/∂W(1) = (ŷ − y) · W(3) · σ'(z(3)) · W(2) · σ'(z(2)) · X
    Recall that σ'(z) = σ(z)(1 − σ(z)). Though they appear complex, above are easy to compute!

The network, numbered as on the slides (the input X is layer 1, so the hidden pre-activations
are z(2), z(3) and the output's is z(4))::

    z(2) = W(1) X      a(2) = σ(z(2))     hidden layer 1
    z(3) = W(2) a(2)   a(3) = σ(z(3))     hidden layer 2
    z(4) = W(3) a(3)   ŷ    = σ(z(4))     output

No biases: the slide shows none, and its formulas have no ∂J/∂b. (A bias is a weight on a
constant input 1; feedforward.dense with b = 0 computes the same layers.)

The loss under which (ŷ − y) is exact
-------------------------------------
(ŷ − y) is ∂J/∂z(4), the gradient at the output's pre-activation. It is exact for

* a sigmoid output with binary cross-entropy (the default, ``output="sigmoid"``)::

      J = −Σ_n Σ_k [y log ŷ + (1 − y) log(1 − ŷ)],   ∂J/∂z(4) = ŷ − y

  since ∂J/∂ŷ = (ŷ − y)/(ŷ(1 − ŷ)) and ∂ŷ/∂z(4) = σ'(z(4)) = ŷ(1 − ŷ) cancel;
* a linear output ŷ = z(4) (``output="identity"``) with J = ½ Σ_n ‖ŷ_n − y_n‖².

With a sigmoid output and squared error it is NOT exact: ∂J/∂z(4) = (ŷ − y) σ'(z(4)), a factor
the punchline leaves out. J is summed over the examples of a batch (not averaged), so that the
factor is (ŷ − y) itself, not (ŷ − y)/N; for the slide's single example the two agree.

From the slide's shorthand to shapes
------------------------------------
The slide multiplies as if everything were a scalar. With column vectors for one example, and
rows for a batch as the code has them (W keeps the slide's [out, in] shape, ``x @ W.T``)::

    slide                   one example (columns)        batch (rows, the code)          shape
    (ŷ − y)                 e = ŷ − y                    error = ŷ − y                   [N, K]
    (ŷ − y)·a(3)            e a(3)ᵀ (outer product)      errorᵀ a3 (Σ over examples)     [K, H2]
    (ŷ − y)·W(3)·σ'(z(3))   δ(3) = W(3)ᵀe ∘ σ'(z(3))     back3 = (error W3) ∘ σ'(z3)     [N, H2]
    ... ·a(2)               δ(3) a(2)ᵀ                   back3ᵀ a2                       [H2, H1]
    ... ·W(2)·σ'(z(2))      δ(2) = W(2)ᵀδ(3) ∘ σ'(z(2))  back2 = (back3 W2) ∘ σ'(z2)     [N, H1]
    ... ·X                  δ(2) Xᵀ                      back2ᵀ X                        [H1, D]

so each "·" is a matrix product, "· σ'(z)" an elementwise product, and the trailing "· a" or
"· X" an outer product summed over the batch.

Notation
--------
N              examples (rows of X; a single example may be given 1-D)
D, H1, H2, K   widths of the input, the two hidden layers and the output
X              input [N, D] or [D]
y              targets [N, K] or [K]; in [0, 1] for the sigmoid output
W1, W2, W3     weights [H1, D], [H2, H1], [K, H2] (the slides' W(1), W(2), W(3))
z2, a2         [N, H1]; z3, a3 [N, H2]; z4, y_hat [N, K]
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from reference._checks import FloatArray, as_float_array, fail
from reference.activations import sigmoid, sigmoid_grad
from reference.losses import binary_cross_entropy_with_logits, squared_error

__all__ = [
    "OUTPUTS",
    "PunchlineForward",
    "PunchlineGradients",
    "punchline_forward",
    "punchline_gradients",
    "punchline_loss",
]

OUTPUTS = ("sigmoid", "identity")
"""Output units for which (ŷ − y) is exact, each with its loss: binary cross-entropy for the
sigmoid, half the squared error for the identity (a linear output)."""


class PunchlineForward(NamedTuple):
    """Every intermediate value of the forward pass, named as on the slides."""

    z2: FloatArray      # z(2) = W(1) X        [N, H1]
    a2: FloatArray      # a(2) = σ(z(2))       [N, H1]
    z3: FloatArray      # z(3) = W(2) a(2)     [N, H2]
    a3: FloatArray      # a(3) = σ(z(3))       [N, H2]
    z4: FloatArray      # z(4) = W(3) a(3)     [N, K]
    y_hat: FloatArray   # ŷ = σ(z(4)) (or z(4) for a linear output)   [N, K]


class PunchlineGradients(NamedTuple):
    """∂J/∂W(1), ∂J/∂W(2), ∂J/∂W(3), in the order of the forward's weights."""

    dW1: FloatArray   # [H1, D]
    dW2: FloatArray   # [H2, H1]
    dW3: FloatArray   # [K, H2]


def _rows(a: FloatArray) -> FloatArray:
    """A single example [W] as a batch of one [1, W]; a batch [N, W] as it is."""
    return a.reshape(-1, a.shape[-1])


def _check_output(func: str, output: Any) -> str:
    if not isinstance(output, str) or output not in OUTPUTS:
        raise fail(func, f"output must be one of {list(OUTPUTS)}, got {output!r}")
    return output


def _network(func: str, X: Any, W1: Any, W2: Any,
             W3: Any) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    X = as_float_array(func, "X", X, ndim=(1, 2))
    W1 = as_float_array(func, "W1", W1, ndim=2, finite=True)
    W2 = as_float_array(func, "W2", W2, ndim=2, finite=True)
    W3 = as_float_array(func, "W3", W3, ndim=2, finite=True)
    feeds = (("W1", W1, "X", X.shape[-1], "features"), ("W2", W2, "W1", W1.shape[0], "rows"),
             ("W3", W3, "W2", W2.shape[0], "rows"))
    for name, W, source, width, unit in feeds:     # each layer's input is the previous output
        if W.shape[1] != width:
            shapes = (f"X.shape = {X.shape}, W1.shape = {W1.shape}, W2.shape = {W2.shape}, "
                      f"W3.shape = {W3.shape}")
            raise fail(func, f"{name} expects {W.shape[1]} inputs but {source} has {width} "
                             f"{unit} ({shapes})")
    return X, W1, W2, W3


def _forward(func: str, X: Any, W1: Any, W2: Any, W3: Any, output: Any
             ) -> tuple[PunchlineForward, FloatArray, FloatArray, FloatArray, FloatArray]:
    out = _check_output(func, output)
    X, W1, W2, W3 = _network(func, X, W1, W2, W3)
    z2 = X @ W1.T                                     # z(2) = W(1) X
    a2 = sigmoid(z2)                                  # a(2) = σ(z(2))
    z3 = a2 @ W2.T                                    # z(3) = W(2) a(2)
    a3 = sigmoid(z3)                                  # a(3) = σ(z(3))
    z4 = a3 @ W3.T                                    # z(4) = W(3) a(3)
    y_hat = sigmoid(z4) if out == "sigmoid" else z4   # ŷ = σ(z(4))
    return PunchlineForward(z2, a2, z3, a3, z4, y_hat), X, W1, W2, W3


def punchline_forward(X: Any, W1: Any, W2: Any, W3: Any,
                      output: str = "sigmoid") -> PunchlineForward:
    """ŷ = σ(W(3) σ(W(2) σ(W(1) X))): the 3-layer sigmoid network of the slides, without biases.

    Shapes: X [N, D] or [D], W1 [H1, D], W2 [H2, H1], W3 [K, H2] → every value of
    PunchlineForward, [N, ·] (or 1-D for a 1-D X). ``output="identity"`` makes ŷ = z(4).

    Raises
    ------
    ValueError for mismatched sizes, non-finite weights or an unknown output.
    """
    return _forward("punchline_forward", X, W1, W2, W3, output)[0]


def _targets(func: str, y: Any, y_hat: FloatArray, output: str) -> FloatArray:
    y = as_float_array(func, "y", y, ndim=(1, 2), finite=True)
    if y.shape != y_hat.shape:
        raise fail(func, f"y must have the output's shape {y_hat.shape} (N, K), got {y.shape}")
    if output == "sigmoid" and np.any((y < 0) | (y > 1)):
        raise fail(func, f"y must lie in [0, 1] for binary cross-entropy, got values from "
                         f"{y.min()} to {y.max()}")
    return y


def punchline_loss(X: Any, y: Any, W1: Any, W2: Any, W3: Any, output: str = "sigmoid") -> float:
    """The loss that makes (ŷ − y) exact, summed over the batch.

    output="sigmoid":  J = −Σ [y log ŷ + (1 − y) log(1 − ŷ)]  (binary cross-entropy, computed
                       stably from z(4) by reference.losses.binary_cross_entropy_with_logits)
    output="identity": J = ½ Σ ‖ŷ − y‖²

    Shapes: as punchline_forward; y shaped like ŷ. Returns a float.
    """
    fwd = _forward("punchline_loss", X, W1, W2, W3, output)[0]
    y = _targets("punchline_loss", y, fwd.y_hat, output)
    if output == "sigmoid":   # the losses module averages; the punchline sums
        return binary_cross_entropy_with_logits(fwd.z4, y) * fwd.z4.size
    return squared_error(fwd.y_hat, y) * y.shape[0]   # squared_error divides by y.shape[0]


def punchline_gradients(X: Any, y: Any, W1: Any, W2: Any, W3: Any,
                        output: str = "sigmoid") -> PunchlineGradients:
    """∂J/∂W(3) = (ŷ−y)·a(3), ∂J/∂W(2) = (ŷ−y)·W(3)·σ'(z(3))·a(2),
    ∂J/∂W(1) = (ŷ−y)·W(3)·σ'(z(3))·W(2)·σ'(z(2))·X, computed literally (slide: "Punchline").

    J is punchline_loss: binary cross-entropy of a sigmoid output (or ½ squared error of a
    linear output), summed over the batch; under it (ŷ − y) = ∂J/∂z(4) exactly. The module
    docstring maps each "·" of the slide to a matrix, elementwise or outer product.

    Shapes: X [N, D] or [D], y like ŷ ([N, K] or [K]), W1 [H1, D], W2 [H2, H1], W3 [K, H2] →
    PunchlineGradients(dW1 [H1, D], dW2 [H2, H1], dW3 [K, H2]).

    Raises
    ------
    ValueError for mismatched sizes, non-finite weights or targets, y outside [0, 1] with the
    sigmoid output, or an unknown output.
    """
    fwd, X, W1, W2, W3 = _forward("punchline_gradients", X, W1, W2, W3, output)
    y = _targets("punchline_gradients", y, fwd.y_hat, output)
    X, a2, a3 = _rows(X), _rows(fwd.a2), _rows(fwd.a3)        # one example is a batch of one
    z2, z3 = _rows(fwd.z2), _rows(fwd.z3)
    error = _rows(fwd.y_hat - y)                              # (ŷ − y)
    dW3 = error.T @ a3                                        # (ŷ − y) · a(3)
    back3 = (error @ W3) * sigmoid_grad(z3)                   # (ŷ − y) · W(3) · σ'(z(3))
    dW2 = back3.T @ a2                                        #   ... · a(2)
    back2 = (back3 @ W2) * sigmoid_grad(z2)                   #   ... · W(2) · σ'(z(2))
    dW1 = back2.T @ X                                         #   ... · X
    return PunchlineGradients(dW1, dW2, dW3)
