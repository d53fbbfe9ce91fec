"""The topologies of a recurrent network (lecture: "Topologies of Recurrent Neural Network"):
thin compositions of the one cell of reference.rnn, s_t = f(U x_t + W s_{t−1} + b), read out by
o_t = softmax(V s_t + c).

    one to one            x → o                    a feed-forward network (the zero state)
    one to many           x, 0, 0, ... → o_0 .. o_{S−1}      e.g. predicting future states
    many to one           x_0 .. x_{T−1} → o_{T−1}          e.g. sentiment classification
    many to many, delayed x_0 .. x_{T−1}, 0, ... → S outputs after the input, e.g. translation
    many to many, synced  x_t → o_t for every t               e.g. sequence labelling

Notation and shapes as reference.rnn: x [T, N, D] time-major (one step: [N, D]), s0 [N, H],
U [H, D], W [H, H], b [H], V [K, H], c [K]; outputs o [..., N, K]; ``steps`` = S ≥ 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference._checks import FloatArray, as_float_array, as_sequence, fail
from reference.activations import activation
from reference.losses import softmax
from reference.rnn import _forward, _output_params, _sequence_inputs, _weights

__all__ = [
    "many_to_many_delayed",
    "many_to_many_synced",
    "many_to_one",
    "one_to_many",
    "one_to_one",
]


def _synced(func: str, x: Any, s0: Any, U: Any, W: Any, b: Any, V: Any, c: Any,
            f: str) -> FloatArray:
    act = activation(func, f)
    x, s0, U, W, b = _sequence_inputs(func, x, s0, U, W, b)
    V, c = _output_params(func, V, c, U.shape[0])
    s, _ = _forward(x, s0, U, W, b, act)
    return softmax(s[:-1] @ V.T + c)                        # o_t = softmax(V s_t + c)


def many_to_many_synced(x: Any, s0: Any, U: Any, W: Any, b: Any, V: Any, c: Any,
                        f: str = "tanh") -> FloatArray:
    """Many to many, synced (sequence labelling): an output o_t for every input x_t.

    Shapes: x [T, N, D], s0 [N, H], U, W, b as rnn_forward, V [K, H], c [K] → o [T, N, K].
    """
    return _synced("many_to_many_synced", x, s0, U, W, b, V, c, f)


def many_to_one(x: Any, s0: Any, U: Any, W: Any, b: Any, V: Any, c: Any,
                f: str = "tanh") -> FloatArray:
    """Many to one (sentiment classification): read the sequence, one output from s_{T−1}.

    Shapes: as many_to_many_synced → o [N, K].
    """
    return _synced("many_to_one", x, s0, U, W, b, V, c, f)[-1]


def one_to_one(x: Any, U: Any, W: Any, b: Any, V: Any, c: Any, f: str = "tanh") -> FloatArray:
    """One to one (a feed-forward network): one step from the zero state,
    o = softmax(V f(U x + b) + c); W meets only the zero state, so it plays no part.

    Shapes: x [N, D], U, W, b, V, c as many_to_one → o [N, K].
    """
    U, W, b = _weights("one_to_one", U, W, b)
    x = as_float_array("one_to_one", "x", x, ndim=2, finite=True)
    return _synced("one_to_one", x[None], np.zeros((x.shape[0], U.shape[0])), U, W, b, V, c,
                   f)[0]


def _positive_steps(func: str, steps: Any) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"{func}: steps must be an integer, got {steps!r}")
    if steps < 1:
        raise fail(func, f"steps must be at least 1, got {steps}")
    return int(steps)


def one_to_many(x: Any, s0: Any, U: Any, W: Any, b: Any, V: Any, c: Any, steps: int,
                f: str = "tanh") -> FloatArray:
    """One to many (predict future states from a single observation): x at step 0, then zero
    inputs, an output at each of ``steps`` steps.

    Shapes: x [N, D], s0 [N, H], U, W, b, V, c as many_to_one → o [steps, N, K].
    """
    steps = _positive_steps("one_to_many", steps)
    x = as_float_array("one_to_many", "x", x, ndim=2, finite=True)
    inputs = np.zeros((steps, *x.shape))
    inputs[0] = x                                           # [x, 0, ..., 0]
    return _synced("one_to_many", inputs, s0, U, W, b, V, c, f)


def many_to_many_delayed(x: Any, s0: Any, U: Any, W: Any, b: Any, V: Any, c: Any, steps: int,
                         f: str = "tanh") -> FloatArray:
    """Many to many, delayed (machine translation): read all of x, then write ``steps`` outputs
    while the inputs are zero.

    Shapes: x [T, N, D], s0, U, W, b, V, c as many_to_one → o [steps, N, K].
    """
    steps = _positive_steps("many_to_many_delayed", steps)
    x = as_sequence("many_to_many_delayed", "x", x)
    inputs = np.concatenate([x, np.zeros((steps, *x.shape[1:]))])  # [x_0 .. x_{T−1}, 0, ..., 0]
    return _synced("many_to_many_delayed", inputs, s0, U, W, b, V, c, f)[-steps:]
