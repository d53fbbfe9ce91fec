"""The neuron and the McCulloch-Pitts unit (lecture: "Neural Network Basics",
"McCulloch-Pitts \"unit\"", "Activation functions").

    A neuron produces a single output: o = s(Σ_i w_i x_i + b). This sum is called the activation
    of the neuron; the function s is called the activation function.

    McCulloch-Pitts unit: a_i ← g(in_i) = g(Σ_j W_{j,i} a_j).
    Changing the bias weight W_{0,i} moves the threshold location.

Notation
--------
N        batch size (rows of x; a single example may be given as a 1-D x)
D        number of inputs of the neuron
x        inputs [N, D] (or [D])
w        weights [D]
b        bias, a scalar
z        the neuron's activation z = Σ_i w_i x_i + b [N] (or a scalar)
o        its output o = s(z) [N] (or a scalar)
J        number of real inputs of a McCulloch-Pitts unit (a_1 .. a_J)
M        number of McCulloch-Pitts units sharing those inputs
a        the inputs a_1 .. a_J of the units [N, J] (or [J]); a_0 = −1 is added by the unit
W        unit weights W_{j,i} [J + 1] for one unit or [J + 1, M] for M units; row j = 0 is the
         bias weight W_0 on the fixed input a_0 = −1 (the slide's index order: from j to i)

Conventions
-----------
* The bias of a McCulloch-Pitts unit is the weight W_0 on a fixed input a_0 = −1, as in AIMA
  (Russell & Norvig), whence these slides come: in_i = Σ_{j≥1} W_{j,i} a_j − W_{0,i}, so the unit
  fires where Σ_{j≥1} W_{j,i} a_j ≥ W_{0,i}. W_0 is the threshold itself, and the unit equals a
  neuron with b = −W_0.
* With the step activation the unit fires at its threshold (step(0) = 1, CONVENTIONS).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference._checks import FloatArray, as_float_array, fail
from reference.activations import activation

__all__ = ["BIAS_INPUT", "mcculloch_pitts", "neuron", "neuron_backward", "threshold_location"]

BIAS_INPUT = -1.0
"""The fixed input a_0 that carries a McCulloch-Pitts unit's bias weight W_0 (AIMA's a_0 = −1)."""


def _neuron_inputs(func: str, x: Any, w: Any, b: Any) -> tuple[FloatArray, FloatArray, float]:
    x = as_float_array(func, "x", x, ndim=(1, 2))
    w = as_float_array(func, "w", w, ndim=1, finite=True)
    b_arr = as_float_array(func, "b", b, ndim=0, finite=True)
    if x.shape[-1] != w.shape[0]:
        raise fail(func, f"x has {x.shape[-1]} inputs but w has {w.shape[0]} weights "
                         f"(x.shape = {x.shape}, w.shape = {w.shape})")
    return x, w, float(b_arr)


def neuron(x: Any, w: Any, b: Any, s: str = "sigmoid") -> FloatArray:
    """A neuron: o = s(Σ_i w_i x_i + b).

    Shapes: x [N, D] → o [N]; x [D] → o [] (a 0-d array); w [D]; b a scalar. ``s`` names an
    activation of reference.activations.ACTIVATIONS.

    Raises
    ------
    ValueError : x not 1-D or 2-D, w not 1-D, b not a scalar, sizes that disagree, non-finite
        w or b, an unknown activation. TypeError : non-real input.
    """
    act = activation("neuron", s)
    x, w, b = _neuron_inputs("neuron", x, w, b)
    z = x @ w + b            # z = Σ_i w_i x_i + b, the activation of the neuron
    return act.f(z)          # o = s(z)


def neuron_backward(
    do: Any, x: Any, w: Any, b: Any, s: str = "sigmoid"
) -> tuple[FloatArray, FloatArray, float]:
    """Gradients of a neuron: δ = ∂L/∂o · s'(z); ∂L/∂x = δ w, ∂L/∂w = Σ_n δ_n x_n, ∂L/∂b = Σ_n δ_n.

    Shapes: do shaped like o ([N], or [] for a 1-D x), x [N, D] or [D], w [D], b scalar →
    (dx shaped like x, dw [D], db a float).

    Raises
    ------
    ValueError : as ``neuron``, and ``do`` not shaped like o. TypeError : non-real input.
    """
    act = activation("neuron_backward", s)
    x, w, b = _neuron_inputs("neuron_backward", x, w, b)
    do = as_float_array("neuron_backward", "do", do)
    if do.shape != x.shape[:-1]:
        raise fail("neuron_backward", f"do must have the shape of the output {x.shape[:-1]}, "
                                      f"got {do.shape} (x.shape = {x.shape})")
    z = x @ w + b
    delta = do * act.df(z)                 # δ = ∂L/∂o · s'(z)
    dx = np.multiply.outer(delta, w)       # ∂L/∂x_i = δ w_i
    dw = delta @ x if x.ndim == 2 else delta * x   # ∂L/∂w_i = Σ_n δ_n x_{n,i}
    db = float(np.sum(delta))              # ∂L/∂b = Σ_n δ_n
    return dx, dw, db


# ---------------------------------------------------------------- McCulloch-Pitts
def _unit_inputs(func: str, a: Any, W: Any) -> tuple[FloatArray, FloatArray]:
    a = as_float_array(func, "a", a, ndim=(1, 2))
    W = as_float_array(func, "W", W, ndim=(1, 2), finite=True)
    if W.shape[0] != a.shape[-1] + 1:
        raise fail(func, f"W must have one row per input plus the bias row W_0: a has "
                         f"{a.shape[-1]} inputs, so W needs {a.shape[-1] + 1} rows, got "
                         f"W.shape = {W.shape}")
    return a, W


def mcculloch_pitts(a: Any, W: Any, g: str = "step") -> FloatArray:
    """McCulloch-Pitts units: a_i = g(Σ_{j=0..J} W_{j,i} a_j) with the fixed input a_0 = −1.

    Shapes: a [N, J] or [J]; W [J + 1] (one unit) or [J + 1, M] (M units), row 0 the bias
    weight W_0 → a_i [N] or [N, M] (without the batch axis for a 1-D a).

    Notes
    -----
    in_i = Σ_{j≥1} W_{j,i} a_j − W_{0,i}: the unit fires where the weighted inputs reach W_{0,i},
    its threshold; see threshold_location.
    """
    act = activation("mcculloch_pitts", g)
    a, W = _unit_inputs("mcculloch_pitts", a, W)
    a0 = np.full((*a.shape[:-1], 1), BIAS_INPUT)
    a_ext = np.concatenate([a0, a], axis=-1)      # (a_0 = −1, a_1, ..., a_J)
    in_i = a_ext @ W                              # in_i = Σ_j W_{j,i} a_j
    return act.f(in_i)                            # a_i = g(in_i)


def threshold_location(W: Any) -> FloatArray:
    """Where a McCulloch-Pitts unit switches: the point a* = W_0 w / ‖w‖² with w = (W_1..W_J).

    The unit's input is zero on the hyperplane Σ_{j≥1} W_j a_j = W_0; a* is the point of that
    hyperplane closest to the origin (for a single input, a* = W_0 / W_1). It moves linearly
    with the bias weight: raising W_0 by t moves the threshold by t w / ‖w‖² along w.

    Shapes: W [J + 1] (one unit, row 0 the bias weight) → a* [J].

    Raises
    ------
    ValueError : W not 1-D with at least two entries, non-finite, or all input weights zero
        (then the unit is constant and has no threshold).
    """
    W = as_float_array("threshold_location", "W", W, ndim=1, finite=True)
    if W.shape[0] < 2:
        raise fail("threshold_location", f"W must hold the bias weight W_0 and at least one "
                                         f"input weight, got W.shape = {W.shape}")
    W0, w = W[0], W[1:]
    norm2 = float(w @ w)
    if norm2 == 0.0:
        raise fail("threshold_location", f"the input weights are all zero (W = {W.tolist()}): "
                                         f"the unit is constant and has no threshold")
    return W0 * w / norm2          # a* with w·a* = W_0
